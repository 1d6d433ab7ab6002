"""Holds raised on a case after its mandates were issued, as records with a life: raised by staff
for a debtor's situation (or by a case update of kind ``limitation_reached``), sent as ONE
``hold_notice`` to each office working on the case listing its mandates and acts there, to
acknowledge (``hold_notices``) by a deadline; lifted by staff, each office notified being sent a
``hold_lift``. While active, the case's fact of that situation is set (the guardrails hold new
mandates); an act report of a coercive act dated on or after the day its office acknowledged the
hold, before the hold was lifted, is accepted but flagged ``hold_breached`` (``hub.acts.service``)."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import ActReport
from hub.cases.models import Case
from hub.cases.repository import CaseRepository
from hub.kit.clock import utcnow
from hub.kit.errors import Conflict, ErrorItem, InvalidInput, NotFound
from hub.kit.pagination import DEFAULT_LIMIT, page_of
from hub.mandates import messages
from hub.mandates.assessment import SITUATIONS
from hub.mandates.models import Hold, HoldNotice, Mandate, MandateEvent
from hub.mandates.repository import MandateRepository
from hub.mandates.service.hold_notices import ack_window
from hub.mandates.service.lifecycle import S
from hub.messaging.outbound import send_to_office
from hub.offices.repository import OfficeRepository
from schemas import v1
from schemas.v1.case_updates import CaseUpdateKind

# Mandates an office may be working on: a hold raised on their case must reach it.
WORKING = frozenset({S.ISSUED.value, S.ACKNOWLEDGED.value, S.IN_PROGRESS.value})
LIMITATION = v1.HoldSituation.LIMITATION_REACHED.value
# What each situation tells the office (the guardrail's code and words).
REASONS: dict[str, tuple[str, str]] = {
    **SITUATIONS,
    LIMITATION: (
        "LIMITATION_REACHED",
        "The claim's limitation period ran out: no act may be performed on the case any more.",
    ),
}


@dataclass(frozen=True)
class HoldNoticeView:
    notice: HoldNotice
    office_code: str
    overdue: bool  # not acknowledged, and its deadline has passed


@dataclass(frozen=True)
class HoldView:
    hold: Hold
    case_ref: str
    notices: list[HoldNoticeView]


def _situation_error(situation: str) -> InvalidInput:
    return InvalidInput(
        f"{situation!r} is not a situation that holds a case",
        errors=[ErrorItem("situation", "hold.situation_unknown", f"use one of {', '.join(REASONS)}")],
    )


def _set_fact(case: Case, situation: str, on: date) -> None:
    if situation == LIMITATION:
        case.limitation_reached_on = case.limitation_reached_on or on
    else:
        setattr(case, situation, True)


# Legal facts recorded by a case update are the case's, not the hold's: insolvency proceedings end
# with an `insolvency_ended` case update, a limitation recorded by a `limitation_reached` update never
# ends. Such a hold is lifted only once the fact is gone, and a lift never clears it. A limitation
# hold staff raised on its own (no update recorded it) may be lifted, which withdraws its date.
INSOLVENCY = "insolvency_proceedings"


def _legal_block(case: Case, situation: str, *, limitation_recorded: bool) -> str | None:
    """Why a hold of ``situation`` cannot be lifted while the case's facts stand, or ``None``."""
    if situation == LIMITATION and limitation_recorded and case.limitation_reached_on is not None:
        return (
            f"a limitation_reached case update records the claim time-barred since "
            f"{case.limitation_reached_on.isoformat()}: a limitation reached does not end, so its hold stays"
        )
    if situation == INSOLVENCY and case.insolvency_proceedings:
        return (
            "insolvency proceedings are still recorded on the case: record their end first (case "
            "update insolvency_ended), then lift the hold"
        )
    return None


def _clear_fact(case: Case, situation: str) -> None:
    if situation == LIMITATION:
        case.limitation_reached_on = None
    elif situation != INSOLVENCY:  # already ended by its case update (_legal_block)
        setattr(case, situation, False)


# A hold id a caller chooses: a business reference, as on the wire (``schemas.v1.Reference``).
HOLD_ID = re.compile(r"[A-Za-z0-9._:/-]{1,64}")


