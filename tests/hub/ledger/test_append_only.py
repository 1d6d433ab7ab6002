"""On PostgreSQL a trigger refuses UPDATE and DELETE on the ledger, entries and transactions alike:
corrections are reversals (a transaction edited in place could move its entries to another date,
case or office)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.database import create_engine, session_factory
from hub.kit.errors import Conflict
from hub.ledger import service as ledger
from hub.ledger.models import LedgerEntry, LedgerTransaction
from hub.ledger.repository import LedgerRepository


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
