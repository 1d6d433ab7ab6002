"""Act reports: check what an office reports against its mandate (meaning), then record it with its
ledger postings and the after-the-fact check (``hub.acts.assessment``: cost, budget, approval, a
hold the office acknowledged and broke).
Takes a session, never commits."""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.assessment import (
    AcknowledgedHold,
    ApprovalStanding,
    BudgetUse,
    after_the_fact,
    approval_standing,
    breached_hold,
    hold_breach_flag,
)
from hub.acts.models import ActReport, RecordedAct
from hub.acts.repository import ActReportRepository
from hub.cases.service import case_facts
from hub.kit.clock import utcnow
from hub.kit.errors import ErrorItem, InvalidInput, NotFound
from hub.ledger import service as ledger
from hub.ledger.repository import LedgerRepository
from hub.mandates.models import Approval, Mandate, MandateKind, MandateStatus
from hub.mandates.service import recent_learned_rates
from hub.messaging import sealing
from hub.messaging.repository import message_lock_keys
from hub.messaging.service import InboundMessage
from hub.observability import metrics
from hub.offices.models import Office
from hub.offices.repository import OfficeRepository
from hub.recovery.facts import ActRecord, CaseFacts
from hub.recovery.plausibility import Assessor
from hub.recovery.recovery_rates import RecoveryRates
from hub.tariff.catalogue import Catalogue, UnknownAct, load_catalogue
from schemas import v1
from schemas.v1.outcomes import OutcomeCode

# The outcomes a report may carry, built once (``set(OutcomeCode)`` walked the enum for each report).
OUTCOMES = frozenset(OutcomeCode)
# A mandate the office may report acts under; others (draft, held, refused, closed) refuse them.
REPORTABLE = frozenset(
    {MandateStatus.ISSUED.value, MandateStatus.ACKNOWLEDGED.value, MandateStatus.IN_PROGRESS.value}
)


def mandate_not_found(ref: str) -> NotFound:
    # Another office's mandate answers exactly like an unknown one: nothing leaks.
    return NotFound(
        f"no mandate {ref} for this office",
        code="mandate.not_found",
        errors=[ErrorItem("/mandate_ref", "mandate.not_found", f"no mandate {ref} was given to this office")],
    )


def meaning_errors(
    report: v1.ActReport,
    mandate: Mandate,
    *,
    today: date,
    catalogue: Catalogue,
    approval: ApprovalStanding | None = None,
) -> list[ErrorItem]:
    """Every reason the report does not fit its mandate (pure: no I/O). An act a per-act mandate does
    not order is reportable under the approval it quotes, when that approval counts for it."""
    errors: list[ErrorItem] = []
    if mandate.status not in REPORTABLE:
        errors.append(
            ErrorItem(
                "/mandate_ref",
                "mandate.not_reportable",
                f"mandate {mandate.ref} is {mandate.status}; acts are reported under an issued mandate",
            )
        )
    try:
        catalogue.act(report.act_code)
    except UnknownAct:
        errors.append(ErrorItem("/act_code", "act.unknown", f"{report.act_code} is not in the act catalogue"))
    else:
        ordered = mandate.kind != MandateKind.PER_ACT.value or report.act_code in mandate.acts
        if not ordered and (approval is None or not approval.counts):
            allowed = ", ".join(mandate.acts) or "none"
            why = f"; {approval.message}" if approval is not None else ": quote an approved cost request"
            errors.append(
                ErrorItem(
                    "/act_code",
                    "act.not_in_mandate",
                    f"mandate {mandate.ref} allows {allowed}, not {report.act_code}{why}",
                )
            )
    if report.outcome_code not in OUTCOMES:
        errors.append(ErrorItem("/outcome_code", "outcome.unknown", f"unknown outcome {report.outcome_code}"))
    if report.act_date > today:
        errors.append(
            ErrorItem("/act_date", "act_date.in_future", f"{report.act_date.isoformat()} is after today")
        )
    issued = mandate.issued_at or mandate.created_at
    if issued is not None and report.act_date < issued.date():
        errors.append(
            ErrorItem(
                "/act_date",
                "act_date.before_mandate",
                f"{report.act_date.isoformat()} is before mandate {mandate.ref} was issued "
                f"({issued.date().isoformat()})",
            )
        )
    if report.currency != mandate.currency:
        errors.append(
            ErrorItem(
                "/currency",
                "currency.mismatch",
                f"mandate {mandate.ref} is in {mandate.currency}, the report in {report.currency}",
            )
        )
    return errors