async def raise_hold(
    session: AsyncSession,
    case_ref: str,
    situation: str,
    *,
    actor: str,
    comment: str,
    now: datetime | None = None,
    case: Case | None = None,
    hold_id: str | None = None,
) -> HoldView:
    """Records a hold on the case for the debtor's ``situation``, sets the case's fact of it (new
    mandates on the case are then held by the guardrails), and sends ONE hold notice to each office
    working on the case, listing its mandates there with their acts, to acknowledge by a deadline.
    Refused with nothing written: 422 ``hold.situation_unknown``, 404 ``case.not_found``, 409
    ``hold.exists`` for a ``hold_id`` (the caller's, so that a retry raises nothing twice) already
    used. ``case``: the case already read (and locked) by the caller, e.g. a case update."""
    if situation not in REASONS:
        raise _situation_error(situation)
    if hold_id is not None and not HOLD_ID.fullmatch(hold_id):
        message = "a hold id is 1-64 of A-Z a-z 0-9 . _ : / -"
        raise InvalidInput(
            message, code="hold.id_invalid", errors=[ErrorItem("/hold_id", "hold.id_invalid", message)]
        )
    now = now or utcnow()
    if case is None:
        case = await CaseRepository(session).get_with_parties(case_ref, for_update=True)
        if case is None:
            raise NotFound(f"no case with ref {case_ref}", code="case.not_found")
    repo = MandateRepository(session)
    # After the case's lock: a concurrent retry of the same hold waits for it, then finds it here.
    if hold_id is not None and (earlier := await repo.hold(hold_id)) is not None:
        state = "lifted" if earlier.lifted_at is not None else "active"
        message = f"hold {hold_id} exists already ({earlier.situation}, {state}): nothing was sent again"
        raise Conflict(message, code="hold.exists", errors=[ErrorItem("/hold_id", "hold.exists", message)])
    _set_fact(case, situation, now.date())
    hold = Hold(
        id=uuid.uuid4(),
        hold_id=hold_id or f"HLD-{uuid.uuid4().hex}",
        case_id=case.id,
        situation=situation,
        comment=comment,
        raised_by=actor,
        raised_at=now,
    )
    await repo.add(hold)
    code, message = REASONS[situation]
    reasons = [(f"guardrail.{code.lower()}", f"{message} {comment}"[:500])]
    working: dict[uuid.UUID, list[Mandate]] = defaultdict(list)
    for mandate in await repo.of_case(case.id):
        if mandate.status in WORKING:
            working[mandate.office_id].append(mandate)
    offices = OfficeRepository(session)
    notices: list[HoldNoticeView] = []
    for office_id, mandates in working.items():
        office = await offices.get(office_id)
        assert office is not None  # foreign key
        due = now + ack_window()
        wire = messages.hold_notice(hold, case, mandates, office, reasons, ack_due_by=due)
        await send_to_office(session, office, wire, case_id=case.id)
        notice = HoldNotice(
            message_id=wire.envelope.message_id,
            hold_id=hold.id,
            mandates=[m.model_dump() for m in wire.mandates],
            office_id=office.id,
            situation=situation,
            sent_at=now,
            ack_due_by=due,
        )
        await repo.add(notice)
        # Not a transition: the status stays, the log says a hold notice left, who raised it and why.
        repo.stage(
            *(
                MandateEvent(
                    mandate_id=m.id,
                    from_status=m.status,
                    to_status=m.status,
                    actor=actor,
                    reason=f"hold {hold.hold_id} ({situation}) notified: {comment}"[:2000],
                )
                for m in mandates
            )
        )
        notices.append(HoldNoticeView(notice, office.code, overdue=False))
    await session.flush()
    return HoldView(hold, case.ref, sorted(notices, key=lambda n: n.office_code))


