"""Every query of the worklist module: what waits on mandates, approvals, invoices and hold notices,
the offices' pace, and the reminders sent."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import ActReport
from hub.cases.models import Case
from hub.invoices.models import Invoice, InvoiceState
from hub.mandates.models import Approval, Mandate, MandateStatus
from hub.offices.models import Office
from hub.worklist.models import Reminder

# At the office and not finished: what a mandate gone quiet can be.
WORKING = (MandateStatus.ACKNOWLEDGED.value, MandateStatus.IN_PROGRESS.value)


class WorklistRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def working_mandates(self, office_id: uuid.UUID | None) -> Sequence[Any]:
        """Mandates acknowledged or in progress: (ref, office code, case ref, issued_at, the date of
        the last act reported on it or None)."""
        last_act = (
            select(ActReport.mandate_id, func.max(ActReport.act_date).label("last_act_on"))
            .group_by(ActReport.mandate_id)
            .subquery()
        )
        query = (
            select(Mandate.ref, Office.code, Case.ref, Mandate.issued_at, last_act.c.last_act_on)
            .join(Office, Office.id == Mandate.office_id)
            .join(Case, Case.id == Mandate.case_id)
            .outerjoin(last_act, last_act.c.mandate_id == Mandate.id)
            .where(Mandate.status.in_(WORKING))
        )
        if office_id is not None:
            query = query.where(Mandate.office_id == office_id)
        return (await self.session.execute(query)).all()

    async def act_dates(self, since: date, office_id: uuid.UUID | None) -> Sequence[Any]:
        """(office code, mandate id, act date) of every act reported from ``since``, for the offices'
        pace."""
        query = (
            select(Office.code, ActReport.mandate_id, ActReport.act_date)
            .join(Office, Office.id == ActReport.office_id)
            .where(ActReport.act_date >= since)
        )
        if office_id is not None:
            query = query.where(ActReport.office_id == office_id)
        return (await self.session.execute(query)).all()

    async def unacknowledged_mandates(
        self, issued_before: datetime, office_id: uuid.UUID | None
    ) -> Sequence[Any]:
        """Mandates issued before ``issued_before`` and still neither accepted nor refused: (ref,
        office code, case ref, issued_at)."""
        query = (
            select(Mandate.ref, Office.code, Case.ref, Mandate.issued_at)
            .join(Office, Office.id == Mandate.office_id)
            .join(Case, Case.id == Mandate.case_id)
            .where(Mandate.status == MandateStatus.ISSUED.value, Mandate.issued_at < issued_before)
        )
        if office_id is not None:
            query = query.where(Mandate.office_id == office_id)
        return (await self.session.execute(query)).all()

    async def held_mandates(self, office_id: uuid.UUID | None) -> Sequence[Any]:
        """Mandates held for a person's approval: (mandate, office code, case ref)."""
        query = (
            select(Mandate, Office.code, Case.ref)
            .join(Office, Office.id == Mandate.office_id)
            .join(Case, Case.id == Mandate.case_id)
            .where(Mandate.status == MandateStatus.HELD.value)
        )
        if office_id is not None:
            query = query.where(Mandate.office_id == office_id)
        return (await self.session.execute(query)).all()

    async def pending_cost_requests(self, office_id: uuid.UUID | None) -> Sequence[Any]:
        """Offices' cost requests waiting for a decision: (approval, mandate ref, office code, case ref)."""
        query = (
            select(Approval, Mandate.ref, Office.code, Case.ref)
            .join(Mandate, Mandate.id == Approval.mandate_id)
            .join(Office, Office.id == Mandate.office_id)
            .join(Case, Case.id == Mandate.case_id)
            .where(Approval.decision.is_(None), Approval.request_message_id.is_not(None))
        )
        if office_id is not None:
            query = query.where(Mandate.office_id == office_id)
        return (await self.session.execute(query)).all()

    async def disputed_invoices(self, office_id: uuid.UUID | None) -> Sequence[Any]:
        """Invoices disputed and not settled: (invoice, office code)."""
        query = (
            select(Invoice, Office.code)
            .join(Office, Office.id == Invoice.office_id)
            .where(Invoice.state == InvoiceState.DISPUTED.value)
        )
        if office_id is not None:
            query = query.where(Invoice.office_id == office_id)
        return (await self.session.execute(query)).all()

    # Reminders.

    def add(self, reminder: Reminder) -> None:
        self.session.add(reminder)

    async def reminded_today(
        self, office_id: uuid.UUID, topic: str, subject: str, day: date
    ) -> Reminder | None:
        """The reminder of this item already sent on ``day``, forced or not."""
        return await self.session.scalar(
            select(Reminder)
            .where(
                Reminder.office_id == office_id,
                Reminder.topic == topic,
                Reminder.subject == subject,
                Reminder.sent_on == day,
            )
            .order_by(Reminder.sent_at.desc())
            .limit(1)
        )

    async def last_reminders(
        self, items: Collection[tuple[uuid.UUID, str, str]]
    ) -> dict[tuple[uuid.UUID, str, str], Reminder]:
        """The last reminder sent of each (office id, topic, subject) of ``items``."""
        if not items:
            return {}
        rows = await self.session.scalars(
            select(Reminder)
            .where(tuple_(Reminder.office_id, Reminder.topic, Reminder.subject).in_(list(items)))
            .order_by(Reminder.sent_at)
        )
        return {(r.office_id, r.topic, r.subject): r for r in rows}

    async def reminder(self, message_id: str, *, for_update: bool = False) -> Reminder | None:
        """``for_update``: locked and read fresh, so two acknowledgements are recorded one after the other."""
        query = select(Reminder).where(Reminder.message_id == message_id)
        if for_update:
            query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def erase_free_text(self, case_ref: str, erased: str) -> int:
        """Blanks the free texts of the reminders about a case (staff's comment, the office's answer),
        which may name the debtor (``hub gdpr erase``); returns how many reminders were touched."""
        done = await self.session.execute(
            update(Reminder)
            .where(Reminder.case_ref == case_ref)
            .values(
                comment=case((Reminder.comment.is_(None), None), else_=erased),
                ack_comment=case((Reminder.ack_comment.is_(None), None), else_=erased),
            )
        )
        return int(done.rowcount or 0)  # type: ignore[attr-defined]
