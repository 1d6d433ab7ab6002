"""On PostgreSQL a trigger refuses UPDATE and DELETE on the ledger: corrections are reversals."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.ledger.models import LedgerEntry, LedgerTransaction


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
    with pytest.raises(DBAPIError, match="append-only"):
        async with session.begin_nested():
            await session.execute(delete(LedgerTransaction).where(LedgerTransaction.id == transaction.id))