def _act_record(row: Any) -> ActRecord:
    return ActRecord(
        act_code=row.act_code,
        on=row.act_date,
        outcome=OutcomeCode(row.outcome_code),
        seized_cents=row.seized_cents,
        collected_cents=row.collected_cents,
    )


class ReportReads:
    """What checking and recording act reports reads, loaded for a whole set of reports in a few
    queries (one per table, not one per report), then kept current as reports are recorded, so the
    next report of the same set sees the earlier ones (its reference taken, its act on the case, its
    fees in its mandate's budget). Success rates are learned once per set, from the reports before it."""

    RECENT_ACTS = 50  # what a cost check looks at, per case

    def __init__(self) -> None:
        self.mandates: dict[str, Mandate] = {}
        self.cases: dict[uuid.UUID, CaseFacts | None] = {}  # without its acts; None: inconsistent
        self.approvals: dict[tuple[str, uuid.UUID], Approval] = {}  # (approval id, mandate id)
        self.fees_consumed: dict[uuid.UUID, int] = {}  # per whole-file mandate with a budget
        self.rates: RecoveryRates | None = None
        self.references: set[tuple[uuid.UUID, str]] = set()
        # Per case, its latest acts (``RECENT_ACTS`` of them) newest first, as runs: [act, how many
        # times in a row]. The rules ask whether an act is on file and which is the latest, never how
        # many (``plausibility.history_read``); the lengths only say when an act leaves the window.
        self.acts: dict[uuid.UUID, list[list[Any]]] = defaultdict(list)
        self._facts: dict[uuid.UUID, CaseFacts | None] = {}  # ``case_facts``, until its acts change
        # Per case, the holds on it the reporting office acknowledged (``hold_breached``).
        self.holds: dict[uuid.UUID, list[AcknowledgedHold]] = defaultdict(list)
        # Read with the rest on PostgreSQL (None: not read here, their owners read them): the
        # reports' message ids applied already, and the acts reported under each per-act mandate.
        self.applied: dict[str, uuid.UUID] | None = None
        self.acts_reported: dict[uuid.UUID, Counter[str]] | None = None
        self._assessor: Assessor | None = None

    @classmethod
    async def load(
        cls, session: AsyncSession, office: Office, reports: Sequence[v1.ActReport]
    ) -> ReportReads:
        repo = ActReportRepository(session)
        reads = cls()
        # Locked first, before anything the checks read is read: concurrent reports (or batch
        # chunks) under one mandate are checked one after the other, each seeing the ones before.
        # Then, after the mandates, in one order for all, their references, and the message ids
        # with them: a concurrent copy of a report waits there and then answers as the duplicate it
        # is. PostgreSQL takes both in one statement (``lock_mandates_and_references``).
        references = {r.office_reference for r in reports}
        messages = message_lock_keys(office.code, {r.envelope.message_id for r in reports})
        reads.mandates, keys = await repo.lock_mandates_and_references(
            office.id, {r.mandate_ref for r in reports}, references, also=messages
        )
        # The reports' stored bodies are sealed with their cases' keys, read with the mandates: the
        # case resolver reads nothing more for them (``KindHandling.case_of``).
        sealing.remember_keys(session, keys)
        mandates = list(reads.mandates.values())
        by_ref = {m.ref: m.id for m in mandates}
        wanted = {
            (r.approval_id, by_ref[r.mandate_ref])
            for r in reports
            if r.approval_id and r.mandate_ref in by_ref
        }
        if wanted:
            reads.approvals = await repo.approvals_quoted(wanted)
        budgeted = [m for m in mandates if m.fee_budget_cents is not None]
        if budgeted:
            consumed = await LedgerRepository(session).act_fees_by_mandate(
                [m.id for m in budgeted], {m.case_id for m in budgeted}
            )
            reads.fees_consumed = {m.id: consumed.get(m.id, 0) for m in budgeted}
        case_ids = {m.case_id for m in mandates}
        if session.get_bind().dialect.name == "postgresql":
            # One statement for every read below, and the inbox check the processor would send next.
            folded = await repo.reads_after_locks(
                office.id,
                references,
                case_ids,
                latest_limit=cls.RECENT_ACTS,
                per_act_mandates=[m.id for m in mandates if m.kind == MandateKind.PER_ACT.value],
                sender=office.code,
                message_ids={r.envelope.message_id for r in reports},
            )
            reads.applied, reads.acts_reported = folded.applied, folded.acts_reported
            used: Iterable[str] = folded.references_used
            cases: Iterable[Any] = folded.cases
            acts: Iterable[Any] = folded.acts
            holds: Iterable[Any] = folded.holds
        else:
            used = await repo.references_used(office.id, references)
            if case_ids:
                cases = (await repo.cases_with_debtors(case_ids)).values()
                acts = await repo.recent_acts_on_cases(case_ids, limit=cls.RECENT_ACTS)
                holds = await repo.acknowledged_holds(office.id, case_ids)
        reads.references = {(office.id, reference) for reference in used}
        if case_ids:
            for case in cases:
                try:
                    reads.cases[case.id] = case_facts(case)
                except (InvalidInput, ValueError):
                    reads.cases[case.id] = None
            # Read as runs of equal acts (a case reported the same act on fifty times is one row), the
            # same act on several cases one record.
            records: dict[tuple[Any, ...], ActRecord] = {}
            for row in acts:
                case_id, *act, repeats = row
                if (record := records.get(key := tuple(act))) is None:
                    record = records[key] = _act_record(row)
                reads.acts[case_id].append([record, repeats])
            for row in holds:
                reads.holds[row.case_id].append(
                    AcknowledgedHold(
                        id=row.id,
                        hold_id=row.hold_id,
                        situation=row.situation,
                        acknowledged_on=row.acknowledged_at.date(),
                        lifted_on=row.lifted_at.date() if row.lifted_at is not None else None,
                    )
                )
            reads.rates = await recent_learned_rates(session)
        return reads

    def case_of(self, report: v1.ActReport) -> uuid.UUID | None:
        """The case of the report's mandate, when it is the office's (its key read with it); None:
        not found here (another office's, or unknown)."""
        mandate = self.mandates.get(report.mandate_ref)
        return None if mandate is None else mandate.case_id

    def case_facts(self, case_id: uuid.UUID) -> CaseFacts | None:
        """What the cost check knows of the case; None when the case is missing or inconsistent. Its
        acts are each run's once (repeats in a row read alike), built again only when they change."""
        if case_id in self._facts:
            return self._facts[case_id]
        facts = self.cases.get(case_id)
        if facts is not None:
            facts = dataclasses.replace(facts, acts=tuple(record for record, _ in self.acts[case_id]))
        self._facts[case_id] = facts
        return facts

    def assessor(self, catalogue: Catalogue) -> Assessor:
        """The cost check of the set's reports, with the rates learned for the set: one verdict per
        case as the rules read it, act and date (``hub.recovery.plausibility.Assessor``), shared
        with the sets checked before with the same snapshot of the learned rates."""
        if self._assessor is None or self._assessor.catalogue is not catalogue:
            if self.rates is None:
                self._assessor = Assessor(catalogue=catalogue)
            else:
                self._assessor = Assessor.of(self.rates, catalogue)
        return self._assessor

    def budget_use(self, mandate: Mandate, report: v1.ActReport) -> BudgetUse | None:
        if mandate.fee_budget_cents is None:
            return None
        return BudgetUse(
            fee_budget_cents=mandate.fee_budget_cents,
            consumed_before_cents=self.fees_consumed.get(mandate.id, 0),
            act_fees_cents=report.fees.emoluments_cents + report.fees.disbursements_cents,
            currency=mandate.currency,
        )

    def recorded(self, act: RecordedAct) -> None:
        self.references.add((act.office_id, act.office_reference))
        if act.mandate_id in self.fees_consumed:
            self.fees_consumed[act.mandate_id] += act.emoluments_cents + act.disbursements_cents
        # Where the act goes newest first: before the acts of its own date (reported after them).
        runs = self.acts[act.case_id]
        record = _act_record(act)
        at = next((i for i, (other, _) in enumerate(runs) if other.on <= record.on), len(runs))
        if at < len(runs) and runs[at][0] == record:
            runs[at][1] += 1  # one more in the run: the acts as read are the same
        else:
            runs.insert(at, [record, 1])
            self._facts.pop(act.case_id, None)
        # Only the latest are ever read: the oldest leave the window.
        excess = sum(repeats for _, repeats in runs) - self.RECENT_ACTS
        while excess > 0:
            if runs[-1][1] > excess:
                runs[-1][1] -= excess
                break
            excess -= runs.pop()[1]
            self._facts.pop(act.case_id, None)


