"""Use cases of the mandates module: issue a mandate to an office (or hold it for a person's
approval), approve or refuse it, and follow the office's acknowledgement (cancelling and expiry:
``endings``).

Every change of status goes through :func:`transition`, checked against :data:`TRANSITIONS` and
logged in ``mandate_events`` with who and why. An issued mandate leaves only through the outbox
(``send_to_office``), in the same transaction as its status.
"""

from __future__ import annotations

import secrets
import time
import uuid
import weakref
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Case
from hub.cases.repository import CaseRepository
from hub.cases.service import case_facts, ordered_act, reported_act
from hub.kit.clock import utcnow
from hub.kit.errors import Conflict, ErrorItem, InvalidInput, NotFound
from hub.ledger import service as ledger
from hub.mandates import messages
from hub.mandates.assessment import Verdict, assess_per_act, assess_whole_file
from hub.mandates.models import Approval, Mandate, MandateEvent, MandateKind, MandateStatus
from hub.mandates.repository import MandateRepository, ReadsAfterLock
from hub.messaging.outbound import send_to_office
from hub.offices.models import Office
from hub.offices.repository import OfficeRepository
from hub.policy.settings import DEFAULT_SETTINGS, PolicySettings
from hub.recovery.facts import ActRecord, CaseFacts
from hub.recovery.recovery_rates import RecoveryRates, tallied_rates
from hub.settings import get_settings
from hub.tariff.catalogue import load_catalogue
from schemas.v1.mandate import Priority

S = MandateStatus
# The state machine: from each status, the statuses a mandate may move to. Final statuses: none.
TRANSITIONS: dict[MandateStatus, frozenset[MandateStatus]] = {
    S.DRAFT: frozenset({S.HELD, S.ISSUED, S.CANCELLED}),
    S.HELD: frozenset({S.ISSUED, S.CANCELLED}),
    S.ISSUED: frozenset({S.ACKNOWLEDGED, S.REFUSED, S.IN_PROGRESS, S.CANCELLED, S.EXPIRED}),
    S.ACKNOWLEDGED: frozenset({S.IN_PROGRESS, S.COMPLETED, S.CANCELLED, S.EXPIRED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.CANCELLED}),
    S.REFUSED: frozenset(),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
}
# Mandates at the office: their acts not reported yet count as ordered on the case (prerequisites,
# pacing). What any mandate's act reports say counts whatever became of the mandate.
ORDERED = frozenset({S.ISSUED, S.ACKNOWLEDGED, S.IN_PROGRESS})


def validity() -> timedelta:
    """How long an issued mandate stays valid with no act reported (``HUB_MANDATE_VALIDITY_DAYS``)."""
    return timedelta(days=get_settings().mandate_validity_days)


Ref = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:/-]{1,64}$")]
ActCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")]


class MandateIn(BaseModel):
    """What staff ask for; ``office_code`` absent = the office covering the debtor's département."""

    model_config = ConfigDict(extra="forbid")

    ref: Ref | None = None
    case_ref: Ref
    office_code: str | None = None
    kind: MandateKind
    acts: list[ActCode] = Field(default_factory=list, max_length=20)
    fee_budget_cents: Annotated[int, Field(gt=0)] | None = None
    instructions: Annotated[str, StringConstraints(min_length=1, max_length=4000)] | None = None
    priority: Priority = Priority.NORMAL


def new_ref(prefix: str) -> str:
    return f"{prefix}-{utcnow():%Y%m%d}-{secrets.token_hex(5).upper()}"


async def transition(
    session: AsyncSession, mandate: Mandate, to: MandateStatus, *, actor: str, reason: str | None
) -> None:
    current = MandateStatus(mandate.status)
    if to not in TRANSITIONS[current]:
        raise Conflict(
            f"mandate {mandate.ref} is {current.value}; it cannot become {to.value}",
            code="mandate.transition_forbidden",
        )
    mandate.status = to.value
    if to is S.ISSUED:
        mandate.issued_at = utcnow()
        mandate.expires_at = mandate.issued_at + validity()
    MandateRepository(session).stage(
        MandateEvent(
            mandate_id=mandate.id, from_status=current.value, to_status=to.value, actor=actor, reason=reason
        )
    )


