"""Every query of the acts module (act reports, and what their checks read of mandates and cases)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import ActReport
from hub.cases.models import Case, Debtor
from hub.mandates.models import Approval, Mandate, MandateEvent
from hub.messaging.models import Receipt, StoredMessage


class ActReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def mandate_by_ref(self, ref: str) -> Mandate | None:
        found = await self.session.execute(select(Mandate).where(Mandate.ref == ref))
        return found.scalar_one_or_none()

    async def case_with_debtor(self, case_id: uuid.UUID) -> tuple[Case, Debtor] | None:
        row = (
            await self.session.execute(
                select(Case, Debtor).join(Debtor, Debtor.id == Case.debtor_id).where(Case.id == case_id)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def approval(self, approval_id: str, mandate_id: uuid.UUID) -> Approval | None:
        found = await self.session.execute(
            select(Approval).where(Approval.approval_id == approval_id, Approval.mandate_id == mandate_id)
        )
        return found.scalar_one_or_none()

    async def reference_used(self, office_id: uuid.UUID, office_reference: str) -> bool:
        found = await self.session.execute(
            select(ActReport.id).where(
                ActReport.office_id == office_id, ActReport.office_reference == office_reference
            )
        )
        return found.first() is not None

    async def recent_reports_on_case(self, case_id: uuid.UUID, *, limit: int = 50) -> Sequence[ActReport]:
        """The latest acts of a case (what its cost check looks at), newest first."""
        found = await self.session.execute(
            select(ActReport)
            .where(ActReport.case_id == case_id)
            .order_by(ActReport.act_date.desc(), ActReport.created_at.desc())
            .limit(limit)
        )
        return found.scalars().all()

    async def add(self, report: ActReport) -> None:
        self.session.add(report)
        await self.session.flush()

    async def set_mandate_status(self, mandate: Mandate, to_status: str, *, actor: str, reason: str) -> None:
        """A direct status change with its log row (the mandates module owns the full state machine)."""
        from_status = mandate.status
        await self.session.execute(update(Mandate).where(Mandate.id == mandate.id).values(status=to_status))
        self.session.add(
            MandateEvent(
                mandate_id=mandate.id,
                from_status=from_status,
                to_status=to_status,
                actor=actor,
                reason=reason,
            )
        )
        mandate.status = to_status
        await self.session.flush()

    async def by_message(self, message_pk: uuid.UUID) -> ActReport | None:
        found = await self.session.execute(select(ActReport).where(ActReport.message_pk == message_pk))
        return found.scalar_one_or_none()

    async def batch_records(self, batch_pk: uuid.UUID) -> Sequence[Any]:
        """The records of a batch in order: (message id, hub id, accepted, errors)."""
        rows = await self.session.execute(
            select(StoredMessage.message_id, StoredMessage.id, Receipt.accepted, Receipt.errors)
            .join(Receipt, Receipt.message_pk == StoredMessage.id)
            .where(StoredMessage.parent_id == batch_pk, StoredMessage.direction == "inbound")
            .order_by(StoredMessage.created_at, StoredMessage.id)
        )
        return rows.all()
