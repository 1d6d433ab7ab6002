"""Every query of the inventory module: the office's mandates, their money from the ledger (act
report transactions, net of reversals), and the last result per office."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator, Sequence
from typing import TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import ActReport
from hub.inventory.models import InventoryResult
from hub.ledger.models import LedgerEntry, LedgerTransaction
from hub.ledger.postings import ACT_FEES, CASE_COLLECTIONS, COLLECTION, FEE_ACCOUNTS, exact_cents
from hub.mandates.models import Mandate

CHUNK = 500  # refs / ids per IN list
T = TypeVar("T")


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


class InventoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def mandates(
        self, office_id: uuid.UUID, open_statuses: Collection[str], refs: Collection[str]
    ) -> list[Mandate]:
        """The office's mandates that are open, or whose ref is in ``refs`` (any status). Another
        office's mandate is never returned, whatever its ref."""
        found: dict[uuid.UUID, Mandate] = {}
        query = select(Mandate).where(Mandate.office_id == office_id)
        for m in (await self.session.execute(query.where(Mandate.status.in_(list(open_statuses))))).scalars():
            found[m.id] = m
        for chunk in _chunks(sorted(set(refs))):
            for m in (await self.session.execute(query.where(Mandate.ref.in_(list(chunk))))).scalars():
                found[m.id] = m
        return list(found.values())

    async def money_per_mandate(
        self, office_id: uuid.UUID, mandate_ids: Collection[uuid.UUID], currency_of: dict[uuid.UUID, str]
    ) -> dict[uuid.UUID, tuple[int, int]]:
        """mandate id -> (collected, fees claimed) in the mandate's currency, from the ledger entries
        of its act reports: collected is minus ``case_collections``, fees the fee accounts of
        ``act_fees`` transactions."""
        sources: dict[str, uuid.UUID] = {}
        for ids in _chunks(list(mandate_ids)):
            acts = await self.session.execute(
                select(ActReport.id, ActReport.mandate_id).where(
                    ActReport.office_id == office_id, ActReport.mandate_id.in_(list(ids))
                )
            )
            sources.update({f"act_report:{act_id}": mandate_id for act_id, mandate_id in acts.all()})
        money: dict[uuid.UUID, list[int]] = {m: [0, 0] for m in mandate_ids}
        wanted = or_(
            LedgerEntry.account == CASE_COLLECTIONS,
            (LedgerEntry.account.in_(FEE_ACCOUNTS)) & (LedgerTransaction.kind == ACT_FEES),
        )
        for chunk in _chunks(sorted(sources)):
            rows = await self.session.execute(
                select(
                    LedgerTransaction.source,
                    LedgerEntry.account,
                    LedgerEntry.currency,
                    func.sum(LedgerEntry.amount_cents),
                )
                .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
                .where(
                    LedgerEntry.office_id == office_id,
                    LedgerTransaction.kind.in_([ACT_FEES, COLLECTION]),
                    LedgerTransaction.source.in_(list(chunk)),
                    wanted,
                )
                .group_by(LedgerTransaction.source, LedgerEntry.account, LedgerEntry.currency)
            )
            for source, account, currency, total in rows.all():
                mandate_id = sources[source]
                if currency != currency_of.get(mandate_id):
                    continue
                cents = exact_cents(total)
                if account == CASE_COLLECTIONS:
                    money[mandate_id][0] -= cents
                else:
                    money[mandate_id][1] += cents
        return {m: (collected, fees) for m, (collected, fees) in money.items()}

    async def last(self, office_id: uuid.UUID) -> InventoryResult | None:
        return await self.session.get(InventoryResult, office_id, populate_existing=True)

    async def keep(self, result: InventoryResult) -> None:
        """Stores ``result`` as the office's last, replacing the one before (one row per office).
        Two first inventories of one office at once: the second insert loses on the primary key,
        in a savepoint, and replaces the winner's row instead."""
        try:
            async with self.session.begin_nested():
                await self.session.merge(result)
                await self.session.flush()
        except IntegrityError:
            await self.session.merge(result)
            await self.session.flush()
