"""Every query of the mandates module."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, String, Uuid, bindparam, false, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.acts.models import ActReport, ActReportTally, MandateActTally
from hub.cases.models import Case, CaseUpdate, Debtor
from hub.cases.repository import CaseRepository
from hub.kit.db import any_of, records
from hub.kit.pagination import after_row, fetch
from hub.ledger.models import LedgerEntry
from hub.ledger.postings import Balances, add_up
from hub.ledger.repository import LedgerRepository
from hub.mandates.models import Approval, CaseUpdateNotice, Hold, HoldNotice, Mandate, MandateEvent
from hub.offices.models import Office
from schemas.v1.case_updates import CaseUpdateKind

# The per-act mandates' tallies, read for every act report under one (``acts_reported``): built once.
_ACTS_REPORTED = select(MandateActTally.mandate_id, MandateActTally.act_code, MandateActTally.reports).where(
    MandateActTally.mandate_id.in_(bindparam("mandate_ids", expanding=True))
)

# What a mandate's checks read of its debtor's acts (``reports_on_debtor``, ``on_debtor``), built once.
_REPORTS_ON_DEBTOR = (
    select(
        ActReport.case_id,
        ActReport.mandate_id,
        ActReport.act_code,
        ActReport.act_date,
        ActReport.outcome_code,
        ActReport.seized_cents,
        ActReport.collected_cents,
        ActReport.office_reference,
        Office.code.label("office_code"),
    )
    .join(Case, Case.id == ActReport.case_id)
    .join(Office, Office.id == ActReport.office_id)
    .where(Case.debtor_id == bindparam("debtor_id"))
    .order_by(ActReport.act_date.desc(), ActReport.created_at.desc())
)
_MANDATES_ON_DEBTOR = (
    select(Mandate.id, Case.id.label("case_id"), Mandate.status, Mandate.issued_at, Mandate.acts)
    .join(Case, Case.id == Mandate.case_id)
    .where(Case.debtor_id == bindparam("debtor_id"))
)

# PostgreSQL: the reads of a mandate's checks once its debtor is locked, folded into one statement
# (one round trip, and one statement's CPU through SQLAlchemy instead of five), as the act reports'
# reads after their locks are (``hub.acts.repository``): whether the mandate's ref is taken, the
# debtor's act reports and mandates, the case's ledger balances (``LedgerRepository.balances``) and
# the payments made to the agency (``CaseRepository.payments_received``), each read as its own
# statement would. SQLite keeps the statements (a round trip there is a function call).
_FOLDED_READS = select(
    select(Mandate.id).where(Mandate.ref == bindparam("ref", type_=String())).exists().label("ref_taken"),
    records(_REPORTS_ON_DEBTOR).label("reports"),
    records(_MANDATES_ON_DEBTOR).label("mandates"),
    records(
        select(LedgerEntry.account, LedgerEntry.currency, func.sum(LedgerEntry.amount_cents))
        .where(
            LedgerEntry.case_id == bindparam("case_id", type_=Uuid()),
            LedgerEntry.account == any_of("accounts", String()),
        )
        .group_by(LedgerEntry.account, LedgerEntry.currency)
    ).label("balances"),
    select(func.coalesce(func.sum(CaseUpdate.amount_cents), 0))
    .where(
        CaseUpdate.case_id == bindparam("case_id", type_=Uuid()),
        CaseUpdate.kind == CaseUpdateKind.PAYMENT_RECEIVED.value,
        CaseUpdate.currency == bindparam("currency"),
    )
    .scalar_subquery()
    .label("paid"),
)


class ReportOnDebtor(NamedTuple):
    """An accepted act report on one of the debtor's cases (``reports_on_debtor``)."""

    case_id: uuid.UUID
    mandate_id: uuid.UUID
    act_code: str
    act_date: date
    outcome_code: str
    seized_cents: int
    collected_cents: int
    office_reference: str
    office_code: str


class MandateOnDebtor(NamedTuple):
    """A mandate on one of the debtor's cases, what its acts ordered still count for (``on_debtor``)."""

    id: uuid.UUID
    case_id: uuid.UUID
    status: str
    issued_at: datetime | None
    acts: list[str]


@dataclass(frozen=True)
class ReadsAfterLock:
    """What a mandate's checks read once its debtor is locked (``reads_after_lock``)."""

    ref_taken: bool  # a mandate has the ref asked about
    reports: list[ReportOnDebtor]  # newest first
    mandates: list[MandateOnDebtor]
    balances: Balances  # the case's, of the accounts asked for
    paid_cents: int  # paid to the agency directly on the case, in its currency


class MandateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_id(self, mandate_id: uuid.UUID) -> Mandate | None:
        return await self.session.get(Mandate, mandate_id)

    async def get_by_ref(self, ref: str, *, for_update: bool = False) -> Mandate | None:
        """``for_update``: locked until commit (PostgreSQL; SQLite has one writer at a time) and read
        fresh, so that a change checked against its status is checked after any other in flight."""
        query = select(Mandate).where(Mandate.ref == ref)
        if for_update:
            query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def existing_refs(self, refs: Sequence[str]) -> set[str]:
        if not refs:
            return set()
        return set(await self.session.scalars(select(Mandate.ref).where(Mandate.ref.in_(list(refs)))))

    async def page(
        self,
        *,
        office_id: uuid.UUID | None,
        status: str | None,
        after: str | None,
        limit: int,
    ) -> list[tuple[Mandate, str, str]]:
        """Mandates by ref (the cursor), with their case ref and office code; an office's only."""
        query = (
            select(Mandate, Case.ref, Office.code)
            .join(Case, Case.id == Mandate.case_id)
            .join(Office, Office.id == Mandate.office_id)
            .order_by(Mandate.ref)
            .limit(limit)
        )
        if office_id is not None:
            query = query.where(Mandate.office_id == office_id)
        if status is not None:
            query = query.where(Mandate.status == status)
        if after is not None:
            query = query.where(Mandate.ref > after)
        return [(m, case_ref, code) for m, case_ref, code in (await self.session.execute(query)).all()]

    async def waiting_page(
        self,
        *,
        office_id: uuid.UUID | None,
        case_id: uuid.UUID | None,
        after: str | None,
        limit: int,
    ) -> Sequence[Row[Any]]:
        """Held mandates by ref (the cursor), ``fetch(limit)`` of them, of one office or case or all,
        each with what a person needs to decide it: case ref, office code, debtor, balance. Walks
        ``ix_mandates_status_ref``."""
        query = (
            select(
                Mandate,
                Case.ref.label("case_ref"),
                Office.code.label("office_code"),
                Debtor.name.label("debtor_name"),
                (Case.principal_cents + Case.interest_cents + Case.costs_cents - Case.paid_cents).label(
                    "outstanding_cents"
                ),
            )
            .join(Case, Case.id == Mandate.case_id)
            .join(Debtor, Debtor.id == Case.debtor_id)
            .join(Office, Office.id == Mandate.office_id)
            .where(Mandate.status == "held")
            .order_by(Mandate.ref)
            .limit(fetch(limit))
        )
        if office_id is not None:
            query = query.where(Mandate.office_id == office_id)
        if case_id is not None:
            query = query.where(Mandate.case_id == case_id)
        if after is not None:
            query = query.where(Mandate.ref > after)
        return (await self.session.execute(query)).all()

    async def cost_requests_page(
        self,
        *,
        office_code: str | None,
        approval_id: str | None = None,
        after: str | None,
        limit: int,
    ) -> Sequence[Row[Any]]:
        """Offices' cost requests waiting for a decision by approval id (the cursor), ``fetch(limit)``
        of them, of one office or all (or the one ``approval_id``, pending or decided), each with its
        mandate, case ref, debtor and balance. Walks ``ix_approvals_pending_id``."""
        query = (
            select(
                Approval,
                Mandate.ref.label("mandate_ref"),
                Mandate.kind.label("mandate_kind"),
                Mandate.currency.label("currency"),
                Case.ref.label("case_ref"),
                Debtor.name.label("debtor_name"),
                (Case.principal_cents + Case.interest_cents + Case.costs_cents - Case.paid_cents).label(
                    "outstanding_cents"
                ),
            )
            .join(Mandate, Mandate.id == Approval.mandate_id)
            .join(Case, Case.id == Mandate.case_id)
            .join(Debtor, Debtor.id == Case.debtor_id)
            .where(Approval.request_message_id.is_not(None))
            .order_by(Approval.approval_id)
            .limit(fetch(limit))
        )
        if approval_id is not None:
            query = query.where(Approval.approval_id == approval_id)
        else:
            query = query.where(Approval.decision.is_(None))
        if office_code is not None:
            query = query.where(Approval.requested_by == office_code)
        if after is not None:
            query = query.where(Approval.approval_id > after)
        return (await self.session.execute(query)).all()

    async def on_debtor(self, debtor_id: uuid.UUID) -> list[MandateOnDebtor]:
        """Every mandate on the debtor's cases, with its case id (for prerequisites and pacing)."""
        rows = await self.session.execute(_MANDATES_ON_DEBTOR, {"debtor_id": debtor_id})
        return [MandateOnDebtor._make(row) for row in rows]

    async def reports_on_debtor(self, debtor_id: uuid.UUID) -> list[ReportOnDebtor]:
        """Every accepted act report on the debtor's cases, newest first (act date, then arrival):
        what was done, when and with what outcome, with its case, mandate, office code and office
        reference (case facts, prerequisites and pacing)."""
        rows = await self.session.execute(_REPORTS_ON_DEBTOR, {"debtor_id": debtor_id})
        return [ReportOnDebtor._make(row) for row in rows]

    async def reads_after_lock(
        self, case: Case, *, accounts: Collection[str], ref: str | None = None
    ) -> ReadsAfterLock:
        """What a mandate on ``case`` is checked against, read once its debtor is locked: whether a
        mandate has ``ref`` (None: not asked), ``reports_on_debtor``, ``on_debtor``, the case's
        ledger balances of ``accounts`` and the payments made to the agency on it in its currency.
        One statement on PostgreSQL (``_FOLDED_READS``), a statement each on SQLite."""
        if self.session.get_bind().dialect.name != "postgresql":
            return ReadsAfterLock(
                ref_taken=ref is not None and await self.get_by_ref(ref) is not None,
                reports=await self.reports_on_debtor(case.debtor_id),
                mandates=await self.on_debtor(case.debtor_id),
                balances=await LedgerRepository(self.session).balances(case_id=case.id, accounts=accounts),
                paid_cents=await CaseRepository(self.session).payments_received(case.id, case.currency),
            )
        found = await self.session.execute(
            _FOLDED_READS,
            {
                "ref": ref,
                "debtor_id": case.debtor_id,
                "case_id": case.id,
                "accounts": list(accounts),
                "currency": case.currency,
            },
        )
        ref_taken, reports, mandates, balances, paid = found.one()
        return ReadsAfterLock(
            ref_taken=ref_taken,
            reports=[ReportOnDebtor._make(report) for report in reports],
            mandates=[MandateOnDebtor._make(mandate) for mandate in mandates],
            balances=add_up(balances),
            paid_cents=int(paid),
        )

    async def acts_reported(self, mandate_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Counter[str]]:
        """How many act reports each mandate has per act code: its tallies (kept by a trigger as
        reports are inserted, flushed ones included), not a count of its reports."""
        found: dict[uuid.UUID, Counter[str]] = {mandate_id: Counter() for mandate_id in mandate_ids}
        rows = await self.session.execute(_ACTS_REPORTED, {"mandate_ids": list(mandate_ids)})
        for mandate_id, act_code, n in rows.all():
            found[mandate_id][act_code] += int(n)
        return found

    async def claim_lapsed(self, now: datetime, statuses: Sequence[str], limit: int) -> list[Mandate]:
        """Mandates in ``statuses`` whose validity ended by ``now``, oldest first, locked so that two
        sweeps never expire the same one (``SKIP LOCKED`` on PostgreSQL; on SQLite, which has no row
        locks, a no-op UPDATE first takes the database write lock, as the outbox relay does)."""
        if self.session.get_bind().dialect.name == "sqlite":
            await self.session.execute(update(Mandate).where(false()).values(status=Mandate.status))
        query = (
            select(Mandate)
            .where(Mandate.status.in_(list(statuses)), Mandate.expires_at <= now)
            .order_by(Mandate.expires_at, Mandate.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(await self.session.scalars(query))

    async def of_case(self, case_id: uuid.UUID) -> list[Mandate]:
        return list(
            await self.session.scalars(
                select(Mandate).where(Mandate.case_id == case_id).order_by(Mandate.ref)
            )
        )

    async def fees_reported(self, mandate_id: uuid.UUID) -> int:
        """Fees (emoluments + disbursements, excl. VAT) of the act reports under a mandate, from the
        ledger: net of reversals."""
        mandate = await self.get_by_id(mandate_id)
        if mandate is None:
            return 0
        consumed = await LedgerRepository(self.session).act_fees_by_mandate([mandate.id], [mandate.case_id])
        return consumed.get(mandate.id, 0)

    async def report_tallies(self) -> list[tuple[str, str, int, int]]:
        """Act reports counted by act and office, with the share of the balance they brought back
        (summed in basis points): what expected recovery is learned from. Read from the tallies a
        trigger keeps as reports are inserted (their slots summed): its cost follows the acts and
        offices there are, not the reports."""
        rows = await self.session.execute(
            select(
                ActReportTally.act_code,
                Office.code,
                func.sum(ActReportTally.reports),
                func.sum(ActReportTally.recovered_bp),
            )
            .join(Office, Office.id == ActReportTally.office_id)
            .group_by(ActReportTally.act_code, Office.code)
        )
        return [(act, office, int(n), int(bp)) for act, office, n, bp in rows.all()]

    async def events(self, mandate_id: uuid.UUID) -> list[MandateEvent]:
        return list(
            await self.session.scalars(
                select(MandateEvent).where(MandateEvent.mandate_id == mandate_id).order_by(MandateEvent.id)
            )
        )

    async def approvals_of(self, mandate_id: uuid.UUID) -> list[Approval]:
        return list(
            await self.session.scalars(
                select(Approval).where(Approval.mandate_id == mandate_id).order_by(Approval.created_at)
            )
        )

    async def approval(self, approval_id: str, *, for_update: bool = False) -> Approval | None:
        """``for_update``: locked and read fresh, so that two decisions are taken one after the other."""
        query = select(Approval).where(Approval.approval_id == approval_id)
        if for_update:
            query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def hold_notice(
        self, message_id: str, *, for_update: bool = False
    ) -> tuple[HoldNotice, list[str]] | None:
        """The hold notice sent with this message id, with the refs of the mandates it listed;
        ``for_update``: the notice locked and read fresh, so that two acknowledgements are recorded
        one after the other."""
        query = (
            select(HoldNotice, Mandate.ref)
            .outerjoin(Mandate, Mandate.id == HoldNotice.mandate_id)  # the notices of before: one mandate
            .where(HoldNotice.message_id == message_id)
        )
        if for_update:
            query = query.with_for_update(of=HoldNotice, key_share=True).execution_options(
                populate_existing=True
            )
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        notice, legacy_ref = row
        return notice, notice.mandate_refs if legacy_ref is None else [legacy_ref]

    async def hold_notices(
        self,
        *,
        unacknowledged_due_by: datetime | None,
        office_id: uuid.UUID | None = None,
        after: str | None = None,
        limit: int,
    ) -> list[tuple[HoldNotice, list[str], str, str, str | None]]:
        """Hold notices with their mandate refs, case ref, office code and hold id (None on the
        notices of before holds were records), ``fetch(limit)`` of them after the notice ``after``
        (its message id), of one office or all: the latest sent first, or with
        ``unacknowledged_due_by``, those still unacknowledged whose deadline passed by then, the
        most overdue first."""
        query = (
            select(HoldNotice, Mandate.ref, Case.ref, Office.code, Hold.hold_id)
            .outerjoin(Hold, Hold.id == HoldNotice.hold_id)
            .outerjoin(Mandate, Mandate.id == HoldNotice.mandate_id)
            .join(Case, Case.id == func.coalesce(Hold.case_id, Mandate.case_id))
            .join(Office, Office.id == HoldNotice.office_id)
            .limit(fetch(limit))
        )
        if office_id is not None:
            query = query.where(HoldNotice.office_id == office_id)
        if unacknowledged_due_by is None:
            order = [HoldNotice.sent_at, HoldNotice.id]
            query = query.order_by(HoldNotice.sent_at.desc(), HoldNotice.id.desc())
        else:
            order = [HoldNotice.ack_due_by, HoldNotice.id]
            query = query.where(
                HoldNotice.acknowledged_at.is_(None), HoldNotice.ack_due_by < unacknowledged_due_by
            ).order_by(HoldNotice.ack_due_by, HoldNotice.id)
        if after is not None:
            last = aliased(HoldNotice)
            anchor = [
                select(getattr(last, c.key)).where(last.message_id == after).scalar_subquery() for c in order
            ]
            query = query.where(after_row(order, anchor, descending=unacknowledged_due_by is None))
        rows = (await self.session.execute(query)).all()
        return [
            (notice, notice.mandate_refs if mandate is None else [mandate], case, office, hold_id)
            for notice, mandate, case, office, hold_id in rows
        ]

    async def hold(self, hold_id: str, *, for_update: bool = False) -> Hold | None:
        """``for_update``: the hold locked and read fresh, so that two lifts are one after the other."""
        query = select(Hold).where(Hold.hold_id == hold_id)
        if for_update:
            query = query.with_for_update(of=Hold, key_share=True).execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def holds_of_case(
        self, case_id: uuid.UUID, *, after: str | None = None, limit: int | None = None
    ) -> list[Hold]:
        """The case's holds, active and lifted, in the order raised; ``fetch(limit)`` of them after
        the hold ``after`` (its hold id), or every one."""
        query = select(Hold).where(Hold.case_id == case_id).order_by(Hold.raised_at, Hold.hold_id)
        if after is not None:
            last = aliased(Hold)
            anchor = select(last.raised_at).where(last.hold_id == after).scalar_subquery()
            query = query.where(after_row([Hold.raised_at, Hold.hold_id], [anchor, after]))
        if limit is not None:
            query = query.limit(fetch(limit))
        return list(await self.session.scalars(query))

    async def breaches(
        self, *, after: uuid.UUID | None, limit: int
    ) -> list[tuple[ActReport, Hold, str, str, str]]:
        """Act reports that broke a hold, by id (the cursor), with the hold, their case ref, office
        code and mandate ref."""
        query = (
            select(ActReport, Hold, Case.ref, Office.code, Mandate.ref)
            .join(Hold, Hold.id == ActReport.breached_hold_id)
            .join(Case, Case.id == ActReport.case_id)
            .join(Office, Office.id == ActReport.office_id)
            .join(Mandate, Mandate.id == ActReport.mandate_id)
            .where(ActReport.breached_hold_id.is_not(None))
            .order_by(ActReport.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(ActReport.id > after)
        rows = (await self.session.execute(query)).all()
        return [(act, hold, case, office, mandate) for act, hold, case, office, mandate in rows]

    async def notices_of_holds(self, hold_ids: Collection[uuid.UUID]) -> list[tuple[HoldNotice, str]]:
        """The notices of these holds, with their office's code, by office code."""
        if not hold_ids:
            return []
        rows = await self.session.execute(
            select(HoldNotice, Office.code)
            .join(Office, Office.id == HoldNotice.office_id)
            .where(HoldNotice.hold_id.in_(list(hold_ids)))
            .order_by(Office.code)
        )
        return [(notice, code) for notice, code in rows.all()]

    async def case_update_notice(
        self, message_id: str, *, for_update: bool = False
    ) -> tuple[CaseUpdateNotice, str] | None:
        """The case update sent with this message id, with its case's ref; ``for_update``: the notice
        locked and read fresh, so that two acknowledgements are recorded one after the other."""
        query = (
            select(CaseUpdateNotice, Case.ref)
            .join(CaseUpdate, CaseUpdate.id == CaseUpdateNotice.update_id)
            .join(Case, Case.id == CaseUpdate.case_id)
            .where(CaseUpdateNotice.message_id == message_id)
        )
        if for_update:
            query = query.with_for_update(of=CaseUpdateNotice, key_share=True).execution_options(
                populate_existing=True
            )
        row = (await self.session.execute(query)).first()
        return (row[0], row[1]) if row is not None else None

    async def case_update_notices(self, update_ids: Collection[int]) -> list[tuple[CaseUpdateNotice, str]]:
        """The notices of these case updates, with their office's code, by office code."""
        if not update_ids:
            return []
        rows = await self.session.execute(
            select(CaseUpdateNotice, Office.code)
            .join(Office, Office.id == CaseUpdateNotice.office_id)
            .where(CaseUpdateNotice.update_id.in_(list(update_ids)))
            .order_by(Office.code)
        )
        return [(notice, code) for notice, code in rows.all()]

    async def add(
        self, *objects: Mandate | MandateEvent | Approval | Hold | HoldNotice | CaseUpdateNotice
    ) -> None:
        self.session.add_all(objects)
        await self.session.flush()

    def stage(self, *objects: MandateEvent) -> None:
        """Written by the next flush (the next query, or the commit): a log row nothing reads back
        at once, so a batch chunk moving many mandates on flushes once, not once per mandate."""
        self.session.add_all(objects)

    async def erase_free_text(self, case_id: uuid.UUID, erased: str) -> int:
        """The free texts of the case's mandates, which may name the debtor (``hub gdpr erase``): their
        instructions, and the reasons of their transitions (an office's refusal text); refs, acts,
        budgets, statuses, who and when stay. Returns how many rows were blanked."""
        of_case = select(Mandate.id).where(Mandate.case_id == case_id)
        mandates = await self.session.execute(
            update(Mandate)
            .where(Mandate.case_id == case_id, Mandate.instructions.is_not(None))
            .values(instructions=None)
            .execution_options(synchronize_session=False)
        )
        events = await self.session.execute(
            update(MandateEvent)
            .where(MandateEvent.mandate_id.in_(of_case), MandateEvent.reason.is_not(None))
            .values(reason=erased)
            .execution_options(synchronize_session=False)
        )
        return sum(int(getattr(done, "rowcount", 0) or 0) for done in (mandates, events))
