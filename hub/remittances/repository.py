"""Every query of the remittances module: the cases an office may remit on, the money it holds per
case (its ``collected_by_office`` balances in the ledger) and since when, locks, and the remittances
themselves."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Case
from hub.ledger.models import LedgerEntry, MoneyCollectedDay, MoneyHeld
from hub.ledger.postings import COLLECTED_BY_OFFICE, exact_cents
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

    async def unremitted(self, office_id: uuid.UUID | None) -> list[tuple[str, str, str, int, date]]:
        """``oldest_unremitted``'s cases, all offices or one."""
        rows = await self.session.execute(oldest_unremitted(office_id))
        return [(code, ref, cur, exact_cents(cents), on) for code, ref, cur, cents, on in rows.all()]


def oldest_unremitted(
    office_id: uuid.UUID | None, case_ref: str | None = None
) -> Select[tuple[str, str, str, Any, date]]:
    """Each case on which an office holds money: (office code, case ref, currency, cents held, the day
    of the oldest collection not remitted), all offices or one, all cases or ``case_ref``.

    An office remits first what it collected first, so what it still holds on a case is its latest
    collections: walking the case's days of money collected from the newest back, the oldest day not
    remitted is the newest from which the money collected covers what is held, else the oldest day
    of money collected (a case with none is left out, as one holding nothing). A day's money is net
    of the collections of that day reversed since, so one reversed later does not leave the day
    looking newer.

    Read from the figures the database keeps as entries are inserted (``MoneyHeld``,
    ``MoneyCollectedDay``: migration 20261205_0035), never the ledger: the cases holding money
    through their partial index, and the days of each by key. The rule is written here alone: the
    worklist pages on its day, finance lists it (``hub.remittances.ageing.unremitted``)."""
    mine = (
        (MoneyCollectedDay.office_id == MoneyHeld.office_id)
        & (MoneyCollectedDay.case_id == MoneyHeld.case_id)
        & (MoneyCollectedDay.currency == MoneyHeld.currency)
    )
    # The case's days of money collected (net of reversals), with what they add up to from the newest
    # back: a walk of the case's rows of the key, once per case holding money.
    walked = (
        select(
            MoneyCollectedDay.collected_on.label("day"),
            func.sum(MoneyCollectedDay.cents)
            .over(order_by=MoneyCollectedDay.collected_on.desc())
            .label("covered"),
        )
        .where(mine, MoneyCollectedDay.cents > 0)
        .correlate(MoneyHeld)
        .subquery()
    )
    oldest = (
        select(
            func.coalesce(
                func.max(case((walked.c.covered >= MoneyHeld.cents, walked.c.day))), func.min(walked.c.day)
            )
        )
        .correlate(MoneyHeld)
        .scalar_subquery()
    )
    aged = (
        select(Office.code, Case.ref, MoneyHeld.currency, MoneyHeld.cents, oldest.label("oldest_on"))
        .join(Office, Office.id == MoneyHeld.office_id)
        .join(Case, Case.id == MoneyHeld.case_id)
        .where(MoneyHeld.cents > literal_column("0"))  # the partial index's own predicate, not a parameter
    )
    if office_id is not None:
        aged = aged.where(MoneyHeld.office_id == office_id)
    if case_ref is not None:
        aged = aged.where(Case.ref == case_ref)
    # Materialized on PostgreSQL: each case is walked once, whatever its day is then compared with or
    # sorted by (inlined, the walk ran again for each use of the day: three times a case on a page).
    cases = aged.cte("aged").prefix_with("MATERIALIZED", dialect="postgresql")
    return select(cases).where(cases.c.oldest_on.is_not(None))