def _case_acts(case: Case, reads: ReadsAfterLock) -> tuple[tuple[ActRecord, ...], tuple[ActRecord, ...]]:
    """What was done on this case, and on the debtor's other cases (pacing): every accepted act
    report, on its act date with its outcome; and each act a mandate still at the office ordered
    that no act report of that mandate answers yet, on the mandate's issue date with no outcome."""
    here: list[ActRecord] = []
    elsewhere: list[ActRecord] = []
    answered: Counter[tuple[uuid.UUID, str]] = Counter()
    for row in reads.reports:
        answered[(row.mandate_id, row.act_code)] += 1
        record = reported_act(
            act_code=row.act_code,
            act_date=row.act_date,
            outcome_code=row.outcome_code,
            seized_cents=row.seized_cents,
            collected_cents=row.collected_cents,
            office=row.office_code,
            reference=row.office_reference,
        )
        (here if row.case_id == case.id else elsewhere).append(record)
    for mandate in reads.mandates:
        if mandate.status not in ORDERED or mandate.issued_at is None:
            continue
        reported = Counter({code: answered[(mandate.id, code)] for code in set(mandate.acts)})
        on = mandate.issued_at.date()
        pending = [ordered_act(code, on) for code in (Counter(mandate.acts) - reported).elements()]
        (here if mandate.case_id == case.id else elsewhere).extend(pending)
    return tuple(here), tuple(elsewhere)


async def _reads(session: AsyncSession, case: Case, ref: str | None = None) -> ReadsAfterLock:
    return await MandateRepository(session).reads_after_lock(case, accounts=ledger.NET_ACCOUNTS, ref=ref)


def _facts(case: Case, reads: ReadsAfterLock) -> CaseFacts:
    facts = case_facts(case, *_case_acts(case, reads))
    net = ledger.net_of(reads.balances, reads.paid_cents, case.currency)
    return replace(
        facts, fees_borne_cents=max(net.fees_borne_cents, 0), recovered_cents=max(net.recovered_cents, 0)
    )


async def facts_of(session: AsyncSession, case: Case) -> CaseFacts:
    """The case's facts as the rules read them (``hub.cases.service.case_facts``), from what really
    happened on it: the debtor's act reports and mandates, and for the stop-loss the case's ledger
    balances and the debtor's direct payments (one statement on PostgreSQL, four on SQLite:
    ``MandateRepository.reads_after_lock``)."""
    return _facts(case, await _reads(session, case))


def policy_settings() -> PolicySettings:
    """The guardrails' settings: the law's figures, the charter's pacing from the hub settings
    (``HUB_PACING_MAX_COERCIVE_ACTS``, ``HUB_PACING_WINDOW_DAYS``) and whose public holidays count
    (``HUB_HOLIDAY_SUBDIVISION``)."""
    hub = get_settings()
    return replace(
        DEFAULT_SETTINGS,
        pacing_max_coercive_acts=hub.pacing_max_coercive_acts,
        pacing_window_days=hub.pacing_window_days,
        holiday_subdivision=hub.holiday_subdivision or None,
        stop_loss_share_percent=hub.stop_loss_share_percent,
    )


async def learned_rates(session: AsyncSession) -> RecoveryRates:
    """Expected recovery learned from every act report so far, overall and per office (the rules
    fall back on their priors while data is thin)."""
    return tallied_rates(await MandateRepository(session).report_tallies())


