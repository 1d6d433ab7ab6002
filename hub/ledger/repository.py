"""Every query of the ledger module. Rows are only ever inserted; balances are sums over entries,
computed when asked (there is no balance column to drift)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any, TypeVarTuple

from sqlalchemy import ColumnElement, Select, Uuid, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.acts.models import ActReport
from hub.cases.models import Case
from hub.kit.db import RowBuffer
from hub.ledger.models import LedgerEntry, LedgerOfficeMonth, LedgerTransaction
from hub.ledger.postings import (
    ACT_FEES,
    FEES_DISBURSEMENTS,
    FEES_EMOLUMENTS,
    Balances,
    JournalRow,
    Statement,
    StatementLine,
    add_up,
    exact_cents,
)
from hub.offices.models import Office

ACT_REPORT_SOURCE = "act_report:"
Row = TypeVarTuple("Row")


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add_transaction(
        self, transaction: LedgerTransaction, entries: Sequence[Mapping[str, object]]
    ) -> None:
        """Stages the transaction and its entries: the next flush writes them, with whatever else is
        pending, in one multi-row INSERT per table (a batch of act reports posts thousands). Entries
        are insert-only: no code changes one, and on PostgreSQL a trigger refuses UPDATE and DELETE."""
        if RowBuffer.of(self.session) is not None:  # a batch chunk: one executemany per table
            row = RowBuffer.row_of(transaction, defaulted=("recorded_at",))
            self.stage_transaction(row, entries)
            return
        self.session.add(transaction)
        self.session.add_all([LedgerEntry(**e, transaction=transaction) for e in entries])

    def stage_transaction(self, row: dict[str, Any], entries: Sequence[Mapping[str, object]]) -> bool:
        """The transaction ``row`` (every column of ``ledger_transactions`` but ``recorded_at``) and
        its entries as rows of the session's row buffer, with no ORM object; False, staging
        nothing, when no buffer is open."""
        buffer = RowBuffer.of(self.session)
        if buffer is None:
            return False
        buffer.add(LedgerTransaction, row)
        transaction_id = row["id"]
        buffer.extend(LedgerEntry, [{**e, "transaction_id": transaction_id} for e in entries])
        return True

    async def transaction(self, transaction_id: uuid.UUID) -> LedgerTransaction | None:
        return await self.session.get(LedgerTransaction, transaction_id)

    async def reversal_of(self, transaction_id: uuid.UUID) -> uuid.UUID | None:
        """The id of the transaction that reverses ``transaction_id``, if any."""
        return (
            await self.session.execute(
                select(LedgerTransaction.id).where(LedgerTransaction.reverses_id == transaction_id)
            )
        ).scalar_one_or_none()

    async def standing(self, kind: str, office_id: uuid.UUID, source: str) -> uuid.UUID | None:
        """A transaction of ``kind``, office and source that is not a reversal and is not reversed."""
        reversal = aliased(LedgerTransaction)
        query = select(LedgerTransaction.id).where(
            LedgerTransaction.kind == kind,
            LedgerTransaction.office_id == office_id,
            LedgerTransaction.source == source,
            LedgerTransaction.reverses_id.is_(None),
            ~select(reversal.id).where(reversal.reverses_id == LedgerTransaction.id).exists(),
        )
        return (await self.session.execute(query.limit(1))).scalar_one_or_none()

    async def lock_case(self, case_id: uuid.UUID) -> None:
        """Holds the case row until commit (PostgreSQL; SQLite has one writer at a time anyway), so
        two postings checked against the case's balances are checked one after the other."""
        await self.session.execute(select(Case.id).where(Case.id == case_id).with_for_update())

    async def lock_office(self, office_id: uuid.UUID) -> None:
        """Holds the office row until commit, after its cases' rows (always in that order): a bank
        reference checked for a duplicate is then checked after any remittance of the office under
        way, whether staff post it or the office sends it (``FOR NO KEY UPDATE``: the office's act
        reports, which only reference the row, are not held up)."""
        await self.session.execute(
            select(Office.id).where(Office.id == office_id).with_for_update(key_share=True)
        )

    async def case_entries(
        self, case_id: uuid.UUID
    ) -> Sequence[tuple[LedgerEntry, LedgerTransaction, str | None]]:
        """Every entry of the case with its transaction and its office's code, oldest first."""
        rows = await self.session.execute(
            select(LedgerEntry, LedgerTransaction, Office.code)
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .outerjoin(Office, Office.id == LedgerEntry.office_id)
            .where(LedgerEntry.case_id == case_id)
            .order_by(LedgerTransaction.effective_on, LedgerTransaction.recorded_at, LedgerEntry.id)
        )
        return [(entry, transaction, code) for entry, transaction, code in rows]

    async def entries(self, transaction_id: uuid.UUID) -> Sequence[LedgerEntry]:
        rows = await self.session.execute(
            select(LedgerEntry).where(LedgerEntry.transaction_id == transaction_id).order_by(LedgerEntry.id)
        )
        return rows.scalars().all()

    async def balances(
        self,
        *,
        case_id: uuid.UUID | None = None,
        office_id: uuid.UUID | None = None,
        creditor_id: uuid.UUID | None = None,
        start: date | None = None,
        end: date | None = None,
        accounts: Collection[str] | None = None,
    ) -> Balances:
        """Balances (account -> currency -> cents) of the entries matching every filter given: a case,
        an office, a creditor (its cases), and effective dates in ``[start, end)``. One grouped query."""
        query = _sums(case_id, office_id, creditor_id, start, end)
        if accounts is not None:
            query = query.where(LedgerEntry.account.in_(list(accounts)))
        rows = (await self.session.execute(query)).all()
        return add_up(rows)

    async def office_balances_before(self, office_id: uuid.UUID, day: date) -> Balances:
        """The office's balances of the entries effective before ``day``, as ``balances(office_id=...,
        end=day)`` sums them: its months before ``day``'s month as the database keeps them
        (``LedgerOfficeMonth``), and its entries of that month before ``day``. A read of its months
        and at most one month's entries, whatever the length of its history."""
        month = day.replace(day=1)
        total = func.sum(LedgerOfficeMonth.cents)
        kept = await self.session.execute(
            select(LedgerOfficeMonth.account, LedgerOfficeMonth.currency, total)
            .where(LedgerOfficeMonth.office_id == office_id, LedgerOfficeMonth.month < month)
            .group_by(LedgerOfficeMonth.account, LedgerOfficeMonth.currency)
        )
        rows = list(kept.all())
        if day > month:
            rows += (await self.session.execute(_sums(None, office_id, None, month, day))).all()
        return add_up(rows)

    async def balance(
        self,
        account: str,
        *,
        currency: str = "EUR",
        case_id: uuid.UUID | None = None,
        office_id: uuid.UUID | None = None,
        creditor_id: uuid.UUID | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> int:
        balances = await self.balances(
            case_id=case_id,
            office_id=office_id,
            creditor_id=creditor_id,
            start=start,
            end=end,
            accounts=[account],
        )
        return balances.get(account, {}).get(currency, 0)

    async def statement(self, office_id: uuid.UUID, start: date, end: date) -> Statement:
        """The office's balances before ``start`` and its movements in ``[start, end)`` per account,
        kind of transaction and, for act reports, act code: two grouped queries (a third when
        ``start`` is not the first of a month)."""
        if end < start:
            raise ValueError(f"a period ends after it starts, got [{start}, {end})")
        opening = await self.office_balances_before(office_id, start)
        movements = (
            select(
                LedgerEntry.account,
                LedgerEntry.currency,
                LedgerTransaction.kind,
                ActReport.act_code,
                func.sum(LedgerEntry.amount_cents),
            )
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .outerjoin(ActReport, self._is_source_of(ActReport.id, LedgerTransaction.source))
            .where(
                LedgerEntry.office_id == office_id,
                # Entries carry their transaction's office: ix_ledger_transactions_office_date finds
                # the period's transactions, not a scan of every transaction's date.
                LedgerTransaction.office_id == office_id,
                LedgerTransaction.effective_on >= start,
                LedgerTransaction.effective_on < end,
            )
            .group_by(LedgerEntry.account, LedgerEntry.currency, LedgerTransaction.kind, ActReport.act_code)
        )
        lines = []
        for account, currency, kind, code, total in await self.session.execute(movements):
            cents = exact_cents(total)
            if cents:
                lines.append(StatementLine(account, currency, kind, code, cents))
        lines.sort(key=lambda line: (line.account, line.currency, line.kind, line.act_code or ""))
        return Statement(office_id=office_id, start=start, end=end, opening=opening, lines=tuple(lines))

    async def journal_rows(self, start: date, end: date, currency: str) -> list[JournalRow]:
        """Every entry of the transactions effective in ``[start, end)`` in ``currency``, with its
        transaction (id, kind, date, recording time, source, reason) and the office's code and name
        and the case's reference, in journal order: date, recording time, transaction, entry."""
        rows = await self.session.execute(
            select(
                LedgerTransaction.id,
                LedgerTransaction.kind,
                LedgerTransaction.effective_on,
                LedgerTransaction.recorded_at,
                LedgerTransaction.source,
                LedgerTransaction.reason,
                LedgerEntry.account,
                LedgerEntry.amount_cents,
                LedgerEntry.currency,
                Office.code,
                Office.name,
                Case.ref,
            )
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .outerjoin(Office, Office.id == LedgerEntry.office_id)
            .outerjoin(Case, Case.id == LedgerEntry.case_id)
            .where(
                LedgerTransaction.effective_on >= start,
                LedgerTransaction.effective_on < end,
                LedgerEntry.currency == currency,
            )
            .order_by(
                LedgerTransaction.effective_on,
                LedgerTransaction.recorded_at,
                LedgerTransaction.id,
                LedgerEntry.id,
            )
        )
        return [
            JournalRow(t, kind, on, at, source, reason, account, exact_cents(cents), cur, code, name, ref)
            for t, kind, on, at, source, reason, account, cents, cur, code, name, ref in rows.all()
        ]

    async def act_fees_by_mandate(
        self, mandate_ids: Collection[uuid.UUID], case_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        """Per mandate, the fees excl. VAT (emoluments + disbursements) posted for its act reports,
        net of reversals (a reversal keeps the kind and source of what it cancels): what a whole-file
        budget has consumed. ``case_ids``, the mandates' cases, bound the entries read (an index walk)."""
        if not mandate_ids:
            return {}
        total = func.sum(LedgerEntry.amount_cents)
        rows = await self.session.execute(
            select(ActReport.mandate_id, total)
            .select_from(LedgerEntry)
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .join(ActReport, self._is_source_of(ActReport.id, LedgerTransaction.source))
            .where(
                LedgerEntry.case_id.in_(list(case_ids)),
                LedgerEntry.account.in_([FEES_EMOLUMENTS, FEES_DISBURSEMENTS]),
                LedgerTransaction.kind == ACT_FEES,
                ActReport.mandate_id.in_(list(mandate_ids)),
            )
            .group_by(ActReport.mandate_id)
        )
        return {mandate_id: exact_cents(cents) for mandate_id, cents in rows.all()}

    def _is_source_of(self, act_report_id: Any, source: Any) -> ColumnElement[bool]:
        """``source`` reads "act_report:<uuid>" (hub.acts.service) for that act report. A UUID is 32
        hex digits on SQLite and native on PostgreSQL: each engine gets the form that looks the act
        report up by its primary key. On PostgreSQL the CASE casts only an act report's source (a
        join on text instead hashes every act report: docs/scale.md)."""
        is_act = source.startswith(ACT_REPORT_SOURCE, autoescape=True)
        reported_id = func.substr(source, len(ACT_REPORT_SOURCE) + 1)
        if self.session.get_bind().dialect.name == "sqlite":
            return and_(is_act, act_report_id == func.replace(reported_id, "-", ""))
        looked_up: ColumnElement[bool] = act_report_id == case((is_act, cast(reported_id, Uuid)))
        return looked_up

    async def entries_of(self, source: str) -> Sequence[LedgerEntry]:
        rows = await self.session.execute(
            select(LedgerEntry)
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .where(LedgerTransaction.source == source)
            .order_by(LedgerEntry.id)
        )
        return rows.scalars().all()

    async def unbalanced_transactions(self, office_ids: Collection[uuid.UUID]) -> list[uuid.UUID]:
        """Transactions of these offices whose entries do not sum to zero in some currency (there
        should be none: the check before every write, verified after the fact)."""
        query = (
            select(LedgerEntry.transaction_id)
            .where(LedgerEntry.office_id.in_(list(office_ids)))
            .group_by(LedgerEntry.transaction_id, LedgerEntry.currency)
            .having(func.sum(LedgerEntry.amount_cents) != 0)
        )
        return list((await self.session.execute(query)).scalars().all())


def _sums(
    case_id: uuid.UUID | None,
    office_id: uuid.UUID | None,
    creditor_id: uuid.UUID | None,
    start: date | None,
    end: date | None,
) -> Select[str, str, Any]:
    """(account, currency, cents) of the entries matching every filter given, one row per account and
    currency."""
    total = func.sum(LedgerEntry.amount_cents)
    query = select(LedgerEntry.account, LedgerEntry.currency, total).group_by(
        LedgerEntry.account, LedgerEntry.currency
    )
    return _filtered(query, case_id, office_id, creditor_id, start, end)


def _filtered(
    query: Select[*Row],
    case_id: uuid.UUID | None,
    office_id: uuid.UUID | None,
    creditor_id: uuid.UUID | None,
    start: date | None,
    end: date | None,
) -> Select[*Row]:
    if case_id is not None:
        query = query.where(LedgerEntry.case_id == case_id)
    if office_id is not None:
        query = query.where(LedgerEntry.office_id == office_id)
    if creditor_id is not None:
        query = query.join(Case, Case.id == LedgerEntry.case_id).where(Case.creditor_id == creditor_id)
    if start is not None or end is not None:
        query = query.join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        if office_id is not None:  # an entry carries its transaction's office: the dates by index
            query = query.where(LedgerTransaction.office_id == office_id)
        if start is not None:
            query = query.where(LedgerTransaction.effective_on >= start)
        if end is not None:
            query = query.where(LedgerTransaction.effective_on < end)
    return query
