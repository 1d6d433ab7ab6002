"""Every query of the staff module."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.staff.models import StaffUser


class StaffRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_email(self, email: str) -> StaffUser | None:
        return await self.session.scalar(select(StaffUser).where(StaffUser.email == email))

    async def by_token_id(self, token_id: str) -> StaffUser | None:
        return await self.session.scalar(select(StaffUser).where(StaffUser.token_id == token_id))

    async def add(self, user: StaffUser) -> StaffUser:
        self.session.add(user)
        await self.session.flush()
        return user