async def record_act_report(
    session: AsyncSession,
    report: v1.ActReport,
    message: InboundMessage,
    office: Office,
    *,
    reads: ReportReads,
    today: date | None = None,
    catalogue: Catalogue | None = None,
) -> RecordedAct:
    """Checks ``report`` (sent by ``office``) and records it: the act, its ledger postings and its
    cost check. ``reads``: what was loaded for the set of reports it came in
    (``ReportReads.load``). Raises NotFound or InvalidInput listing every error, before writing
    anything. Its mandate moves on in the mandates module (``completion.act_reported``)."""
    cat = catalogue or load_catalogue()
    mandate = reads.mandates.get(report.mandate_ref)
    if mandate is None or mandate.office_id != office.id:
        raise mandate_not_found(report.mandate_ref)
    standing: ApprovalStanding | None = None
    unknown_approval: list[ErrorItem] = []
    if report.approval_id is not None:
        approval = reads.approvals.get((report.approval_id, mandate.id))
        if approval is None:
            unknown_approval.append(
                ErrorItem(
                    "/approval_id",
                    "approval.unknown",
                    f"no approval {report.approval_id} was given for mandate {mandate.ref}",
                )
            )
        else:
            standing = approval_standing(approval, mandate, report.act_code)
    errors = meaning_errors(report, mandate, today=today or utcnow().date(), catalogue=cat, approval=standing)
    errors += unknown_approval
    if (office.id, report.office_reference) in reads.references:
        errors.append(
            ErrorItem(
                "/office_reference",
                "act_report.reference_reused",
                f"act {report.office_reference} was already reported by this office",
            )
        )
    if errors:
        raise InvalidInput(f"{len(errors)} error(s) in the act report", code=errors[0].code, errors=errors)

    flagged, assessment = after_the_fact(
        report.act_code,
        report.act_date,
        report.fees.total_cents,
        reads.case_facts(mandate.case_id),
        office.code,
        reads.assessor(cat),
        budget=reads.budget_use(mandate, report),
        approval=standing,
    )
    breach = breached_hold(report.act_code, report.act_date, reads.holds.get(mandate.case_id, []), cat)
    if breach is not None:  # accepted, and flagged for staff (GET /v1/holds/breaches)
        flagged = True
        assessment["flags"] = [
            *assessment["flags"],
            hold_breach_flag(breach, report.act_code, report.act_date),
        ]
        assessment["hold_breached"] = breach.hold_id
    fees = report.fees
    act = RecordedAct(
        id=uuid.uuid4(),
        mandate_id=mandate.id,
        case_id=mandate.case_id,
        office_id=office.id,
        act_code=report.act_code,
        act_date=report.act_date,
        outcome_code=report.outcome_code.value,
        office_reference=report.office_reference,
        currency=report.currency,
        seized_cents=report.seized_cents,
        collected_cents=report.collected_cents,
        emoluments_cents=fees.emoluments_cents,
        disbursements_cents=fees.disbursements_cents,
        vat_cents=fees.vat_cents,
        flagged=flagged,
    )
    ActReportRepository(session).add(
        {
            "id": act.id,
            "mandate_id": act.mandate_id,
            "case_id": act.case_id,
            "office_id": act.office_id,
            "message_pk": message.id,
            "act_code": act.act_code,
            "act_date": act.act_date,
            "outcome_code": act.outcome_code,
            "office_reference": act.office_reference,
            "approval_id": report.approval_id,
            "currency": act.currency,
            "seized_cents": act.seized_cents,
            "collected_cents": act.collected_cents,
            "emoluments_cents": act.emoluments_cents,
            "disbursements_cents": act.disbursements_cents,
            "vat_cents": act.vat_cents,
            "flagged": flagged,
            "assessment": assessment,
            "breached_hold_id": breach.id if breach is not None else None,
        }
    )
    reads.recorded(act)
    metrics.count_flags(assessment["flags"])
    await post_act(session, act)
    return act


