"""Every query of the finance reports that the ledger does not answer: act reports (counts, flags,
what the tariff needs), mandates sent, invoice lines with findings. Money the ledger holds is read
through ``hub.ledger.repository.LedgerRepository``, never here."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, date, datetime, time

from sqlalchemy import Integer, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import ActReport
from hub.cases.models import Case
from hub.finance.reports import ActCount, ActRow, MandateRow
from hub.invoices.models import Invoice, InvoiceLine
from hub.ledger.postings import exact_cents
from hub.mandates.models import Mandate, MandateStatus

MATCHED = "matched"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


class FinanceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def acts_for_tariff(self, office_id: uuid.UUID, start: date, end: date) -> list[ActRow]:
        """The office's acts dated before ``end`` on the cases where it reported an act in
        ``[start, end)``, with the case's claim: the earlier ones tell whether the DEP was charged."""
        in_period = select(ActReport.case_id).where(
            ActReport.office_id == office_id, ActReport.act_date >= start, ActReport.act_date < end
        )
        rows = await self.session.execute(
            select(
                ActReport.case_id,
                ActReport.act_code,
                ActReport.act_date,
                Case.principal_cents + Case.interest_cents + Case.costs_cents,
                ActReport.currency,
            )
            .join(Case, Case.id == ActReport.case_id)
            .where(
                ActReport.office_id == office_id,
                ActReport.act_date < end,
                ActReport.case_id.in_(in_period),
            )
            .order_by(ActReport.case_id, ActReport.act_date, ActReport.created_at, ActReport.id)
        )
        return [ActRow(c, code, on, exact_cents(claim), cur) for c, code, on, claim, cur in rows.all()]

    async def act_counts(
        self, office_ids: Collection[uuid.UUID], start: date, end: date
    ) -> dict[uuid.UUID, dict[str, ActCount]]:
        """Per office and act code: act reports dated in ``[start, end)`` and how many were flagged."""
        flagged = func.sum(case((ActReport.flagged.is_(True), 1), else_=0), type_=Integer)
        rows = await self.session.execute(
            select(ActReport.office_id, ActReport.act_code, func.count(), flagged)
            .where(
                ActReport.office_id.in_(list(office_ids)),
                ActReport.act_date >= start,
                ActReport.act_date < end,
            )
            .group_by(ActReport.office_id, ActReport.act_code)
        )
        counts: dict[uuid.UUID, dict[str, ActCount]] = {}
        for office_id, code, n, n_flagged in rows.all():
            counts.setdefault(office_id, {})[code] = ActCount(int(n), int(n_flagged or 0))
        return counts

    async def cases_worked(
        self, office_ids: Collection[uuid.UUID], start: date, end: date
    ) -> dict[uuid.UUID, int]:
        """Per office: distinct cases with an act report dated in ``[start, end)``."""
        rows = await self.session.execute(
            select(ActReport.office_id, func.count(func.distinct(ActReport.case_id)))
            .where(
                ActReport.office_id.in_(list(office_ids)),
                ActReport.act_date >= start,
                ActReport.act_date < end,
            )
            .group_by(ActReport.office_id)
        )
        return {office_id: int(n) for office_id, n in rows.all()}

    async def mandates_sent(
        self, office_ids: Collection[uuid.UUID], start: date, end: date
    ) -> dict[uuid.UUID, list[MandateRow]]:
        """Per office: mandates issued to it in ``[start, end)`` (UTC days), whether it refused them,
        and the date of the first act it reported under each."""
        # Per mandate found, an index walk (ix_act_reports_mandate_id); a grouped subquery joined
        # instead would aggregate every act report ever made.
        first_on = (
            select(func.min(ActReport.act_date)).where(ActReport.mandate_id == Mandate.id).scalar_subquery()
        )
        rows = await self.session.execute(
            select(Mandate.office_id, Mandate.issued_at, Mandate.status, first_on).where(
                Mandate.office_id.in_(list(office_ids)),
                Mandate.issued_at >= _midnight(start),
                Mandate.issued_at < _midnight(end),
            )
        )
        sent: dict[uuid.UUID, list[MandateRow]] = {}
        for office_id, issued_at, status, first_on in rows.all():
            sent.setdefault(office_id, []).append(
                MandateRow(issued_at.date(), status == MandateStatus.REFUSED.value, first_on)
            )
        return sent

    async def disputed_lines(
        self, office_id: uuid.UUID, start: date, end: date, currency: str
    ) -> list[tuple[str, int, int]]:
        """(result, lines, net + VAT cents) of the lines with a finding, of the office's invoices
        issued in ``[start, end)``."""
        amount = func.sum(InvoiceLine.net_cents + func.coalesce(InvoiceLine.vat_cents, 0))
        rows = await self.session.execute(
            select(InvoiceLine.result, func.count(), amount)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(
                Invoice.office_id == office_id,
                Invoice.currency == currency,
                Invoice.issue_date >= start,
                Invoice.issue_date < end,
                InvoiceLine.result != MATCHED,
            )
            .group_by(InvoiceLine.result)
        )
        return [(code, int(n), exact_cents(cents)) for code, n, cents in rows.all()]

    async def invoices_received(
        self, office_id: uuid.UUID, start: date, end: date, currency: str
    ) -> tuple[int, int]:
        """(count, gross cents) of the office's invoices issued in ``[start, end)``, any state."""
        row = (
            await self.session.execute(
                select(func.count(), func.coalesce(func.sum(Invoice.total_gross_cents), 0)).where(
                    Invoice.office_id == office_id,
                    Invoice.currency == currency,
                    Invoice.issue_date >= start,
                    Invoice.issue_date < end,
                )
            )
        ).one()
        return int(row[0]), exact_cents(row[1])
