"""The HTTP edge: health, readiness, problem+json everywhere, body limit, office authentication."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from hub.acts.models import ActReport
from hub.app import create_app
from hub.database import session_factory, unit_of_work
from hub.inventory.models import InventoryResult
from hub.invoices.models import Invoice
from hub.kit.idempotency import IdempotencyRecord
from hub.mandates.models import Mandate
from hub.messaging.models import StoredMessage
from hub.offices import service as offices
from hub.offices.models import Office
from hub.settings import Settings
from tests.hub.acts.factories import bearer, renumbered_batch, report, report_json, seed
from tests.hub.invoices.factories import World, v1_invoice, world

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "errors"}
JSON, XML = "application/json", "application/xml"
JSON_TYPE = {"Content-Type": JSON}


async def test_healthz_answers_while_the_process_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_database_up_and_embedded_broker(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "up", "broker": "embedded"}


async def test_readyz_is_503_with_the_reason_when_the_database_is_unreachable() -> None:
    settings = Settings(
        env="test", database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", secret_key="t" * 40
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as client,
    ):
        response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert body["code"] == "not_ready"
    assert "database unreachable" in body["detail"]


async def test_unknown_route_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) == PROBLEM_KEYS
    assert body["status"] == 404 and body["code"] == "not_found"


async def test_openapi_and_docs_are_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/healthz" in spec["paths"] and "/v1/me" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200


BODY_LIMIT, INVOICE_LIMIT, BATCH_LIMIT = 2048, 4096, 6144


@pytest.fixture
async def small_limit_app(settings: Settings) -> AsyncIterator[FastAPI]:
    limits = {
        "max_body_bytes": BODY_LIMIT,
        "max_invoice_bytes": INVOICE_LIMIT,
        "max_batch_bytes": BATCH_LIMIT,
    }
    app = create_app(settings.model_copy(update=limits))

    @app.post("/echo-length")
    async def echo_length(body: dict[str, str]) -> dict[str, int]:
        return {"length": len(body.get("x", ""))}

    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def limited_client(small_limit_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=small_limit_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield client


async def test_body_over_the_limit_is_413_before_parsing(limited_client: httpx.AsyncClient) -> None:
    ok = await limited_client.post("/echo-length", json={"x": "a" * 100})
    too_big = await limited_client.post("/echo-length", json={"x": "a" * 5000})
    assert ok.status_code == 200 and ok.json() == {"length": 100}
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "payload_too_large"


async def in_chunks(body: bytes, size: int = 500) -> AsyncIterator[bytes]:
    """``body`` as a chunked upload (no Content-Length), ``size`` bytes per chunk."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_chunked_body_over_the_limit_is_413(limited_client: httpx.AsyncClient) -> None:
    body = b'{"x": "' + b"a" * 5000 + b'"}'
    response = await limited_client.post(
        "/echo-length", content=in_chunks(body), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def padded(body: bytes, size: int) -> bytes:
    """``body`` with trailing whitespace up to ``size`` bytes: the same valid message, only bigger."""
    assert len(body) <= size
    return body + b" " * (size - len(body))


async def stored_rows(app: FastAPI, office: Office) -> dict[str, int]:
    """What the office's requests left in the store."""
    counted = {
        "messages": select(func.count())
        .select_from(StoredMessage)
        .where(StoredMessage.sender == office.code),
        "act_reports": select(func.count()).select_from(ActReport).where(ActReport.office_id == office.id),
        "invoices": select(func.count()).select_from(Invoice).where(Invoice.office_id == office.id),
        "inventories": select(func.count())
        .select_from(InventoryResult)
        .where(InventoryResult.office_id == office.id),
        "idempotency": select(func.count())
        .select_from(IdempotencyRecord)
        .where(IdempotencyRecord.office_id == office.id),
    }
    async with unit_of_work(app.state.sessions) as session:
        return {name: (await session.execute(query)).scalar_one() for name, query in counted.items()}


def mandate_ack(code: str, mandate_ref: str) -> bytes:
    envelope = {
        **report(code, mandate_ref)["envelope"],
        "message_id": f"ACK-{mandate_ref}",
        "kind": "mandate_ack",
    }
    return json.dumps({"envelope": envelope, "mandate_ref": mandate_ref, "accepted": True}).encode()


def hold_notice_ack(code: str, mandate_ref: str) -> bytes:
    envelope = {
        **report(code, mandate_ref)["envelope"],
        "message_id": f"HNA-{code}",
        "kind": "hold_notice_ack",
    }
    return json.dumps({"envelope": envelope, "notice_id": "HUB-HLD-1", "mandate_ref": mandate_ref}).encode()


def case_update_ack(code: str, case_ref: str) -> bytes:
    envelope = {
        **report(code, case_ref)["envelope"],
        "message_id": f"CUA-{code}",
        "kind": "case_update_ack",
    }
    return json.dumps({"envelope": envelope, "update_id": "HUB-CUPD-1", "case_ref": case_ref}).encode()


def invoice(w: World, number: str) -> bytes:
    line = {
        "office_act_reference": "A/1",
        "description": "Signification",
        "net_cents": 5158,
        "vat_rate_bp": 2000,
    }
    return v1_invoice(w, number, [line])


def batch_file(code: str, mandate_ref: str, records: int) -> bytes:
    """A batch of ``records`` act reports numbered apart from the single ones (B<records>-<n>)."""
    return renumbered_batch(code, mandate_ref, records, numbered=lambda n: f"B{records}-{n}")


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
async def test_every_office_route_refuses_a_body_over_its_limit_and_stores_nothing(
    small_limit_app: FastAPI, limited_client: httpx.AsyncClient, chunked: bool
) -> None:
    w = await world(small_limit_app)
    code, mandate = w.code, w.seeded.mandate.ref
    async with unit_of_work(small_limit_app.state.sessions) as session:
        # The act reports go to a mandate ordering enough acts not to complete under them.
        reported = (await seed(session, office=w.seeded.office, acts=["SERVE_TITLE"] * 8)).mandate.ref
    over: dict[str, tuple[bytes, str]] = {
        "/v1/act-reports": (padded(report_json(code, reported, 1), BODY_LIMIT + 1), JSON),
        "/v1/messages": (padded(report_json(code, reported, 2), BODY_LIMIT + 1), JSON),
        "/v1/mandate-acks": (padded(mandate_ack(code, mandate), BODY_LIMIT + 1), JSON),
        "/v1/hold-notice-acks": (padded(hold_notice_ack(code, mandate), BODY_LIMIT + 1), JSON),
        "/v1/case-update-acks": (padded(case_update_ack(code, mandate), BODY_LIMIT + 1), JSON),
        "/v1/inventory": (
            padded(json.dumps({"mandates": [{"ref": mandate}]}).encode(), BODY_LIMIT + 1),
            JSON,
        ),
        "/v1/invoices": (padded(invoice(w, "F-1"), INVOICE_LIMIT + 1), JSON),
        # its own limit: a file of 10 records, over BATCH_LIMIT
        "/v1/act-reports/batch": (batch_file(code, reported, 10), XML),
    }
    before = await stored_rows(small_limit_app, w.seeded.office)
    for route, (body, content_type) in over.items():
        headers = bearer(w.key, **{"Content-Type": content_type, "Idempotency-Key": f"k-{route}"})
        answer = await limited_client.post(
            route, content=in_chunks(body) if chunked else body, headers=headers
        )
        assert ("content-length" in answer.request.headers) is not chunked
        assert answer.status_code == 413, (route, answer.status_code, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "payload_too_large", route
    assert await stored_rows(small_limit_app, w.seeded.office) == before

    # The same messages under the limits are applied, under the same Idempotency-Keys (none was kept).
    under: dict[str, tuple[bytes, str, int]] = {
        "/v1/act-reports": (padded(report_json(code, reported, 1), BODY_LIMIT), JSON, 202),
        "/v1/messages": (padded(report_json(code, reported, 2), BODY_LIMIT), JSON, 202),
        "/v1/inventory": (
            padded(json.dumps({"mandates": [{"ref": mandate}]}).encode(), BODY_LIMIT),
            JSON,
            200,
        ),
        # the larger limits of invoices and batches, not the one of the other routes
        "/v1/invoices": (padded(invoice(w, "F-1"), INVOICE_LIMIT), JSON, 202),
        "/v1/act-reports/batch": (padded(batch_file(code, reported, 5), BATCH_LIMIT), XML, 200),
    }
    for route, (body, content_type, status) in under.items():
        headers = bearer(w.key, **{"Content-Type": content_type, "Idempotency-Key": f"k-{route}"})
        answer = await limited_client.post(
            route, content=in_chunks(body) if chunked else body, headers=headers
        )
        assert answer.status_code == status, (route, answer.status_code, answer.text)
        assert answer.headers.get("Idempotent-Replayed") is None
    after = await stored_rows(small_limit_app, w.seeded.office)
    assert after["act_reports"] == before["act_reports"] + 2 + 5
    assert after["invoices"] == before["invoices"] + 1 and after["inventories"] == 1
    assert after["idempotency"] == before["idempotency"] + len(under)


async def test_a_mandate_ack_under_the_limit_is_applied_chunked_or_not(
    small_limit_app: FastAPI, limited_client: httpx.AsyncClient
) -> None:
    async with unit_of_work(small_limit_app.state.sessions) as session:
        first = await seed(session)
        second = await seed(session, office=first.office)
        key = (await offices.create_key(session, first.office.code)).secret
    headers = bearer(key, **JSON_TYPE)
    for chunked, s in ((True, first), (False, second)):
        body = padded(mandate_ack(s.office.code, s.mandate.ref), BODY_LIMIT)
        answer = await limited_client.post(
            "/v1/mandate-acks", content=in_chunks(body) if chunked else body, headers=headers
        )
        assert answer.status_code == 202, answer.text
    async with unit_of_work(small_limit_app.state.sessions) as session:
        for s in (first, second):
            assert (await session.get(Mandate, s.mandate.id)).status == "acknowledged"  # type: ignore[union-attr]


async def test_office_routes_need_a_valid_key(client: httpx.AsyncClient, app: FastAPI) -> None:
    async with unit_of_work(app.state.sessions) as session:
        code = f"CJT{__import__('secrets').token_hex(3).upper()}"
        await offices.add_office(session, code=code, name="Étude Test", departements=["75"])
        issued = await offices.create_key(session, code)

    missing = await client.get("/v1/me")
    assert missing.status_code == 401 and missing.json()["code"] == "auth.missing_key"
    forged = await client.get("/v1/me", headers={"Authorization": f"Bearer {issued.secret[:-2]}xx"})
    assert forged.status_code == 401 and forged.json()["code"] == "auth.invalid_key"

    good = await client.get("/v1/me", headers={"Authorization": f"Bearer {issued.secret}"})
    assert good.status_code == 200
    assert good.json()["code"] == code

    async with unit_of_work(session_factory(app.state.engine)) as session:
        await offices.revoke_key(session, issued.key_id)
    # As the revoke route does; a revocation in another process lapses with the key cache
    # (tests/hub/offices/test_api.py).
    app.state.key_cache.evict(issued.key_id)
    revoked = await client.get("/v1/me", headers={"Authorization": f"Bearer {issued.secret}"})
    assert revoked.status_code == 401 and revoked.json()["code"] == "auth.revoked_key"


async def test_a_write_that_waits_in_vain_on_sqlite_is_503_and_applies_nothing(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    path = settings.sqlite_path()
    if path is None:
        pytest.skip("SQLite's one writer at a time; PostgreSQL writers wait on rows, not the file")
    async with unit_of_work(app.state.sessions) as session:
        s = await seed(session)
        key = (await offices.create_key(session, s.office.code)).secret
    headers = bearer(key, **JSON_TYPE)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing to the embedded database
    try:
        # The hub waits its busy_timeout (10 s) for the lock, then answers instead of a 500.
        busy = await client.post(
            "/v1/act-reports", content=report_json(s.office.code, s.mandate.ref, 1), headers=headers
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert busy.status_code == 503, busy.text
    assert busy.json()["code"] == "database.busy" and busy.headers["retry-after"] == "1"
    retried = await client.post(
        "/v1/act-reports", content=report_json(s.office.code, s.mandate.ref, 1), headers=headers
    )
    assert retried.status_code == 202, retried.text  # the first try left nothing: not a duplicate