async def lift_hold(
    session: AsyncSession, hold_id: str, *, actor: str, comment: str, now: datetime | None = None
) -> HoldView:
    """Lifts an active hold: the case's fact of its situation is cleared unless another active hold
    of the same situation remains on the case, and each office that was sent a notice of it gets a
    ``hold_lift`` (saying ``still_held`` when such a hold remains). Refused with nothing written:
    404 ``hold.not_found``, 409 ``hold.already_lifted``, 409 ``hold.legal_block`` for a limitation
    a case update recorded, or an insolvency hold while the proceedings are recorded (``_legal_block``)."""
    now = now or utcnow()
    repo = MandateRepository(session)
    hold = await repo.hold(hold_id, for_update=True)
    if hold is None:
        raise NotFound(f"no hold {hold_id}", code="hold.not_found")
    if hold.lifted_at is not None:
        message = (
            f"hold {hold.hold_id} was lifted at {hold.lifted_at:%Y-%m-%d %H:%M} UTC by {hold.lifted_by}; "
            "nothing to do"
        )
        raise Conflict(
            message, code="hold.already_lifted", errors=[ErrorItem("hold_id", "hold.already_lifted", message)]
        )
    case = await CaseRepository(session).get_by_id(hold.case_id, for_update=True)
    assert case is not None  # foreign key
    recorded = hold.situation == LIMITATION and await CaseRepository(session).has_update(
        case.id, CaseUpdateKind.LIMITATION_REACHED.value
    )
    blocked = _legal_block(case, hold.situation, limitation_recorded=recorded)
    if blocked is not None:
        raise Conflict(
            f"hold {hold.hold_id} cannot be lifted: {blocked}",
            code="hold.legal_block",
            errors=[ErrorItem("hold_id", "hold.legal_block", blocked)],
        )
    hold.lifted_at = now
    hold.lifted_by = actor
    hold.lift_comment = comment
    others = [h for h in await repo.holds_of_case(case.id) if h.id != hold.id and h.lifted_at is None]
    still_held = any(h.situation == hold.situation for h in others)
    if not still_held:
        _clear_fact(case, hold.situation)
    offices = OfficeRepository(session)
    views: list[HoldNoticeView] = []
    for notice, office_code in await repo.notices_of_holds([hold.id]):
        office = await offices.get(notice.office_id)
        assert office is not None  # foreign key
        wire = messages.hold_lift(hold, case, notice, office, still_held=still_held)
        await send_to_office(session, office, wire, case_id=case.id)
        notice.lift_message_id = wire.envelope.message_id
        views.append(HoldNoticeView(notice, office_code, overdue=False))
    await session.flush()
    return HoldView(hold, case.ref, views)


async def list_holds(
    session: AsyncSession,
    case_ref: str,
    *,
    after: str | None = None,
    limit: int = DEFAULT_LIMIT,
    now: datetime | None = None,
) -> tuple[list[HoldView], str | None]:
    """A case's holds, active and lifted, in the order raised, ``limit`` after the hold ``after`` (its
    hold id), each with the notices sent to the offices and their acknowledgements; and the hold to
    read on from (None on the last page). 404 ``case.not_found``."""
    now = now or utcnow()
    case = await CaseRepository(session).get_by_ref(case_ref)
    if case is None:
        raise NotFound(f"no case with ref {case_ref}", code="case.not_found")
    repo = MandateRepository(session)
    holds, cursor = page_of(
        await repo.holds_of_case(case.id, after=after, limit=limit), limit, lambda h: h.hold_id
    )
    by_hold: dict[uuid.UUID, list[HoldNoticeView]] = defaultdict(list)
    for notice, code in await repo.notices_of_holds([h.id for h in holds]):
        overdue = notice.acknowledged_at is None and notice.ack_due_by < now
        assert notice.hold_id is not None  # asked by hold
        by_hold[notice.hold_id].append(HoldNoticeView(notice, code, overdue))
    return [HoldView(h, case.ref, by_hold[h.id]) for h in holds], cursor


@dataclass(frozen=True)
class BreachView:
    act: ActReport
    hold: Hold
    case_ref: str
    office_code: str
    mandate_ref: str


async def list_breaches(session: AsyncSession, *, after: uuid.UUID | None, limit: int) -> list[BreachView]:
    """The act reports flagged ``hold_breached``, ``limit`` after the cursor ``after`` (an act
    report's id), each with the hold it broke."""
    rows = await MandateRepository(session).breaches(after=after, limit=limit)
    return [BreachView(*row) for row in rows]
