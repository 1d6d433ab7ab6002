"""Every query of the cases module."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from hub.cases.models import Case, CaseUpdate, Creditor, Debtor
from schemas.v1.case_updates import CaseUpdateKind


class CaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_ref(self, ref: str) -> Case | None:
        return await self.session.scalar(select(Case).where(Case.ref == ref))

    async def get_with_parties_locking_debtor(self, ref: str) -> Case | None:
        """``get_with_parties`` in one statement, the debtor held until commit (PostgreSQL; SQLite has
        one writer at a time): what is decided from the acts against the debtor (pacing) is decided
        one after the other. Was four statements: the case, its creditor, its debtor, the lock."""
        query = (
            select(Case)
            .join(Case.debtor)
            .options(contains_eager(Case.debtor), joinedload(Case.creditor, innerjoin=True))
            .where(Case.ref == ref)
            .with_for_update(of=Debtor, key_share=True)
        )
        return await self.session.scalar(query)

    async def get_with_parties(self, ref: str, *, for_update: bool = False) -> Case | None:
        """The case with its creditor and debtor loaded (for the API and outgoing mandates);
        ``for_update``: the case locked until commit and read fresh, so that what is checked against
        its facts (a payment against the balance) is checked after any other change in flight."""
        query = (
            select(Case)
            .where(Case.ref == ref)
            .options(selectinload(Case.creditor), selectinload(Case.debtor))
        )
        if for_update:
            query = query.with_for_update(of=Case, key_share=True).execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def get_by_id(self, case_id: uuid.UUID, *, for_update: bool = False) -> Case | None:
        """``for_update``: the case locked until commit and read fresh (see ``get_with_parties``)."""
        query = select(Case).where(Case.id == case_id)
        if for_update:
            query = query.with_for_update(of=Case, key_share=True).execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def get_with_parties_by_id(self, case_id: uuid.UUID) -> Case | None:
        return await self.session.scalar(
            select(Case)
            .where(Case.id == case_id)
            .options(selectinload(Case.creditor), selectinload(Case.debtor))
        )

    async def existing_refs(self, refs: Iterable[str]) -> set[str]:
        wanted = list(set(refs))
        if not wanted:
            return set()
        return set(await self.session.scalars(select(Case.ref).where(Case.ref.in_(wanted))))

    async def creditor_by_name(self, name: str) -> Creditor | None:
        return await self.session.scalar(select(Creditor).where(Creditor.name == name))

    async def update_by_reference(self, case_id: uuid.UUID, reference: str) -> CaseUpdate | None:
        return await self.session.scalar(
            select(CaseUpdate).where(CaseUpdate.case_id == case_id, CaseUpdate.reference == reference)
        )

    async def updates(self, case_id: uuid.UUID, *, after: int | None, limit: int) -> list[CaseUpdate]:
        """The case's updates in the order they were recorded, ``limit`` after the cursor ``after``."""
        query = select(CaseUpdate).where(CaseUpdate.case_id == case_id).order_by(CaseUpdate.id).limit(limit)
        if after is not None:
            query = query.where(CaseUpdate.id > after)
        return list(await self.session.scalars(query))

    async def has_update(self, case_id: uuid.UUID, kind: str) -> bool:
        """Whether an update of ``kind`` was recorded on the case."""
        found = await self.session.scalar(
            select(CaseUpdate.id).where(CaseUpdate.case_id == case_id, CaseUpdate.kind == kind).limit(1)
        )
        return found is not None

    async def payments_received(self, case_id: uuid.UUID, currency: str) -> int:
        """What the debtor paid the agency directly on the case since it was opened (case updates)."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(CaseUpdate.amount_cents), 0)).where(
                CaseUpdate.case_id == case_id,
                CaseUpdate.kind == CaseUpdateKind.PAYMENT_RECEIVED.value,
                CaseUpdate.currency == currency,
            )
        )
        return int(total or 0)

    async def add(self, *objects: Case | Creditor | Debtor | CaseUpdate) -> None:
        self.session.add_all(objects)
        await self.session.flush()

    async def insert_many(self, debtors: Sequence[dict[str, Any]], cases: Sequence[dict[str, Any]]) -> None:
        """Batch insert (executemany): debtors first, then the cases that point at them."""
        if debtors:
            await self.session.execute(insert(Debtor), list(debtors))
        if cases:
            await self.session.execute(insert(Case), list(cases))
