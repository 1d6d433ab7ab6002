"""A mandate's last act (``mandates.last_act_on``, the worklist's stale mandates read it) is kept by the
database as act reports are inserted: it is the latest ``act_date`` of the mandate's reports, None
before its first, whichever way they were written (one report over HTTP, a batch chunk, by COPY on
PostgreSQL, one ORM flush each, one multi-row INSERT), and an act reported after a later one leaves
it as it was."""

from __future__ import annotations

import io
import json
import random
import uuid
from collections.abc import Collection
from datetime import date, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.xml import codec
from hub.acts import batch as batches
from hub.acts.models import ActReport
from hub.bootstrap import inbound_processor
from hub.database import unit_of_work
from hub.kit import db
from hub.mandates.models import Mandate
from hub.messaging import service as messaging
from hub.messaging.signing import ReceiptSigner
from hub.offices import service as offices
from schemas import v1
from tests.hub.acts.factories import Seeded, bearer, report, report_json, seed

FIRST = date(2026, 2, 2)  # after the seeded mandates' issue, before today
Found = dict[uuid.UUID, tuple[date | None, date | None]]


async def last_acts(session: AsyncSession, mandate_ids: Collection[uuid.UUID]) -> Found:
    """Per mandate: (its kept last act, the latest ``act_date`` of its reports)."""
    latest = select(func.max(ActReport.act_date)).where(ActReport.mandate_id == Mandate.id).scalar_subquery()
    rows = await session.execute(
        select(Mandate.id, Mandate.last_act_on, latest).where(Mandate.id.in_(mandate_ids))
    )
    return {mandate_id: (kept, newest) for mandate_id, kept, newest in rows.all()}


def kept(found: Found) -> dict[uuid.UUID, date | None]:
    """The kept last acts, each asserted to be the latest of the mandate's reports."""
    for mandate_id, (last, newest) in found.items():
        assert last == newest, mandate_id
    return {mandate_id: last for mandate_id, (last, _) in found.items()}


