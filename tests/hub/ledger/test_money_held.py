"""The money offices hold and their ledger by month, kept by the database as ledger entries are
inserted (migrations 20261205_0035: ``MoneyHeld``, ``MoneyCollectedDay``; 20261206_0038:
``LedgerOfficeMonth``), are what the ledger's own entries sum to after
postings on every path: one ORM flush each, a chunk's rows written together (by COPY on
PostgreSQL), an act report over HTTP (one statement on PostgreSQL), a batch, a remittance, a
reversal of a collection and of a remittance. Two transactions posting on one case at once lose
nothing (PostgreSQL)."""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import uuid
from collections import defaultdict
from datetime import date

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.xml import codec
from hub.acts import batch as batches
from hub.bootstrap import inbound_processor
from hub.database import unit_of_work
from hub.kit import db
from hub.kit.db import RowBuffer
from hub.ledger import service as ledger
from hub.ledger.models import LedgerTransaction
from hub.ledger.postings import (
    COLLECTED_BY_OFFICE,
    COLLECTION,
    REMITTANCE,
    collection_postings,
    remittance_postings,
)
from hub.messaging.signing import ReceiptSigner
from hub.offices import service as offices
from hub.staff import service as staff
from hub.staff.models import Role
from schemas import v1
from tests.hub.acts.factories import Seeded, bearer, report, seed
from tests.hub.ledger.factories import kept_money, kept_months, ledger_money, ledger_months, posted_on
from tests.hub.remittances.factories import encoded, remittance

JAN, FEB, MAR = date(2026, 1, 10), date(2026, 2, 10), date(2026, 3, 10)


async def collect(session: AsyncSession, s: Seeded, on: date, cents: int, currency: str = "EUR") -> uuid.UUID:
    collected = collection_postings(collected_cents=cents, currency=currency)
    return (await posted_on(session, s, COLLECTION, collected, on)).id


async def remit(session: AsyncSession, s: Seeded, on: date, cents: int) -> uuid.UUID:
    posted = await ledger.remit(
        session,
        office_code=s.office.code,
        case_ref=s.case.ref,
        amount_cents=cents,
        currency="EUR",
        effective_on=on,
        reference=f"VIR-{secrets.token_hex(4)}",
        recorded_by="finance@agence.example",
    )
    return posted.id


async def test_the_kept_figures_are_the_ledgers_sums_after_postings_one_by_one_and_together(
    session: AsyncSession,
) -> None:
    first = await seed(session)
    second = await seed(session, office=first.office)
    other = await seed(session)
    wrong = await collect(session, first, JAN, 5_000)
    await collect(session, first, JAN, 2_000)
    await collect(session, first, FEB, 3_000, currency="USD")
    await collect(session, second, FEB, 1_000)
    await collect(session, other, MAR, 4_000)
    await session.flush()
    remitted = await remit(session, first, FEB, 1_500)
    await remit(session, second, MAR, 1_000)  # all of it: held 0
    await ledger.reverse(session, wrong, reason="typed twice", effective_on=MAR)
    await ledger.reverse(session, remitted, reason="bounced", effective_on=MAR)
    await session.flush()
    # A chunk's way: every row of many postings written together (COPY on PostgreSQL from
    # ``COPY_FROM_ROWS`` rows, a multi-row INSERT on SQLite).
    buffer = RowBuffer.open(session)
    chunk: dict[tuple[uuid.UUID, date], int] = defaultdict(int)  # (case, day) -> cents collected
    try:
        for n in range(30):
            s, on = (first, second, other)[n % 3], (JAN, FEB, MAR)[n % 3]
            if n % 5 == 4:
                kind, postings = REMITTANCE, remittance_postings(remitted_cents=10, currency="EUR")
            else:
                kind, postings = COLLECTION, collection_postings(collected_cents=100 + n, currency="EUR")
                chunk[(s.case.id, on)] += 100 + n
            await ledger.post_staged(
                session,
                kind,
                postings,
                effective_on=on,
                source=f"act_report:{uuid.uuid4()}",
                case_id=s.case.id,
                office_id=s.office.id,
            )
        assert len(buffer) >= db.COPY_FROM_ROWS
        await buffer.write()
    finally:
        buffer.close()

    ids = [first.office.id, other.office.id]
    held, days = await kept_money(session, ids)
    assert (held, days) == await ledger_money(session, ids)
    office = first.office.id
    months = await kept_months(session, ids)
    assert months == await ledger_months(session, ids)
    # A posting dated in an earlier month than another's counts in its own: the remittance of MAR and
    # the two reversals dated MAR (of a JAN collection, of a FEB remittance).
    assert months[(office, MAR.replace(day=1), COLLECTED_BY_OFFICE, "EUR")] == -1_000 - 5_000 + 1_500
    # Two remittances of 10 in the chunk on each case; the 1,500 remitted came back (reversed).
    assert held[(office, first.case.id, "EUR")] == 2_000 + chunk[(first.case.id, JAN)] - 20
    assert held[(office, first.case.id, "USD")] == 3_000
    assert held[(office, second.case.id, "EUR")] == 1_000 - 1_000 + chunk[(second.case.id, FEB)] - 20
    assert held[(other.office.id, other.case.id, "EUR")] == 4_000 + chunk[(other.case.id, MAR)] - 20
    # The collection reversed nets out on its own day, not on the reversal's.
    assert days[(office, first.case.id, "EUR", JAN)] == 2_000 + chunk[(first.case.id, JAN)]
    assert (office, first.case.id, "EUR", MAR) not in days
    assert days[(office, second.case.id, "EUR", FEB)] == 1_000 + chunk[(second.case.id, FEB)]


