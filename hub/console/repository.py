"""Every query of the console: its sessions and sign-in links, and the dashboard's counts read
across the modules' tables (read only; what a page changes goes through the modules' services)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Date, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import ActReport
from hub.console.models import ConsoleSession, SignInLink
from hub.kit.pagination import after_row
from hub.mandates.models import Approval, Mandate, MandateStatus
from hub.messaging.models import MessageEvent, StoredMessage
from hub.messaging.repository import MessageRepository
from hub.offices.models import OfficeApiKey
from hub.staff.models import StaffUser


class ConsoleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: ConsoleSession | SignInLink) -> None:
        self.session.add(row)
        await self.session.flush()

    async def session_by_hash(self, token_hash: str) -> tuple[ConsoleSession, StaffUser] | None:
        row = (
            await self.session.execute(
                select(ConsoleSession, StaffUser)
                .join(StaffUser, StaffUser.id == ConsoleSession.staff_user_id)
                .where(ConsoleSession.token_hash == token_hash)
            )
        ).first()
        return (row[0], row[1]) if row is not None else None

    async def delete_session(self, session_id: uuid.UUID) -> None:
        await self.session.execute(delete(ConsoleSession).where(ConsoleSession.id == session_id))

    async def delete_idle(self, before: datetime) -> None:
        await self.session.execute(delete(ConsoleSession).where(ConsoleSession.last_seen_at < before))

    async def set_flash(self, session_id: uuid.UUID, flash: str | None) -> None:
        """Written with its own statement: it must stand whatever became of the page's work."""
        await self.session.execute(
            update(ConsoleSession).where(ConsoleSession.id == session_id).values(flash=flash)
        )

    async def link_by_hash(self, token_hash: str) -> SignInLink | None:
        query = select(SignInLink).where(SignInLink.token_hash == token_hash)
        if self.session.bind.dialect.name == "postgresql":
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def staff_by_id(self, user_id: uuid.UUID) -> StaffUser | None:
        return await self.session.get(StaffUser, user_id)

    # --- the dashboard's counts ----------------------------------------------------------------

    async def messages_per_day(self, since: datetime) -> list[tuple[Any, str, str, int]]:
        """(day, kind, status, count) of the messages stored since ``since`` (index on kind, created_at)."""
        # SQLite's CAST to DATE yields a number: its date() function reads the stored ISO text.
        if self.session.bind.dialect.name == "sqlite":
            day: Any = func.date(StoredMessage.created_at)
        else:
            day = cast(StoredMessage.created_at, Date)
        query = (
            select(day, StoredMessage.kind, StoredMessage.status, func.count())
            .where(StoredMessage.created_at >= since)
            .group_by(day, StoredMessage.kind, StoredMessage.status)
            .order_by(day.desc(), StoredMessage.kind, StoredMessage.status)
        )
        return [(str(d), k, s, n) for d, k, s, n in (await self.session.execute(query)).all()]

    async def held_count(self) -> int:
        query = select(func.count()).select_from(Mandate).where(Mandate.status == MandateStatus.HELD.value)
        return int(await self.session.scalar(query) or 0)

    async def pending_cost_request_count(self) -> int:
        query = (
            select(func.count())
            .select_from(Approval)
            .where(Approval.request_message_id.is_not(None), Approval.decision.is_(None))
        )
        return int(await self.session.scalar(query) or 0)

    async def flagged_count(self) -> int:
        query = select(func.count()).select_from(ActReport).where(ActReport.flagged)
        return int(await self.session.scalar(query) or 0)

    async def dead_lettered_count(self) -> int:
        query = select(func.count()).select_from(StoredMessage).where(StoredMessage.status == "dead_lettered")
        return int(await self.session.scalar(query) or 0)

    async def acts_of_case(self, case_id: uuid.UUID) -> list[ActReport]:
        query = (
            select(ActReport).where(ActReport.case_id == case_id).order_by(ActReport.act_date, ActReport.id)
        )
        return list(await self.session.scalars(query))

    async def keys_of_office(self, office_id: uuid.UUID) -> list[OfficeApiKey]:
        query = select(OfficeApiKey).where(OfficeApiKey.office_id == office_id).order_by(OfficeApiKey.key_id)
        return list(await self.session.scalars(query))

    async def message_page(
        self,
        *,
        kind: str | None,
        party: str | None,
        status: str | None,
        correlation_id: str | None = None,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[StoredMessage]:
        """The newest messages first, ``limit`` of them after the message ``after`` (the cursor: its
        id; the walk goes on from its place, ties on the time broken by the id)."""
        order: list[Any] = [StoredMessage.created_at, StoredMessage.id]
        query = select(StoredMessage).order_by(*(c.desc() for c in order)).limit(limit)
        if after is not None:
            anchor = select(StoredMessage.created_at).where(StoredMessage.id == after).scalar_subquery()
            query = query.where(after_row(order, [anchor, after], descending=True))
        if correlation_id:
            query = query.where(StoredMessage.correlation_id == correlation_id)
        if kind:
            query = query.where(StoredMessage.kind == kind)
        if party:
            query = query.where((StoredMessage.sender == party) | (StoredMessage.recipient == party))
        if status:
            query = query.where(StoredMessage.status == status)
        return list(await self.session.scalars(query))

    async def messages_of_case(
        self, case_id: uuid.UUID, refs: list[str], *, limit: int
    ) -> list[StoredMessage]:
        """The newest ``limit`` messages of the case: those stored with its id (every message about it
        since migration 0027, hold notices included) or correlated with one of ``refs`` (older ones)."""
        query = (
            select(StoredMessage)
            .where(or_(StoredMessage.case_id == case_id, StoredMessage.correlation_id.in_(refs)))
            .order_by(StoredMessage.created_at.desc(), StoredMessage.id.desc())
            .limit(limit)
        )
        return list(await self.session.scalars(query))

    async def message(self, message_pk: uuid.UUID) -> StoredMessage | None:
        return await self.session.get(StoredMessage, message_pk)

    async def message_events(self, message_pk: uuid.UUID) -> list[MessageEvent]:
        """The message's lifecycle as the API gives it (its folded delivery steps placed)."""
        return list(await MessageRepository(self.session).events(message_pk))
