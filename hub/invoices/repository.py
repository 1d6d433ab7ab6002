"""Every query of the invoices module."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import ActReport
from hub.cases.models import Case
from hub.invoices.models import Invoice, InvoiceEvent, InvoiceLine
from hub.mandates.models import Approval, Mandate
from hub.offices.models import Office


class InvoiceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def number_used(self, office_id: uuid.UUID, number: str) -> bool:
        found = await self.session.execute(
            select(Invoice.id).where(Invoice.office_id == office_id, Invoice.number == number)
        )
        return found.first() is not None

    async def add(self, invoice: Invoice, lines: Sequence[InvoiceLine]) -> None:
        self.session.add(invoice)
        await self.session.flush()
        self.session.add_all(lines)
        await self.session.flush()

    async def log(
        self, invoice: Invoice, from_state: str | None, to_state: str, *, actor: str, reason: str | None
    ) -> None:
        self.session.add(
            InvoiceEvent(
                invoice_id=invoice.id, from_state=from_state, to_state=to_state, actor=actor, reason=reason
            )
        )
        await self.session.flush()

    async def acts_named(
        self,
        office_id: uuid.UUID,
        *,
        ids: Collection[uuid.UUID],
        references: Collection[str],
        approval_ids: Collection[str],
    ) -> list[tuple[ActReport, Mandate, Case]]:
        """The act reports invoice lines name, with their mandate and case, in one query: by our id
        and by approval id of any office (a line may name another office's act), by reference of
        this office only (references are per office).

        The act reports are locked until commit (PostgreSQL; SQLite has one writer at a time), in
        id order, and read before what was billed for them is: two invoices naming one act are
        matched one after the other, and the second sees the first's lines (``billed_twice``).
        ``NO KEY UPDATE``: the invoice lines that point at an act are not held up by it."""
        conditions = []
        if ids:
            conditions.append(ActReport.id.in_(ids))
        if references:
            conditions.append(
                and_(ActReport.office_id == office_id, ActReport.office_reference.in_(references))
            )
        if approval_ids:
            conditions.append(ActReport.approval_id.in_(approval_ids))
        if not conditions:
            return []
        rows = await self.session.execute(
            select(ActReport, Mandate, Case)
            .join(Mandate, Mandate.id == ActReport.mandate_id)
            .join(Case, Case.id == ActReport.case_id)
            .where(or_(*conditions))
            .order_by(ActReport.id)
            .with_for_update(of=ActReport, key_share=True)
            .execution_options(populate_existing=True)
        )
        return [(a, m, c) for a, m, c in rows.all()]

    async def approved(self, approval_ids: Collection[str]) -> list[Approval]:
        if not approval_ids:
            return []
        rows = await self.session.execute(
            select(Approval).where(Approval.approval_id.in_(approval_ids), Approval.decision == "approved")
        )
        return list(rows.scalars())

    async def billed_before(
        self, office_id: uuid.UUID, act_ids: Collection[uuid.UUID]
    ) -> list[tuple[uuid.UUID, bool, int]]:
        """(act id, disbursement, net cents) of every line of the office's stored invoices, in any
        state, for these acts: a disputed invoice may still be approved and paid, so its lines stay
        billed until a credit note's lines (negative) take them back (docs/adr/0004-invoices.md)."""
        if not act_ids:
            return []
        rows = await self.session.execute(
            select(InvoiceLine.act_report_id, InvoiceLine.disbursement, InvoiceLine.net_cents)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(Invoice.office_id == office_id, InvoiceLine.act_report_id.in_(act_ids))
        )
        return [(act_id, bool(d), int(net)) for act_id, d, net in rows.all() if act_id is not None]

    async def get(self, invoice_id: uuid.UUID) -> Invoice | None:
        return await self.session.get(Invoice, invoice_id)

    async def many_for_update(self, ids: Collection[uuid.UUID]) -> list[Invoice]:
        """Locked on PostgreSQL, so two finance decisions on one invoice happen one after the other."""
        rows = await self.session.execute(
            select(Invoice).where(Invoice.id.in_(ids)).order_by(Invoice.id).with_for_update()
        )
        return list(rows.scalars())

    async def lines(self, invoice_id: uuid.UUID) -> list[InvoiceLine]:
        rows = await self.session.execute(
            select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id).order_by(InvoiceLine.position)
        )
        return list(rows.scalars())

    async def events(self, invoice_id: uuid.UUID) -> list[InvoiceEvent]:
        rows = await self.session.execute(
            select(InvoiceEvent).where(InvoiceEvent.invoice_id == invoice_id).order_by(InvoiceEvent.id)
        )
        return list(rows.scalars())

    async def office(self, office_id: uuid.UUID) -> Office | None:
        return await self.session.get(Office, office_id)

    async def page(
        self,
        *,
        state: str | None,
        office_code: str | None,
        after: uuid.UUID | None,
        limit: int,
        office_id: uuid.UUID | None = None,
        issued_from: date | None = None,
        issued_to: date | None = None,
    ) -> list[tuple[Invoice, str]]:
        """Invoices by id (the cursor), with their office's code; ``issued_to`` excluded."""
        query = (
            select(Invoice, Office.code)
            .join(Office, Office.id == Invoice.office_id)
            .order_by(Invoice.id)
            .limit(limit)
        )
        if state is not None:
            query = query.where(Invoice.state == state)
        if office_code is not None:
            query = query.where(Office.code == office_code)
        if office_id is not None:
            query = query.where(Invoice.office_id == office_id)
        if issued_from is not None:
            query = query.where(Invoice.issue_date >= issued_from)
        if issued_to is not None:
            query = query.where(Invoice.issue_date < issued_to)
        if after is not None:
            query = query.where(Invoice.id > after)
        return [(i, code) for i, code in (await self.session.execute(query)).all()]