async def test_the_kept_figures_follow_reports_over_http_a_batch_and_a_remittance(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An act report over HTTP (PostgreSQL: every table's rows in one statement), a batch chunk (by
    COPY on PostgreSQL), a remittance message, a reversal by finance: the kept figures follow."""
    async with unit_of_work(app.state.sessions) as session:
        s = await seed(session)
        key = (await offices.create_key(session, s.office.code)).secret
        _, finance = await staff.add_staff(session, f"finance-{s.office.code}@agence.example", Role.FINANCE)
    code, ref = s.office.code, s.mandate.ref
    for n, cents in ((1, 12_000), (2, 3_000)):
        answer = await client.post(
            "/v1/act-reports",
            content=json.dumps(report(code, ref, n, collected_cents=cents)).encode(),
            headers=bearer(key, **{"Content-Type": "application/json"}),
        )
        assert answer.status_code == 202, answer.text
    made = [
        v1.ActReport.model_validate_json(json.dumps(report(code, ref, n, collected_cents=100 * n)))
        for n in range(3, 13)
    ]
    async with unit_of_work(app.state.sessions) as session:
        batch = await batches.start_batch(session, s.office, "0" * 64)
    monkeypatch.setattr(db, "COPY_FROM_ROWS", 1)  # every table of the chunk by COPY (PostgreSQL)
    result = await batches.run_batch(
        app.state.sessions,
        inbound_processor(ReceiptSigner("b" * 40)),
        s.office,
        batch.id,
        io.BytesIO(codec.encode_batch(made)),
    )
    assert result.accepted_count == 10
    answer = await client.post(
        "/v1/remittances",
        content=encoded(remittance(code, [(s.case.ref, 4_000)])),
        headers=bearer(key, **{"Content-Type": "application/json"}),
    )
    assert answer.status_code == 202, answer.text
    async with unit_of_work(app.state.sessions) as session:
        first = await session.scalar(
            select(LedgerTransaction)
            .where(LedgerTransaction.case_id == s.case.id, LedgerTransaction.kind == COLLECTION)
            .order_by(LedgerTransaction.recorded_at)
            .limit(1)
        )
    assert first is not None
    answer = await client.post(
        f"/v1/ledger/transactions/{first.id}/reversal",
        json={"reason": "reported twice", "effective_on": first.effective_on.isoformat()},
        headers=bearer(finance),
    )
    assert answer.status_code == 201, answer.text
    async with unit_of_work(app.state.sessions) as session:
        held, days = await kept_money(session, [s.office.id])
        assert (held, days) == await ledger_money(session, [s.office.id])
        assert await kept_months(session, [s.office.id]) == await ledger_months(session, [s.office.id])
    collected = 15_000 + sum(100 * n for n in range(3, 13))
    assert held == {(s.office.id, s.case.id, "EUR"): collected - 4_000 - 12_000}
    assert sum(days.values()) == collected - 12_000


@pytest.mark.postgres
async def test_two_postings_on_one_case_at_once_lose_nothing(
    sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    """Two transactions post on one case and day at once, in rounds (the first creates the kept rows,
    the next add to them): the second's increment waits for the first's commit, then adds to it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL: SQLite has one writer at a time")
    async with unit_of_work(sessions) as session:
        s = await seed(session)

    async def post(kind: str, cents: int) -> None:
        async with unit_of_work(sessions) as session:
            postings = (
                collection_postings(collected_cents=cents, currency="EUR")
                if kind == COLLECTION
                else remittance_postings(remitted_cents=cents, currency="EUR")
            )
            await posted_on(session, s, kind, postings, JAN)
            await asyncio.sleep(0.2)  # holding its rows while the other posts

    for _ in range(3):
        await asyncio.gather(post(COLLECTION, 1_000), post(COLLECTION, 300))
        await asyncio.gather(post(COLLECTION, 50), post(REMITTANCE, 200))
    async with unit_of_work(sessions) as session:
        held, days = await kept_money(session, [s.office.id])
        assert (held, days) == await ledger_money(session, [s.office.id])
        assert await kept_months(session, [s.office.id]) == await ledger_months(session, [s.office.id])
    assert held == {(s.office.id, s.case.id, "EUR"): 3 * (1_000 + 300 + 50 - 200)}
    assert days == {(s.office.id, s.case.id, "EUR", JAN): 3 * (1_000 + 300 + 50)}
