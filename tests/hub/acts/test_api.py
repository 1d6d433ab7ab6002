"""The office routes of act reports: receipts, idempotency, rate limits, batches."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from adapters.xml import codec
from hub.acts import batch as batches
from hub.acts.models import ActReport
from hub.database import unit_of_work
from hub.kit.ratelimit import RateLimiter
from hub.mandates.models import Mandate, MandateEvent
from hub.offices import service as offices
from schemas import v1
from tests.hub.acts.factories import Seeded, bearer, report, report_json, seed, write_batch_file


@pytest.fixture
async def seeded(app: FastAPI) -> tuple[Seeded, str]:
    async with unit_of_work(app.state.sessions) as session:
        s = await seed(session)
        key = (await offices.create_key(session, s.office.code)).secret
    return s, key


async def reports_of(app: FastAPI, s: Seeded) -> int:
    async with unit_of_work(app.state.sessions) as session:
        found = await session.execute(
            select(func.count()).select_from(ActReport).where(ActReport.office_id == s.office.id)
        )
        return int(found.scalar_one())


async def test_an_act_report_in_json_or_xml_gets_the_signed_receipt(
    app: FastAPI, client: httpx.AsyncClient, seeded: tuple[Seeded, str]
) -> None:
    s, key = seeded
    as_json = await client.post(
        "/v1/act-reports",
        content=report_json(s.office.code, s.mandate.ref, 1),
        headers=bearer(key, **{"Content-Type": "application/json"}),
    )
    assert as_json.status_code == 202, as_json.text
    assert as_json.json()["accepted"] is True and as_json.json()["signature_alg"] == "Ed25519"
    xml = codec.encode(v1.ActReport.model_validate_json(json.dumps(report(s.office.code, s.mandate.ref, 2))))
    as_xml = await client.post(
        "/v1/act-reports", content=xml, headers=bearer(key, **{"Content-Type": "application/xml"})
    )
    assert as_xml.status_code == 202, as_xml.text
    assert await reports_of(app, s) == 2

    refused = await client.post(
        "/v1/act-reports",
        content=report_json(s.office.code, "M-NOT-MINE", 3),
        headers=bearer(key, **{"Content-Type": "application/json"}),
    )
    assert refused.status_code == 404 and refused.json()["code"] == "mandate.not_found"
    assert refused.json()["receipt"]["accepted"] is False


async def test_idempotency_replays_byte_for_byte_and_refuses_another_body(
    app: FastAPI, client: httpx.AsyncClient, seeded: tuple[Seeded, str]
) -> None:
    s, key = seeded
    headers = bearer(key, **{"Content-Type": "application/json", "Idempotency-Key": "k-1"})
    body = report_json(s.office.code, s.mandate.ref, 1)
    first = await client.post("/v1/act-reports", content=body, headers=headers)
    again = await client.post("/v1/act-reports", content=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    other = await client.post(
        "/v1/act-reports", content=report_json(s.office.code, s.mandate.ref, 2), headers=headers
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency.key_reused"
    assert await reports_of(app, s) == 1


@pytest.mark.postgres
async def test_fifty_concurrent_requests_with_one_key_store_one_report(
    app: FastAPI, client: httpx.AsyncClient, seeded: tuple[Seeded, str], database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrency is shown on PostgreSQL")
    s, key = seeded
    headers = bearer(key, **{"Content-Type": "application/json", "Idempotency-Key": "same"})
    body = report_json(s.office.code, s.mandate.ref, 1)
    answers = await asyncio.gather(
        *(client.post("/v1/act-reports", content=body, headers=headers) for _ in range(50))
    )
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {202, 409}, statuses
    assert await reports_of(app, s) == 1
    firsts = [a.content for a in answers if a.status_code == 202]
    assert len(set(firsts)) == 1  # replays, if any, are the first answer


async def test_a_key_over_its_rate_gets_429_with_retry_after(
    app: FastAPI, client: httpx.AsyncClient, seeded: tuple[Seeded, str]
) -> None:
    s, key = seeded
    app.state.rate_limiter = RateLimiter(rate=0.5, burst=2)
    answers = [
        await client.post(
            "/v1/act-reports",
            content=report_json(s.office.code, s.mandate.ref, n),
            headers=bearer(key, **{"Content-Type": "application/json"}),
        )
        for n in range(3)
    ]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert int(answers[2].headers["retry-after"]) >= 1


def mandate_ack(s: Seeded, sample: str) -> dict[str, Any]:
    ack: dict[str, Any] = json.loads((v1.SAMPLES_DIR / "valid" / sample).read_text())
    ack["envelope"]["sender"] = s.office.code
    ack["mandate_ref"] = s.mandate.ref
    return ack


async def mandate_of(app: FastAPI, s: Seeded) -> tuple[str, list[tuple[str, str | None]]]:
    async with unit_of_work(app.state.sessions) as session:
        mandate = await session.get(Mandate, s.mandate.id, populate_existing=True)
        assert mandate is not None
        events = await session.execute(
            select(MandateEvent.actor, MandateEvent.reason)
            .where(MandateEvent.mandate_id == s.mandate.id)
            .order_by(MandateEvent.id)
        )
        return mandate.status, [(actor, reason) for actor, reason in events]


async def test_mandate_acks_are_received_on_their_route(
    app: FastAPI, client: httpx.AsyncClient, seeded: tuple[Seeded, str]
) -> None:
    s, key = seeded
    answer = await client.post(
        "/v1/mandate-acks", json=mandate_ack(s, "mandate_ack_accepted.json"), headers=bearer(key)
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["envelope"]["kind"] == "receipt" and answer.json()["accepted"] is True
    status, events = await mandate_of(app, s)
    assert status == "acknowledged" and events[-1][0] == s.office.code


async def test_a_refusal_carries_its_coded_reason_to_the_mandate(
    app: FastAPI, client: httpx.AsyncClient, seeded: tuple[Seeded, str]
) -> None:
    s, key = seeded
    refusal = mandate_ack(s, "mandate_ack_refused.json")
    uncoded = {**refusal, "reason": "too_busy"}
    answer = await client.post("/v1/mandate-acks", json=uncoded, headers=bearer(key))
    assert answer.status_code == 422 and answer.json()["errors"][0]["path"] == "/reason"
    assert (await mandate_of(app, s))[0] == "issued"

    answer = await client.post("/v1/mandate-acks", json=refusal, headers=bearer(key))
    assert answer.status_code == 202, answer.text
    status, events = await mandate_of(app, s)
    assert status == "refused"
    actor, reason = events[-1]
    assert actor == s.office.code and reason is not None and reason.startswith("out_of_territory: ")


async def test_a_route_takes_only_its_own_kind(
    app: FastAPI, client: httpx.AsyncClient, seeded: tuple[Seeded, str]
) -> None:
    s, key = seeded
    ack = mandate_ack(s, "mandate_ack_accepted.json")
    wrong = await client.post("/v1/act-reports", json=ack, headers=bearer(key))
    assert wrong.status_code == 422, wrong.text
    [error] = wrong.json()["errors"]
    assert (error["path"], error["code"]) == ("/envelope/kind", "envelope.kind_not_for_route")
    assert "act_report" in error["message"] and wrong.json()["receipt"]["accepted"] is False
    assert (await mandate_of(app, s))[0] == "issued"  # refused, so not applied
    report = json.loads(report_json(s.office.code, s.mandate.ref, 1))
    assert (await client.post("/v1/mandate-acks", json=report, headers=bearer(key))).status_code == 422
    assert await reports_of(app, s) == 0
    # The same acknowledgement, under a new message id, on its own route or on /v1/messages.
    ack["envelope"]["message_id"] = "ACK-RIGHT-ROUTE"
    assert (await client.post("/v1/messages", json=ack, headers=bearer(key))).status_code == 202


async def test_a_batch_lists_accepted_and_refused_records_and_is_stored(
    app: FastAPI, client: httpx.AsyncClient, seeded: tuple[Seeded, str], tmp_path: Path
) -> None:
    s, key = seeded
    path = tmp_path / "batch.xml"
    write_batch_file(path, s.office.code, s.mandate.ref, 40, bad_every=10)
    raw = (
        path.read_bytes()
        .replace(b"<ns0:", b"<ns0:")
        .replace(b"CR-" + s.office.code.encode() + b"-5<", b"CR-" + s.office.code.encode() + b"-5<")
    )
    answer = await client.post(
        "/v1/act-reports/batch", content=raw, headers=bearer(key, **{"Content-Type": "application/xml"})
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["accepted_count"], result["refused_count"]) == (36, 4)
    assert {r["index"] for r in result["refused"]} == {10, 20, 30, 40}
    assert {r["errors"][0]["code"] for r in result["refused"]} == {"mandate.not_found", "act_date.in_future"}
    assert await reports_of(app, s) == 36

    stored = await client.get(f"/v1/batches/{result['batch_id']}", headers=bearer(key))
    assert stored.status_code == 200
    assert stored.json()["accepted_count"] == 36 and stored.json()["refused_count"] == 4

    async with unit_of_work(app.state.sessions) as session:
        other = await seed(session)
        other_key = (await offices.create_key(session, other.office.code)).secret
    assert (
        await client.get(f"/v1/batches/{result['batch_id']}", headers=bearer(other_key))
    ).status_code == 404


async def test_a_batch_answer_lists_a_window_of_the_file_and_the_rest_pages_from_the_store(
    app: FastAPI,
    client: httpx.AsyncClient,
    seeded: tuple[Seeded, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s, key = seeded
    monkeypatch.setattr(batches, "LISTED", 15)  # 1,000 in service: a 40-record file shows the paging
    path = tmp_path / "batch.xml"
    write_batch_file(path, s.office.code, s.mandate.ref, 40, bad_every=10)
    answer = await client.post(
        "/v1/act-reports/batch",
        content=path.read_bytes(),
        headers=bearer(key, **{"Content-Type": "application/xml"}),
    )
    assert answer.status_code == 200, answer.text
    first = answer.json()
    assert (first["accepted_count"], first["refused_count"], first["next_after"]) == (36, 4, 15)

    def places(page: dict[str, Any]) -> list[int]:
        return sorted(r["index"] for r in page["accepted"] + page["refused"])

    assert places(first) == list(range(1, 16))
    url = f"/v1/batches/{first['batch_id']}"
    pages = [first]
    while pages[-1]["next_after"] is not None:
        page = await client.get(
            url, params={"after": pages[-1]["next_after"], "limit": 15}, headers=bearer(key)
        )
        assert page.status_code == 200, page.text
        assert (page.json()["accepted_count"], page.json()["refused_count"]) == (36, 4)
        pages.append(page.json())
    assert [places(p) for p in pages[1:]] == [list(range(16, 31)), list(range(31, 41))]
    assert [r["index"] for p in pages for r in p["refused"]] == [10, 20, 30, 40]
    assert len({r["id"] for p in pages for r in p["accepted"]}) == 36
    # The stored first page is the POST's answer, record for record.
    stored = (await client.get(url, params={"limit": 15}, headers=bearer(key))).json()
    assert places(stored) == places(first)
    assert [r["id"] for r in stored["accepted"]] == [r["id"] for r in first["accepted"]]
    everything = (await client.get(url, headers=bearer(key))).json()
    assert places(everything) == list(range(1, 41)) and everything["next_after"] is None
    too_many = await client.get(url, params={"limit": 1001}, headers=bearer(key))
    assert too_many.status_code == 422