async def post_act(session: AsyncSession, act: ActReport | RecordedAct) -> None:
    """The fees claimed and the money collected, as two balanced ledger transactions (rows of the
    unit of work's row buffer when one is open)."""
    source = f"act_report:{act.id}"
    fees = ledger.act_fee_postings(
        emoluments_cents=act.emoluments_cents,
        disbursements_cents=act.disbursements_cents,
        vat_cents=act.vat_cents,
        currency=act.currency,
    )
    if fees:
        await ledger.post_staged(
            session,
            "act_fees",
            fees,
            effective_on=act.act_date,
            source=source,
            case_id=act.case_id,
            office_id=act.office_id,
        )
    collected = ledger.collection_postings(collected_cents=act.collected_cents, currency=act.currency)
    if collected:
        await ledger.post_staged(
            session,
            "collection",
            collected,
            effective_on=act.act_date,
            source=source,
            case_id=act.case_id,
            office_id=act.office_id,
        )


@dataclass(frozen=True)
class FlaggedView:
    act: ActReport
    office_code: str
    mandate_ref: str
    case_ref: str

    @property
    def flags(self) -> list[dict[str, str]]:
        """Each reason the act was flagged: its code and the sentence a person reads."""
        found = (self.act.assessment or {}).get("flags") or []
        return [{"code": str(f["code"]), "message": str(f["message"])} for f in found if isinstance(f, dict)]


