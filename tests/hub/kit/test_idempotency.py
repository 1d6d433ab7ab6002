"""Idempotency-Key on the office POSTs, beyond the replay itself (tests/hub/acts/test_api.py): a key
still running answers 409, keys are per office, a key lives 24 h, batches replay too; and without a
key, concurrent copies of one message are applied once."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from hub.database import unit_of_work
from hub.kit import idempotency
from hub.kit.clock import utcnow
from hub.kit.errors import Conflict
from hub.offices import service as offices
from tests.hub.acts.factories import Seeded, bearer, report_json, seed, write_batch_file
from tests.hub.acts.test_api import reports_of


async def seeded_office(app: FastAPI) -> tuple[Seeded, str]:
    async with unit_of_work(app.state.sessions) as session:
        s = await seed(session)
        key = (await offices.create_key(session, s.office.code)).secret
    return s, key


def json_headers(key: str, idempotency_key: str | None = None) -> dict[str, str]:
    extra = {"Content-Type": "application/json"}
    if idempotency_key is not None:
        extra["Idempotency-Key"] = idempotency_key
    return bearer(key, **extra)


async def test_a_key_still_in_progress_answers_409_and_applies_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    s, key = await seeded_office(app)
    body = report_json(s.office.code, s.mandate.ref, 1)
    fingerprint = idempotency.request_hash("POST", "/v1/act-reports", hashlib.sha256(body).hexdigest())
    # The first request with this key has claimed it and is still running (a batch claims this way).
    lease = timedelta(minutes=1)
    assert (
        await idempotency.claim(app.state.sessions, s.office.id, "k-running", fingerprint, lease=lease)
        is None
    )

    answer = await client.post("/v1/act-reports", content=body, headers=json_headers(key, "k-running"))
    assert answer.status_code == 409, answer.text
    assert answer.json()["code"] == "idempotency.in_progress"
    assert answer.headers["retry-after"] == "1"
    assert await reports_of(app, s) == 0


async def test_a_running_claim_keeps_its_key_by_renewing_its_lease_and_a_lapsed_one_frees_it(
    app: FastAPI,
) -> None:
    """A batch's claim is committed at once and held by a lease: renewed while the work runs, so a
    long batch keeps its key; never renewed once its process is gone, so the key is free again."""
    s, _ = await seeded_office(app)
    sessions = app.state.sessions
    lease = timedelta(seconds=1.5)
    assert await idempotency.claim(sessions, s.office.id, "k-lease", "f", lease=lease) is None

    async def expires() -> datetime:
        async with unit_of_work(sessions) as session:
            record = await session.get(idempotency.IdempotencyRecord, (s.office.id, "k-lease"))
            assert record is not None and record.state == idempotency.IN_PROGRESS
            return record.expires_at

    first = await expires()
    assert first - utcnow() <= lease
    async with idempotency.renewing(sessions, s.office.id, "k-lease", lease=lease):
        for _ in range(200):  # renewed every third of the lease: 0.5 s
            if await expires() > first:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the lease was not renewed in 10 s")
    with pytest.raises(Conflict) as running:
        await idempotency.claim(sessions, s.office.id, "k-lease", "f", lease=lease)
    assert running.value.code == "idempotency.in_progress"
    async with unit_of_work(sessions) as session:  # the process died: no renewal, the lease ran out
        await session.execute(
            update(idempotency.IdempotencyRecord)
            .where(idempotency.IdempotencyRecord.office_id == s.office.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert await idempotency.claim(sessions, s.office.id, "k-lease", "f", lease=lease) is None


async def test_keys_belong_to_one_office(app: FastAPI, client: httpx.AsyncClient) -> None:
    a, a_key = await seeded_office(app)
    b, b_key = await seeded_office(app)
    first = await client.post(
        "/v1/act-reports",
        content=report_json(a.office.code, a.mandate.ref, 1),
        headers=json_headers(a_key, "k"),
    )
    second = await client.post(
        "/v1/act-reports",
        content=report_json(b.office.code, b.mandate.ref, 1),
        headers=json_headers(b_key, "k"),
    )
    assert first.status_code == second.status_code == 202, (first.text, second.text)
    # B's answer is its own receipt, never A's answer replayed.
    assert "idempotent-replayed" not in second.headers
    assert second.json()["envelope"]["recipient"] == b.office.code
    assert (await reports_of(app, a), await reports_of(app, b)) == (1, 1)


async def test_a_key_is_kept_24_hours_then_free_again(app: FastAPI, client: httpx.AsyncClient) -> None:
    s, key = await seeded_office(app)
    first = await client.post(
        "/v1/act-reports",
        content=report_json(s.office.code, s.mandate.ref, 1),
        headers=json_headers(key, "k-day"),
    )
    assert first.status_code == 202
    async with unit_of_work(app.state.sessions) as session:
        record = await session.get(idempotency.IdempotencyRecord, (s.office.id, "k-day"))
        assert record is not None
        assert timedelta(hours=23, minutes=59) < record.expires_at - utcnow() <= idempotency.KEEP_FOR
        await session.execute(
            update(idempotency.IdempotencyRecord)
            .where(idempotency.IdempotencyRecord.office_id == s.office.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    # Past its 24 h the key means nothing: another body with it is a new request, not a reuse (422).
    later = await client.post(
        "/v1/act-reports",
        content=report_json(s.office.code, s.mandate.ref, 2),
        headers=json_headers(key, "k-day"),
    )
    assert later.status_code == 202, later.text
    assert "idempotent-replayed" not in later.headers
    assert await reports_of(app, s) == 2


async def test_a_batch_is_replayed_for_the_same_file_and_refused_for_another(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    s, key = await seeded_office(app)
    path = tmp_path / "batch.xml"
    write_batch_file(path, s.office.code, s.mandate.ref, 12, bad_every=5)
    headers = bearer(key, **{"Content-Type": "application/xml", "Idempotency-Key": "k-batch"})
    first = await client.post("/v1/act-reports/batch", content=path.read_bytes(), headers=headers)
    again = await client.post("/v1/act-reports/batch", content=path.read_bytes(), headers=headers)
    assert first.status_code == again.status_code == 200, first.text
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    assert await reports_of(app, s) == 10

    write_batch_file(path, s.office.code, s.mandate.ref, 13, bad_every=5)
    other = await client.post("/v1/act-reports/batch", content=path.read_bytes(), headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency.key_reused"
    assert await reports_of(app, s) == 10


@pytest.mark.postgres
async def test_concurrent_copies_of_one_message_without_a_key_are_applied_once(
    app: FastAPI, client: httpx.AsyncClient, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrency is shown on PostgreSQL")
    s, key = await seeded_office(app)
    body = report_json(s.office.code, s.mandate.ref, 1)
    answers = await asyncio.gather(
        *(client.post("/v1/act-reports", content=body, headers=json_headers(key)) for _ in range(20))
    )
    statuses = [a.status_code for a in answers]
    assert statuses.count(202) == 1, statuses
    assert set(statuses) == {202, 409}, statuses
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"message.duplicate"}
    assert await reports_of(app, s) == 1