class LearnedRatesSnapshot:
    """``learned_rates`` as this process read them at most ``max_age`` seconds ago, per database:
    what each message's checks use (an act report, a batch chunk, a mandate issued). Reading the
    tallies costs what offices x acts x outcomes do (about 180 ms per read at 300 offices and 40
    acts, all slots filled), once per message otherwise; a report learned from a few seconds late
    changes no cost check. Staff views (assess, next acts, the worklist) read them fresh.
    ``max_age`` 0: read for every message (``HUB_LEARNED_RATES_SECONDS``, set when the process starts)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age = 0.0
        self.clock = clock
        # Per database (its engine): when read, what.
        self._read: weakref.WeakKeyDictionary[Engine, tuple[float, RecoveryRates]] = (
            weakref.WeakKeyDictionary()
        )

    def configure(self, max_age: float) -> None:
        self.max_age = max_age
        self._read.clear()

    async def rates(self, session: AsyncSession) -> RecoveryRates:
        if self.max_age <= 0:
            return await learned_rates(session)
        database = session.get_bind().engine
        now = self.clock()
        read = self._read.get(database)
        if read is None or now - read[0] > self.max_age:
            # Two messages at once may both read: the later reading is kept, both are current.
            read = (now, await learned_rates(session))
            self._read[database] = read
        return read[1]


RATES = LearnedRatesSnapshot()


async def recent_learned_rates(session: AsyncSession) -> RecoveryRates:
    """The process's snapshot of ``learned_rates`` (``LearnedRatesSnapshot``)."""
    return await RATES.rates(session)


async def _choose_office(
    session: AsyncSession, data: MandateIn, case: Case, known: Mapping[str, Office | None]
) -> tuple[Office | None, list[ErrorItem]]:
    repo = OfficeRepository(session)
    if data.office_code is not None:
        if data.office_code in known:
            office = known[data.office_code]
        else:
            office = await repo.get_by_code(data.office_code)
        if office is None or not office.active:
            return None, [
                ErrorItem("office_code", "office.not_found", f"no active office {data.office_code}")
            ]
        return office, []
    dep = case.debtor.departement
    covering = [o for o in await repo.list_all() if o.active and dep is not None and dep in o.departements]
    if not covering:
        where = f"département {dep}" if dep else "an unknown département"
        message = f"no active office covers {where}; give an office_code"
        return None, [ErrorItem("office_code", "office.none_for_departement", message)]
    return covering[0], []


def _terms_errors(data: MandateIn) -> list[ErrorItem]:
    errors: list[ErrorItem] = []
    if data.kind is MandateKind.PER_ACT:
        if not data.acts:
            errors.append(
                ErrorItem("acts", "mandate.acts_required", "a per-act mandate lists the acts ordered")
            )
        if data.fee_budget_cents is not None:
            errors.append(
                ErrorItem(
                    "fee_budget_cents", "mandate.budget_unexpected", "a per-act mandate has no fee budget"
                )
            )
        catalogue = load_catalogue()
        known = set(catalogue.acts)
        for index, code in enumerate(data.acts):
            if code not in known:
                errors.append(
                    ErrorItem(f"acts[{index}]", "act.unknown", f"{code} is not an act of the catalogue")
                )
    else:
        if data.fee_budget_cents is None:
            errors.append(
                ErrorItem(
                    "fee_budget_cents", "mandate.budget_required", "a whole-file mandate needs a fee budget"
                )
            )
        if data.acts:
            errors.append(ErrorItem("acts", "mandate.acts_unexpected", "a whole-file mandate lists no acts"))
    return errors


def _address_errors(case: Case) -> list[ErrorItem]:
    debtor = case.debtor
    missing = [name for name in ("address_line1", "postcode", "city") if getattr(debtor, name) is None]
    if not missing:
        return []
    message = f"case {case.ref}: the debtor's address lacks {', '.join(missing)}; complete the case first"
    return [ErrorItem("case_ref", "case.address_incomplete", message)]


def judge(
    facts: CaseFacts, data: MandateIn, on: date, office_code: str | None, rates: RecoveryRates | None = None
) -> Verdict:
    if data.kind is MandateKind.PER_ACT:
        return assess_per_act(
            facts, data.acts, on, office=office_code, rates=rates, settings=policy_settings()
        )
    assert data.fee_budget_cents is not None
    return assess_whole_file(facts, data.fee_budget_cents, on, settings=policy_settings())