# How many flagged rows one page may read to find ``limit`` of one reason: the page ends there, with
# its cursor, so a rare reason is found over several pages rather than by one long scan.
FLAGGED_SCAN_PAGES = 10


async def list_flagged(
    session: AsyncSession,
    *,
    office_code: str | None,
    reason: str | None,
    since: date | None,
    until: date | None,
    after: uuid.UUID | None,
    limit: int,
) -> tuple[list[FlaggedView], uuid.UUID | None]:
    """Flagged act reports for staff, by id, ``limit`` at a time after ``after``: of one office or
    all, with one reason among their flags (``cost_above_recovery``, ``budget_overrun``,
    ``hold_breached``, ``approval_refused``...) or any, dated in ``[since, until]``; and the cursor of
    the next page (``None`` on the last). 404 ``office.not_found`` for an unknown office."""
    office_id = None
    if office_code is not None:
        office = await OfficeRepository(session).get_by_code(office_code)
        if office is None:
            raise NotFound(f"no office with code {office_code}", code="office.not_found")
        office_id = office.id
    repo = ActReportRepository(session)
    found: list[FlaggedView] = []
    cursor = after
    for _ in range(FLAGGED_SCAN_PAGES):
        rows = await repo.flagged(office_id=office_id, since=since, until=until, after=cursor, limit=limit)
        for act, office, mandate, case in rows:
            cursor = act.id
            view = FlaggedView(act, office, mandate, case)
            if reason is None or any(flag["code"] == reason for flag in view.flags):
                found.append(view)
                if len(found) == limit:
                    return found, cursor
        if len(rows) < limit:
            return found, None
    return found, cursor