async def test_one_report_over_http_at_a_time_keeps_the_latest_act_date(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with unit_of_work(app.state.sessions) as session:
        s = await seed(session, kind="whole_file", acts=[], status="acknowledged")
        key = (await offices.create_key(session, s.office.code)).secret
        assert kept(await last_acts(session, [s.mandate.id])) == {s.mandate.id: None}
    headers = bearer(key, **{"Content-Type": "application/json"})
    # Newer, older (out of date order: leaves it), the same day again, newer again.
    days = [FIRST + timedelta(days=30), FIRST, FIRST + timedelta(days=30), FIRST + timedelta(days=41)]
    expected = [days[0], days[0], days[0], days[3]]
    for n, (day, last) in enumerate(zip(days, expected, strict=True), 1):
        body = report_json(s.office.code, s.mandate.ref, n, act_date=day.isoformat())
        answer = await client.post("/v1/act-reports", content=body, headers=headers)
        assert answer.status_code == 202, answer.text
        async with unit_of_work(app.state.sessions) as session:
            assert kept(await last_acts(session, [s.mandate.id])) == {s.mandate.id: last}, n


SIGNER = ReceiptSigner("b" * 40)


@pytest.mark.parametrize("copy", [False, True])
async def test_a_batch_keeps_each_mandates_latest_act_date(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch, copy: bool
) -> None:
    """A chunk's reports over three mandates in random date order (written by COPY on PostgreSQL with
    ``copy``: every table of the chunk; else by INSERT), then a second batch of older acts only: each
    mandate's latest act, the one without reports still None."""
    if copy:
        monkeypatch.setattr(db, "COPY_FROM_ROWS", 1)
    draw = random.Random(11)
    async with unit_of_work(sessions) as session:
        first = await seed(session, kind="whole_file", acts=[], status="acknowledged")
        mandates = [first] + [
            await seed(session, kind="whole_file", acts=[], status="in_progress", office=first.office)
            for _ in range(3)
        ]
    busy = [s.mandate.ref for s in mandates[:3]]  # the fourth gets no report

    async def run(numbers: range, days: range) -> None:
        made = [
            v1.ActReport.model_validate_json(
                json.dumps(
                    report(
                        first.office.code,
                        draw.choice(busy),
                        n,
                        act_date=(FIRST + timedelta(days=draw.choice(days))).isoformat(),
                    )
                )
            )
            for n in numbers
        ]
        async with unit_of_work(sessions) as session:
            batch = await batches.start_batch(session, first.office, "0" * 64)
        stream = io.BytesIO(codec.encode_batch(made))
        result = await batches.run_batch(sessions, inbound_processor(SIGNER), first.office, batch.id, stream)
        assert result.accepted_count == len(numbers)

    await run(range(1, 61), range(10, 60))
    async with unit_of_work(sessions) as session:
        after_first = kept(await last_acts(session, [s.mandate.id for s in mandates]))
    assert after_first[mandates[3].mandate.id] is None
    assert all(after_first[s.mandate.id] is not None for s in mandates[:3])
    await run(range(61, 81), range(0, 10))  # older than every act of the first batch
    async with unit_of_work(sessions) as session:
        assert kept(await last_acts(session, [s.mandate.id for s in mandates])) == after_first


async def _row(session: AsyncSession, s: Seeded, on: date) -> dict[str, object]:
    stored = await messaging.store_inbound(
        session,
        messaging.Envelope(f"T-{uuid.uuid4().hex[:12]}", "act_report", s.office.code, "AGENCY"),
        b"{}",
        "application/json",
    )
    return {
        "id": uuid.uuid4(),
        "mandate_id": s.mandate.id,
        "case_id": s.case.id,
        "office_id": s.office.id,
        "message_pk": stored.id,
        "act_code": "SERVE_TITLE",
        "act_date": on,
        "outcome_code": "served_at_home",
        "office_reference": f"T/{uuid.uuid4().hex[:12]}",
        "currency": "EUR",
        "flagged": False,
    }


async def test_reports_in_any_date_order_one_by_one_or_many_a_statement(session: AsyncSession) -> None:
    """Reports drawn at random over four mandates, each step one ORM flush or one multi-row INSERT of
    several mandates' reports (the PostgreSQL trigger runs once for them): after each step, each
    mandate's kept last act is the latest of its reports."""
    draw = random.Random(20261205)
    first = await seed(session, status="acknowledged")
    mandates = [first] + [await seed(session, office=first.office, status="in_progress") for _ in range(3)]
    ids = [s.mandate.id for s in mandates]
    moved_back = False
    for step in range(25):
        before = kept(await last_acts(session, ids))
        rows = [
            await _row(session, draw.choice(mandates), FIRST + timedelta(days=draw.randint(0, 200)))
            for _ in range(1 if step % 2 else draw.randint(2, 6))
        ]
        if len(rows) == 1:
            session.add(ActReport(**rows[0]))
            await session.flush()
        else:
            await session.execute(insert(ActReport), rows)
        after = kept(await last_acts(session, ids))
        moved_back |= any(
            before[r["mandate_id"]] is not None and r["act_date"] < before[r["mandate_id"]] for r in rows
        )
        assert all(before[i] is None or after[i] >= before[i] for i in ids)
    assert moved_back, "an act older than its mandate's last was reported"


@pytest.mark.postgres
async def test_no_one_but_the_act_reports_trigger_writes_it(pg_session: AsyncSession) -> None:
    """PostgreSQL (20261205_0037), whatever the role (the tables' owner here): an update that changes
    a mandate's last act, or a mandate inserted with one, is refused; an act report still moves it,
    and an update of the mandate's other columns goes through."""
    session = pg_session
    s = await seed(session, status="acknowledged")
    session.add(ActReport(**await _row(session, s, FIRST)))
    await session.flush()
    assert kept(await last_acts(session, [s.mandate.id])) == {s.mandate.id: FIRST}

    mandates = Mandate.__table__
    [copy] = (await session.execute(select(mandates).where(mandates.c.id == s.mandate.id))).mappings()
    mine = mandates.c.id == s.mandate.id
    for statement in (
        update(mandates).where(mine).values(last_act_on=FIRST + timedelta(days=1)),
        update(mandates).where(mine).values(last_act_on=None),
        insert(mandates).values({**copy, "id": uuid.uuid4(), "ref": f"{s.mandate.ref}-2"}),
    ):
        with pytest.raises(DBAPIError, match="permission denied for column last_act_on"):
            async with session.begin_nested():
                await session.execute(statement)
    await session.execute(update(mandates).where(mine).values(status="in_progress", last_act_on=FIRST))
    assert kept(await last_acts(session, [s.mandate.id])) == {s.mandate.id: FIRST}
