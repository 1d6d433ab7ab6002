"""Every query of the remittances module: the cases an office may remit on, the money it holds per
case (its ``collected_by_office`` balances in the ledger), locks, and the remittances themselves."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.cases.models import Case
from hub.ledger.models import LedgerEntry, LedgerTransaction
from hub.ledger.postings import COLLECTED_BY_OFFICE, COLLECTION, exact_cents
from hub.mandates.models import Mandate
from hub.offices.models import Office
from hub.remittances.models import Remittance, RemittanceLine


class RemittanceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def mandated_cases(self, office_id: uuid.UUID, refs: Collection[str]) -> dict[str, uuid.UUID]:
        """Case ref -> case id, for the cases among ``refs`` the office holds (or held) a mandate on
        that reached it (issued), whatever its state since: money collected before a mandate ended is
        still remitted. A mandate never sent (draft, held, refused) tells the office nothing: its
        case answers like an unknown one."""
        if not refs:
            return {}
        rows = await self.session.execute(
            select(Case.ref, Case.id)
            .join(Mandate, Mandate.case_id == Case.id)
            .where(Case.ref.in_(list(refs)), Mandate.office_id == office_id, Mandate.issued_at.is_not(None))
            .distinct()
        )
        return {ref: case_id for ref, case_id in rows.all()}

    async def lock_cases(self, case_ids: Collection[uuid.UUID]) -> None:
        """Holds the cases' rows until commit, in one order (no deadlock between two remittances
        naming the same cases), so what is left to remit is read after any concurrent remittance on
        them committed (PostgreSQL; SQLite has one writer at a time)."""
        if case_ids:
            await self.session.execute(
                select(Case.id).where(Case.id.in_(list(case_ids))).order_by(Case.id).with_for_update()
            )

    async def held(
        self, office_id: uuid.UUID, case_ids: Collection[uuid.UUID], currency: str
    ) -> dict[uuid.UUID, int]:
        """Per case, what the office collected there and has not remitted (its ``collected_by_office``
        balance, net of reversals): one grouped query on the ledger's case index."""
        if not case_ids:
            return {}
        rows = await self.session.execute(
            select(LedgerEntry.case_id, func.sum(LedgerEntry.amount_cents))
            .where(
                LedgerEntry.case_id.in_(list(case_ids)),
                LedgerEntry.account == COLLECTED_BY_OFFICE,
                LedgerEntry.currency == currency,
                LedgerEntry.office_id == office_id,
            )
            .group_by(LedgerEntry.case_id)
        )
        return {case_id: exact_cents(total) for case_id, total in rows.all() if case_id is not None}

    async def by_bank_reference(self, office_id: uuid.UUID, bank_reference: str) -> Remittance | None:
        return (
            await self.session.execute(
                select(Remittance).where(
                    Remittance.office_id == office_id, Remittance.bank_reference == bank_reference
                )
            )
        ).scalar_one_or_none()

    def add(self, remittance: Remittance, lines: Sequence[RemittanceLine]) -> None:
        self.session.add(remittance)
        self.session.add_all(lines)

    async def get(self, remittance_id: uuid.UUID) -> tuple[Remittance, str] | None:
        """The remittance and its office's code."""
        row = (
            await self.session.execute(
                select(Remittance, Office.code)
                .join(Office, Office.id == Remittance.office_id)
                .where(Remittance.id == remittance_id)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def lines_of(self, remittance_id: uuid.UUID) -> list[tuple[RemittanceLine, str]]:
        """The remittance's lines in order, each with its case's ref."""
        rows = await self.session.execute(
            select(RemittanceLine, Case.ref)
            .join(Case, Case.id == RemittanceLine.case_id)
            .where(RemittanceLine.remittance_id == remittance_id)
            .order_by(RemittanceLine.position)
        )
        return [(line, ref) for line, ref in rows.all()]

    async def list(
        self,
        *,
        office_id: uuid.UUID | None,
        office_code: str | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[tuple[Remittance, str]]:
        """Remittances with their office's code, by id after ``after`` (keyset pagination)."""
        query = (
            select(Remittance, Office.code)
            .join(Office, Office.id == Remittance.office_id)
            .order_by(Remittance.id)
            .limit(limit)
        )
        if office_id is not None:
            query = query.where(Remittance.office_id == office_id)
        if office_code is not None:
            query = query.where(Office.code == office_code)
        if after is not None:
            query = query.where(Remittance.id > after)
        return [(remittance, code) for remittance, code in (await self.session.execute(query)).all()]

    async def held_movements(self, office_id: uuid.UUID | None) -> list[tuple[str, str, str, str, date, int]]:
        """Every movement of money offices hold (``held_movements``), all offices or one."""
        rows = await self.session.execute(held_movements(office_id))
        return [
            (code, ref, cur, kind, day, exact_cents(cents)) for code, ref, cur, kind, day, cents in rows.all()
        ]


def held_movements(
    office_id: uuid.UUID | None, case_ref: str | None = None
) -> Select[tuple[str, str, str, str, date, Any]]:
    """Every movement of money offices hold (``collected_by_office``), summed per office, case,
    currency, kind of transaction and effective day: (office code, case ref, currency, kind, day,
    cents). A reversal counts on the day of the transaction it reverses, so a collection reversed
    later nets out on its own day instead of leaving it looking newer. What
    ``hub.remittances.ageing`` ages; all offices, or one (and all cases, or ``case_ref``)."""
    total = func.sum(LedgerEntry.amount_cents)
    reversed_ = aliased(LedgerTransaction)
    day = func.coalesce(reversed_.effective_on, LedgerTransaction.effective_on)
    query = (
        select(
            Office.code,
            Case.ref,
            LedgerEntry.currency,
            LedgerTransaction.kind,
            day.label("day"),
            total.label("cents"),
        )
        .select_from(LedgerEntry)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .outerjoin(reversed_, reversed_.id == LedgerTransaction.reverses_id)
        .join(Office, Office.id == LedgerEntry.office_id)
        .join(Case, Case.id == LedgerEntry.case_id)
        .where(LedgerEntry.account == COLLECTED_BY_OFFICE)
        .group_by(Office.code, Case.ref, LedgerEntry.currency, LedgerTransaction.kind, day)
    )
    if office_id is not None:
        query = query.where(LedgerEntry.office_id == office_id)
    if case_ref is not None:
        query = query.where(Case.ref == case_ref)
    return query


def oldest_unremitted(
    office_id: uuid.UUID | None, case_ref: str | None = None
) -> Select[tuple[str, str, str, Any, date]]:
    """``hub.remittances.ageing.unremitted``'s cases in the database: (office code, case ref,
    currency, cents held, the day of the oldest collection not remitted) of each case on which an
    office holds money, all offices or one, all cases or ``case_ref``. The oldest day is found as
    ``oldest_unremitted`` walks the case's days of money collected from the newest back: the newest
    day from which the money collected covers what is held, else the oldest day of money collected
    (a case with none is left out, as one holding nothing)."""
    movements = held_movements(office_id, case_ref).subquery()
    code, ref, currency, day, cents = (movements.c[c] for c in ("code", "ref", "currency", "day", "cents"))
    daily = (
        select(
            code,
            ref,
            currency,
            day,
            func.sum(case((movements.c.kind == COLLECTION, cents), else_=0)).label("collected"),
            func.sum(cents).label("moved"),
        )
        .group_by(code, ref, currency, day)
        .subquery()
    )
    case_of = (daily.c.code, daily.c.ref, daily.c.currency)
    collected = case((daily.c.collected > 0, daily.c.collected), else_=0)
    walked = select(
        *case_of,
        daily.c.day,
        daily.c.collected,
        func.sum(daily.c.moved).over(partition_by=case_of).label("held"),
        func.sum(collected).over(partition_by=case_of, order_by=daily.c.day.desc()).label("covered"),
    ).subquery()
    collected_on = walked.c.collected > 0
    oldest = func.coalesce(
        func.max(case((collected_on & (walked.c.covered >= walked.c.held), walked.c.day))),
        func.min(case((collected_on, walked.c.day))),
    )
    held = func.max(walked.c.held)
    return (
        select(walked.c.code, walked.c.ref, walked.c.currency, held.label("cents"), oldest.label("oldest_on"))
        .group_by(walked.c.code, walked.c.ref, walked.c.currency)
        .having(held > 0, oldest.is_not(None))
    )
