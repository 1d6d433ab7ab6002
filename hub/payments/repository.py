"""Every query of the payments module."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.invoices.models import Invoice, InvoiceState
from hub.offices.models import Office
from hub.payments.models import PaymentRun


class PaymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def payable_for_update(self) -> list[tuple[Invoice, Office]]:
        """Every invoice approved for payment and in no run yet, with its office, locked until commit
        in id order. On PostgreSQL a second run started meanwhile waits on these rows, then re-reads
        them: those the first run took now have a run and drop out of its selection, so no invoice
        is in two runs. SQLite has one writer at a time."""
        rows = await self.session.execute(
            select(Invoice, Office)
            .join(Office, Office.id == Invoice.office_id)
            .where(Invoice.state == InvoiceState.APPROVED.value, Invoice.payment_run_id.is_(None))
            .order_by(Invoice.id)
            .with_for_update(of=Invoice)
            .execution_options(populate_existing=True)
        )
        return [(invoice, office) for invoice, office in rows.all()]

    async def add(self, run: PaymentRun) -> None:
        self.session.add(run)
        await self.session.flush()

    async def get(self, run_id: uuid.UUID, *, for_update: bool = False) -> PaymentRun | None:
        query = select(PaymentRun).where(PaymentRun.id == run_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def invoices_of(self, run_id: uuid.UUID) -> list[tuple[Invoice, str]]:
        rows = await self.session.execute(
            select(Invoice, Office.code)
            .join(Office, Office.id == Invoice.office_id)
            .where(Invoice.payment_run_id == run_id)
            .order_by(Office.code, Invoice.number)
        )
        return [(invoice, code) for invoice, code in rows.all()]

    async def page(self, *, after: uuid.UUID | None, limit: int) -> list[PaymentRun]:
        """Runs newest first; ``after`` is the last run already read (the cursor)."""
        query = select(PaymentRun).order_by(PaymentRun.created_at.desc(), PaymentRun.id.desc()).limit(limit)
        if after is not None:
            cursor = select(PaymentRun.created_at).where(PaymentRun.id == after).scalar_subquery()
            query = query.where(
                (PaymentRun.created_at < cursor)
                | ((PaymentRun.created_at == cursor) & (PaymentRun.id < after))
            )
        return list((await self.session.execute(query)).scalars())
