"""Every query of the cases module."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Case, Creditor, Debtor


class CaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_ref(self, ref: str) -> Case | None:
        return await self.session.scalar(select(Case).where(Case.ref == ref))

    async def creditor_by_name(self, name: str) -> Creditor | None:
        return await self.session.scalar(select(Creditor).where(Creditor.name == name))

    async def add(self, *objects: Case | Creditor | Debtor) -> None:
        self.session.add_all(objects)
        await self.session.flush()
