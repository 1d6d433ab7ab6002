"""Holds raised on a case after its mandates were issued: hold notices to the offices working on it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.repository import CaseRepository
from hub.kit.clock import utcnow
from hub.kit.errors import ErrorItem, InvalidInput, NotFound
from hub.mandates import messages
from hub.mandates.assessment import SITUATIONS
from hub.mandates.models import HoldNotice, MandateEvent
from hub.mandates.repository import MandateRepository
from hub.mandates.service.hold_notices import ack_window
from hub.mandates.service.lifecycle import S
from hub.messaging.outbound import send_to_office
from hub.offices.repository import OfficeRepository

# Mandates an office may be working on: a hold raised on their case must reach it.
WORKING = frozenset({S.ISSUED.value, S.ACKNOWLEDGED.value, S.IN_PROGRESS.value})
WHOLE_FILE_ACT = "WHOLE_FILE"  # the act code of a hold notice about a whole-file mandate


async def raise_hold(
    session: AsyncSession, case_ref: str, situation: str, *, actor: str, comment: str
) -> list[str]:
    """Records the debtor's situation on the case (payment plan, dispute, vulnerability, insolvency)
    and sends a hold notice for every act of every mandate an office is working on, to acknowledge by
    a deadline (``hold_notices``); returns the mandates' refs. New mandates on the case are then held
    by the guardrails."""
    if situation not in SITUATIONS:
        raise InvalidInput(
            f"{situation!r} is not a situation that holds a case",
            errors=[ErrorItem("situation", "hold.situation_unknown", f"use one of {', '.join(SITUATIONS)}")],
        )
    case = await CaseRepository(session).get_with_parties(case_ref)
    if case is None:
        raise NotFound(f"no case with ref {case_ref}", code="case.not_found")
    setattr(case, situation, True)
    code, message = SITUATIONS[situation]
    reasons = [(f"guardrail.{code.lower()}", f"{message} {comment}"[:500])]
    repo = MandateRepository(session)
    notified: list[str] = []
    for mandate in await repo.of_case(case.id):
        if mandate.status not in WORKING:
            continue
        office = await OfficeRepository(session).get(mandate.office_id)
        assert office is not None  # foreign key
        sent_at = utcnow()
        due = sent_at + ack_window()
        for act_code in mandate.acts or [WHOLE_FILE_ACT]:
            notice = messages.hold_notice(mandate, act_code, office, reasons, ack_due_by=due)
            await send_to_office(session, office, notice)
            await repo.add(
                HoldNotice(
                    message_id=notice.envelope.message_id,
                    mandate_id=mandate.id,
                    office_id=office.id,
                    act_code=act_code,
                    situation=situation,
                    sent_at=sent_at,
                    ack_due_by=due,
                )
            )
        # Not a transition: the status stays, the log says a hold notice left, who raised it and why.
        await repo.add(
            MandateEvent(
                mandate_id=mandate.id,
                from_status=mandate.status,
                to_status=mandate.status,
                actor=actor,
                reason=f"hold notice sent ({situation}): {comment}",
            )
        )
        notified.append(mandate.ref)
    await session.flush()
    return notified