def _refuse_blocks(verdict: Verdict, data: MandateIn, case: Case) -> None:
    if verdict.blocks:
        raise InvalidInput(
            f"the law forbids this mandate on case {case.ref}",
            code="mandate.refused_by_guardrails",
            errors=[
                # A whole-file mandate's block is about the case ("*"), not one of its acts.
                ErrorItem(
                    f"acts[{data.acts.index(f.act_code)}]" if f.act_code in data.acts else "case_ref",
                    f.reason_code,
                    f.message,
                )
                for f in verdict.blocks
            ],
        )


async def create_mandate(
    session: AsyncSession, data: MandateIn, *, actor: str, offices: Mapping[str, Office | None] | None = None
) -> Mandate:
    """Issues the mandate to its office, or holds it with its reasons; refuses it (422, every reason)
    when a guardrail is a hard legal block. Nothing is written when it is refused. ``offices``: the
    offices by code read already for many mandates at once (None: an unknown code), else each read
    here."""
    # The debtor locked before the acts against it are read: concurrent mandates for one debtor are
    # paced as one after the other would be, each counting the acts the ones before it ordered.
    case = await CaseRepository(session).get_with_parties_locking_debtor(data.case_ref)
    if case is None:
        message = f"no case with ref {data.case_ref}"
        raise NotFound(
            message, code="case.not_found", errors=[ErrorItem("case_ref", "case.not_found", message)]
        )
    office, errors = await _choose_office(session, data, case, offices or {})
    errors += _terms_errors(data) + _address_errors(case)
    repo = MandateRepository(session)
    ref = data.ref or new_ref("M")
    # Its ref checked with the rest that is read once the debtor is locked (one statement on
    # PostgreSQL): a mandate of the same ref made meanwhile is found.
    reads = await _reads(session, case, data.ref)
    if reads.ref_taken:
        message = f"a mandate with ref {data.ref} already exists"
        raise Conflict(message, code="mandate.exists", errors=[ErrorItem("ref", "mandate.exists", message)])
    if errors:
        raise InvalidInput("the mandate cannot be created as given", errors=errors)
    assert office is not None
    verdict = judge(
        _facts(case, reads), data, utcnow().date(), office.code, await recent_learned_rates(session)
    )
    _refuse_blocks(verdict, data, case)
    mandate = Mandate(
        id=uuid.uuid4(),
        ref=ref,
        case_id=case.id,
        office_id=office.id,
        kind=data.kind.value,
        acts=list(data.acts),
        fee_budget_cents=data.fee_budget_cents,
        currency=case.currency,
        status=S.DRAFT.value,
        instructions=data.instructions,
        priority=data.priority.value,
        assessment=verdict.as_dict(),
        created_by=actor,
    )
    # Written by the next query with the status it reaches below: one INSERT of the mandate, one
    # of its first two steps.
    session.add(mandate)
    repo.stage(MandateEvent(mandate_id=mandate.id, from_status=None, to_status=S.DRAFT.value, actor=actor))
    if verdict.held:
        reasons = "; ".join(f"{f.act_code}: {f.message}" for f in verdict.holds)
        await transition(session, mandate, S.HELD, actor=actor, reason=reasons)
    else:
        await _issue(session, mandate, case, office, actor=actor, reason="no flag, no guardrail")
    return mandate


async def _issue(
    session: AsyncSession, mandate: Mandate, case: Case, office: Office, *, actor: str, reason: str
) -> None:
    await transition(session, mandate, S.ISSUED, actor=actor, reason=reason)
    await send_to_office(session, office, messages.mandate_message(mandate, case, office), case_id=case.id)


async def get_mandate(
    session: AsyncSession, ref: str, *, office: Office | None = None, for_update: bool = False
) -> Mandate:
    """The mandate; for an office, only its own (another office's answers exactly like an unknown one).
    ``for_update``: locked until commit, for a change checked against its status."""
    mandate = await MandateRepository(session).get_by_ref(ref, for_update=for_update)
    if mandate is None or (office is not None and mandate.office_id != office.id):
        raise NotFound(f"no mandate {ref}", code="mandate.not_found")
    return mandate


