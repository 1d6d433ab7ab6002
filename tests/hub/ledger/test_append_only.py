"""On PostgreSQL a trigger refuses UPDATE and DELETE on the ledger, entries and transactions alike:
corrections are reversals (a transaction edited in place could move its entries to another date,
case or office)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import ActReportTally, MandateActTally
from hub.app import create_app
from hub.database import create_engine, session_factory
from hub.kit.errors import Conflict
from hub.ledger import service as ledger
from hub.ledger.models import LedgerEntry, LedgerOfficeMonth, LedgerTransaction, MoneyCollectedDay, MoneyHeld
from hub.ledger.repository import LedgerRepository
from hub.mandates.models import Mandate
from hub.messaging.inbound import Received
from hub.settings import Settings
from tests.hub.acts.factories import report_json, seed
from tests.hub.ledger.factories import kept_money, kept_months, ledger_money, ledger_months


async def _posted(session: AsyncSession) -> LedgerTransaction:
    transaction = LedgerTransaction(
        id=uuid.uuid4(), kind="act_fees", effective_on=date(2026, 3, 2), source="test"
    )
    session.add(transaction)
    session.add_all(
        [
            LedgerEntry(transaction_id=transaction.id, account="fees_emoluments", amount_cents=5158),
            LedgerEntry(transaction_id=transaction.id, account="payable_office", amount_cents=-5158),
        ]
    )
    await session.flush()
    return transaction


@pytest.mark.postgres
@pytest.mark.parametrize("statement", ["update", "delete"])
async def test_the_ledger_refuses_edits_on_postgresql(pg_session: AsyncSession, statement: str) -> None:
    session = pg_session
    transaction = await _posted(session)
    change = (
        update(LedgerEntry).where(LedgerEntry.transaction_id == transaction.id).values(amount_cents=0)
        if statement == "update"
        else delete(LedgerEntry).where(LedgerEntry.transaction_id == transaction.id)
    )
    with pytest.raises(DBAPIError, match="append-only"):
        async with session.begin_nested():
            await session.execute(change)
    transaction_change = (
        update(LedgerTransaction).where(LedgerTransaction.id == transaction.id).values(reason="edited")
        if statement == "update"
        else delete(LedgerTransaction).where(LedgerTransaction.id == transaction.id)
    )
    with pytest.raises(DBAPIError, match="append-only"):
        async with session.begin_nested():
            await session.execute(transaction_change)


@pytest.mark.postgres
async def test_two_concurrent_reversals_one_wins_the_other_is_refused(postgres_committed_url: str) -> None:
    """Both check "not reversed yet" before either commits; the unique index on ``reverses_id``
    makes the second insert wait for the first and then fail, answered as already reversed."""
    engine = create_engine(postgres_committed_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as setup, setup.begin():
            lines = ledger.collection_postings(collected_cents=1234, currency="EUR")
            original = await ledger.post(
                setup, ledger.COLLECTION, lines, effective_on=date(2026, 3, 2), source="race"
            )
        async with sessions() as first, sessions() as second:
            await first.begin()
            await second.begin()
            await ledger.reverse(first, original.id, reason="first", effective_on=date(2026, 3, 3))
            racing = asyncio.create_task(
                ledger.reverse(second, original.id, reason="second", effective_on=date(2026, 3, 3))
            )
            await asyncio.sleep(0.5)
            assert not racing.done()  # waiting on the first one's index entry
            await first.commit()
            with pytest.raises(Conflict) as refused:
                await racing
            assert refused.value.code == "ledger.already_reversed"
            assert await LedgerRepository(second).reversal_of(original.id) is not None  # still usable
            await second.rollback()
        async with sessions() as check:
            count = await check.execute(
                select(func.count())
                .select_from(LedgerTransaction)
                .where(LedgerTransaction.reverses_id == original.id)
            )
            assert count.scalar_one() == 1
    finally:
        await engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["ledger_entries", "ledger_transactions"])
async def test_the_ledger_refuses_truncate_on_postgresql(pg_session: AsyncSession, table: str) -> None:
    """Even for the role that owns the tables: the row trigger does not fire on TRUNCATE."""
    await _posted(pg_session)
    with pytest.raises(DBAPIError, match="append-only: TRUNCATE"):
        async with pg_session.begin_nested():
            await pg_session.execute(text(f"TRUNCATE {table} CASCADE"))


@pytest.mark.postgres
async def test_the_application_role_reports_acts_but_cannot_edit_the_ledger(
    pg_session: AsyncSession, postgres_url: str
) -> None:
    """``hub_app``, the role production runs as (README): an ordinary act report, money collected,
    works through the real inbound path, its tallies, the money held and the office's months kept by
    their triggers; editing, deleting or truncating the ledger, writing a figure the database keeps
    (20261205_0036, 0037 for the mandate's last act, 0038 for the offices' months), or any DDL, is
    refused."""
    session = pg_session
    role = "SELECT rolsuper, rolcanlogin, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = 'hub_app'"
    attributes = (await session.execute(text(role))).one()
    assert tuple(attributes) == (False, False, False, False)
    await session.execute(text("SET LOCAL ROLE hub_app"))
    s = await seed(session)
    processor = create_app(
        Settings(env="test", database_url=postgres_url, secret_key="t" * 40, role="api")
    ).state.processor
    raw = report_json(s.office.code, s.mandate.ref, 1, collected_cents=4_200)
    outcome = await processor.receive(session, s.office, Received(raw, "application/json"))
    assert outcome.accepted, outcome.receipt.errors
    kept = await kept_money(session, [s.office.id])
    assert kept == await ledger_money(session, [s.office.id]) and kept[0]  # the money held, kept
    months = await kept_months(session, [s.office.id])
    assert months == await ledger_months(session, [s.office.id]) and months
    tallied = select(func.sum(MandateActTally.reports)).where(MandateActTally.mandate_id == s.mandate.id)
    assert await session.scalar(tallied) == 1
    assert await session.scalar(select(Mandate.last_act_on).where(Mandate.id == s.mandate.id))
    posted = await session.scalars(
        select(LedgerTransaction.id).where(
            LedgerTransaction.case_id == s.case.id, LedgerTransaction.kind == "act_fees"
        )
    )
    [fees] = list(posted)
    entries = select(func.count()).where(LedgerEntry.transaction_id == fees)
    before = await session.scalar(entries)
    assert before

    for statement in (
        update(LedgerEntry).where(LedgerEntry.transaction_id == fees).values(amount_cents=0),
        delete(LedgerEntry).where(LedgerEntry.transaction_id == fees),
        update(LedgerTransaction).where(LedgerTransaction.id == fees).values(reason="edited"),
        delete(LedgerTransaction).where(LedgerTransaction.id == fees),
        text("TRUNCATE ledger_entries"),
        text("TRUNCATE ledger_transactions CASCADE"),
        text("TRUNCATE act_reports CASCADE"),
        update(MoneyHeld).where(MoneyHeld.office_id == s.office.id).values(cents=0),
        delete(MoneyCollectedDay).where(MoneyCollectedDay.office_id == s.office.id),
        update(LedgerOfficeMonth).where(LedgerOfficeMonth.office_id == s.office.id).values(cents=0),
        insert(LedgerOfficeMonth).values(
            office_id=s.office.id, month=date(2000, 1, 1), account="fees_vat", currency="EUR", slot=0, cents=1
        ),
        update(ActReportTally).values(reports=0),
        delete(MandateActTally).where(MandateActTally.mandate_id == s.mandate.id),
        update(Mandate).where(Mandate.id == s.mandate.id).values(last_act_on=date(2000, 1, 1)),
        text("CREATE TABLE hub_app_scratch (id int)"),
        text("ALTER TABLE act_reports ADD COLUMN scratch int"),
    ):
        with pytest.raises(DBAPIError, match=r"permission denied|must be owner"):
            async with session.begin_nested():
                await session.execute(statement)
    assert await session.scalar(entries) == before
