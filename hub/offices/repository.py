"""Every query of the offices module."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.db import in_chunks
from hub.offices.models import Office, OfficeApiKey, OfficeEvent


class OfficeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_code(self, code: str) -> Office | None:
        return await self.session.scalar(select(Office).where(Office.code == code))

    async def channels(self, codes: Collection[str]) -> dict[str, str]:
        """The delivery channel of each office among ``codes`` (an unknown code is absent), one query."""
        rows = await self.session.execute(
            select(Office.code, Office.delivery_channel).where(Office.code.in_(set(codes)))
        )
        return {code: channel for code, channel in rows.all()}

    async def by_codes(self, codes: Collection[str]) -> dict[str, Office]:
        """The offices among ``codes`` (an unknown code is absent), a statement a thousand codes."""
        found: dict[str, Office] = {}
        for chunk in in_chunks(set(codes)):
            found |= {
                o.code: o for o in await self.session.scalars(select(Office).where(Office.code.in_(chunk)))
            }
        return found

    async def get(self, office_id: uuid.UUID) -> Office | None:
        return await self.session.get(Office, office_id)

    async def list_all(self, *, for_update: bool = False) -> list[Office]:
        """``for_update``: locked, read fresh (their secrets rewritten in place)."""
        query = select(Office).order_by(Office.code)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return list(await self.session.scalars(query))

    async def add(self, office: Office) -> Office:
        self.session.add(office)
        await self.session.flush()
        return office

    async def get_key(self, key_id: str) -> OfficeApiKey | None:
        return await self.session.scalar(select(OfficeApiKey).where(OfficeApiKey.key_id == key_id))

    async def add_key(self, key: OfficeApiKey) -> OfficeApiKey:
        self.session.add(key)
        await self.session.flush()
        return key

    async def log(self, event: OfficeEvent) -> None:
        self.session.add(event)
        await self.session.flush()

    async def events(
        self, office_id: uuid.UUID, *, after: int | None = None, limit: int | None = None
    ) -> list[OfficeEvent]:
        """The office's changes, oldest first; ``limit`` of them after the id ``after`` when given."""
        query = select(OfficeEvent).where(OfficeEvent.office_id == office_id).order_by(OfficeEvent.id)
        if after is not None:
            query = query.where(OfficeEvent.id > after)
        if limit is not None:
            query = query.limit(limit)
        return list(await self.session.scalars(query))
