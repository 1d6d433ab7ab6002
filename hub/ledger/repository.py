"""Every query of the ledger module."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.ledger.models import LedgerEntry, LedgerTransaction


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_transaction(
        self, transaction: LedgerTransaction, entries: Sequence[Mapping[str, object]]
    ) -> None:
        """The transaction row, then its entries in one executemany (entries are never ORM objects:
        nothing may update them later)."""
        self.session.add(transaction)
        await self.session.flush()
        await self.session.execute(
            insert(LedgerEntry), [{**e, "transaction_id": transaction.id} for e in entries]
        )

    async def balance(
        self,
        account: str,
        *,
        currency: str = "EUR",
        case_id: uuid.UUID | None = None,
        office_id: uuid.UUID | None = None,
    ) -> int:
        query = select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            LedgerEntry.account == account, LedgerEntry.currency == currency
        )
        if case_id is not None:
            query = query.where(LedgerEntry.case_id == case_id)
        if office_id is not None:
            query = query.where(LedgerEntry.office_id == office_id)
        return int((await self.session.execute(query)).scalar_one())

    async def entries_of(self, source: str) -> Sequence[LedgerEntry]:
        rows = await self.session.execute(
            select(LedgerEntry)
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .where(LedgerTransaction.source == source)
            .order_by(LedgerEntry.id)
        )
        return rows.scalars().all()
