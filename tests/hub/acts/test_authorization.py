"""The authorisation matrix, generated from the application's route table (its OpenAPI document):
no route without a key except the public ones, and an office never reaches another office's
objects through any route: 401/403/404, never their data."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from hub.database import unit_of_work
from hub.offices import service as offices
from tests.hub.acts.factories import bearer, report, report_json, seed, write_batch_file

PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/v1/receipts/public-key")}
DOCS = ["/openapi.json", "/docs", "/redoc"]


def operations(app: FastAPI) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, ops in app.openapi()["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    ]


async def test_no_route_answers_without_a_key_except_health_docs_and_the_receipt_key(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ops = operations(app)
    assert ("POST", "/v1/act-reports/batch") in ops and len(ops) > 10
    for method, path in ops:
        url = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
        answer = await client.request(
            method, url, content=b"{}", headers={"Content-Type": "application/json"}
        )
        if (method, path) in PUBLIC:
            assert answer.status_code < 500, (method, path)
        else:
            assert answer.status_code == 401, (method, path, answer.status_code, answer.text)
    for path in DOCS:
        assert (await client.get(path)).status_code == 200


@pytest.fixture
async def two_offices(app: FastAPI, client: httpx.AsyncClient, tmp_path: Any) -> dict[str, Any]:
    async with unit_of_work(app.state.sessions) as session:
        a = await seed(session)
        b = await seed(session)
        key_a = (await offices.create_key(session, a.office.code)).secret
        key_b = (await offices.create_key(session, b.office.code)).secret
    sent = await client.post(
        "/v1/act-reports",
        content=report_json(a.office.code, a.mandate.ref, 1),
        headers=bearer(key_a, **{"Content-Type": "application/json"}),
    )
    assert sent.status_code == 202, sent.text
    path = tmp_path / "a.xml"
    write_batch_file(path, a.office.code, a.mandate.ref, 2)
    batch = await client.post(
        "/v1/act-reports/batch",
        content=path.read_bytes(),
        headers=bearer(key_a, **{"Content-Type": "application/xml"}),
    )
    assert batch.status_code == 200, batch.text
    message = (await client.get(f"/v1/messages/CR-{a.office.code}-1", headers=bearer(key_a))).json()["id"]
    return {
        "a": a,
        "b": b,
        "key_a": key_a,
        "key_b": key_b,
        "message": message,
        "batch": batch.json()["batch_id"],
    }


def _a_object(path: str, name: str, objects: dict[str, Any]) -> str:
    a = objects["a"]
    if name == "batch_id":
        return str(objects["batch"])
    if name in ("message_pk",) or path.startswith("/v1/messages/{ref}"):
        return str(objects["message"])
    if path.startswith("/v1/mandates/"):
        return str(a.mandate.ref)
    if path.startswith("/v1/cases/"):
        return str(a.case.ref)
    if name == "item_id":
        return "1"
    return f"APR-{a.office.code}"


def _body(path: str, objects: dict[str, Any]) -> bytes:
    a, b = objects["a"], objects["b"]
    if path in ("/v1/act-reports", "/v1/messages"):
        return json.dumps(report(b.office.code, a.mandate.ref, "x")).encode()
    if path == "/v1/mandate-acks":
        return json.dumps(
            {
                "envelope": {
                    **report(b.office.code, a.mandate.ref, "ack")["envelope"],
                    "kind": "mandate_ack",
                },
                "mandate_ref": a.mandate.ref,
                "accepted": True,
            }
        ).encode()
    if path == "/v1/cost-requests":
        return json.dumps(
            {
                "envelope": {
                    **report(b.office.code, a.mandate.ref, "ask")["envelope"],
                    "kind": "cost_request",
                },
                "mandate_ref": a.mandate.ref,
                "act_code": "SUMMONS",
                "estimated_fees_cents": 1828,
                "justification": "b asks on a's mandate",
            }
        ).encode()
    return b"{}"


async def test_an_office_never_reaches_another_offices_objects(
    app: FastAPI, client: httpx.AsyncClient, two_offices: dict[str, Any]
) -> None:
    a = two_offices["a"]
    secrets_of_a = [a.office.code, str(a.case.id), a.case.ref, str(two_offices["message"])]
    headers = bearer(two_offices["key_b"], **{"Content-Type": "application/json"})
    for method, path in operations(app):
        if (method, path) in PUBLIC or path == "/v1/act-reports/batch":
            continue
        url = path
        for name in re.findall(r"\{([^}]+)\}", path):
            url = url.replace("{" + name + "}", _a_object(path, name, two_offices))
        sent = _body(path, two_offices)
        answer = await client.request(method, url, content=sent, headers=headers)
        where = (method, path, answer.status_code, answer.text[:300])
        assert answer.status_code < 500, where
        if "{" in path or (
            method == "POST"
            and path in ("/v1/act-reports", "/v1/mandate-acks", "/v1/messages", "/v1/cost-requests")
        ):
            assert answer.status_code in (401, 403, 404, 422), where
        leaked = [s for s in secrets_of_a if s in answer.text and s not in url and s.encode() not in sent]
        assert not leaked, (where, leaked)

    # The batch route with another office's mandate in every record: each refused as not found.
    records = await client.post(
        "/v1/act-reports/batch",
        content=_batch_for_b(two_offices),
        headers=bearer(two_offices["key_b"], **{"Content-Type": "application/xml"}),
    )
    assert records.status_code == 200
    assert records.json()["accepted_count"] == 0
    assert {r["errors"][0]["code"] for r in records.json()["refused"]} == {"mandate.not_found"}


def _batch_for_b(objects: dict[str, Any]) -> bytes:
    import io

    from adapters.xml import codec
    from tests.hub.acts.factories import batch_reports

    sink = io.BytesIO()
    codec.write_batch(batch_reports(objects["b"].office.code, objects["a"].mandate.ref, 3), sink)
    return sink.getvalue()