async def _held(session: AsyncSession, ref: str) -> Mandate:
    """The held mandate, locked until commit: two people deciding it at once decide one after the
    other, and the second finds it decided."""
    mandate = await MandateRepository(session).get_by_ref(ref, for_update=True)
    if mandate is None:
        raise NotFound(f"no mandate {ref}", code="mandate.not_found")
    if mandate.status != S.HELD.value:
        raise Conflict(f"mandate {ref} is {mandate.status}, not held", code="mandate.not_held")
    return mandate


def _held_act(mandate: Mandate) -> str:
    reasons = (mandate.assessment or {}).get("reasons") or []
    first = reasons[0] if isinstance(reasons, list) and reasons else {}
    code = first.get("act_code") if isinstance(first, dict) else None
    return str(code) if code and code != "*" else (mandate.acts[0] if mandate.acts else "WHOLE_FILE")


async def approve(session: AsyncSession, ref: str, *, actor: str, comment: str) -> Approval:
    """A person approves a held mandate: it is issued with a new approval id that travels with it.
    The law is checked again first: a hard block that arose while it was held (a title expired, a
    limitation period ran out) cannot be approved."""
    mandate = await _held(session, ref)
    case = await CaseRepository(session).get_with_parties_by_id(mandate.case_id)
    office = await OfficeRepository(session).get(mandate.office_id)
    assert case is not None and office is not None  # foreign keys
    asked = MandateIn(
        case_ref=case.ref,
        kind=MandateKind(mandate.kind),
        acts=list(mandate.acts),
        fee_budget_cents=mandate.fee_budget_cents,
    )
    _refuse_blocks(judge(await facts_of(session, case), asked, utcnow().date(), office.code), asked, case)
    approval = Approval(
        approval_id=new_ref("APR"),
        mandate_id=mandate.id,
        act_code=_held_act(mandate),
        requested_by=mandate.created_by,
        decision="approved",
        decided_by=actor,
        decided_at=utcnow(),
        reason=comment,
    )
    await MandateRepository(session).add(approval)
    mandate.approval_id = approval.approval_id
    await _issue(
        session, mandate, case, office, actor=actor, reason=f"approved ({approval.approval_id}): {comment}"
    )
    return approval


async def refuse(session: AsyncSession, ref: str, *, actor: str, comment: str) -> Approval:
    """A person refuses a held mandate: it is cancelled and never leaves."""
    mandate = await _held(session, ref)
    approval = Approval(
        approval_id=new_ref("APR"),
        mandate_id=mandate.id,
        act_code=_held_act(mandate),
        requested_by=mandate.created_by,
        decision="refused",
        decided_by=actor,
        decided_at=utcnow(),
        reason=comment,
    )
    await MandateRepository(session).add(approval)
    await transition(
        session, mandate, S.CANCELLED, actor=actor, reason=f"refused ({approval.approval_id}): {comment}"
    )
    return approval


async def list_mandates(
    session: AsyncSession,
    *,
    office: Office | None,
    status: MandateStatus | None,
    after: str | None,
    limit: int,
) -> list[tuple[Mandate, str, str]]:
    return await MandateRepository(session).page(
        office_id=office.id if office is not None else None,
        status=status.value if status is not None else None,
        after=after,
        limit=limit,
    )


async def events(session: AsyncSession, mandate: Mandate) -> list[MandateEvent]:
    return await MandateRepository(session).events(mandate.id)


async def budget_of(session: AsyncSession, mandate: Mandate) -> dict[str, int | bool] | None:
    """A whole-file mandate's fee budget against the fees its act reports claimed so far."""
    if mandate.fee_budget_cents is None:
        return None
    consumed = await MandateRepository(session).fees_reported(mandate.id)
    return {
        "fee_budget_cents": mandate.fee_budget_cents,
        "consumed_cents": consumed,
        "remaining_cents": mandate.fee_budget_cents - consumed,
        "overrun": consumed > mandate.fee_budget_cents,
    }
