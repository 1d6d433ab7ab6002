"""Office messages about mandates, on the one inbound path (``hub.messaging.inbound``, wired by
``hub.bootstrap``): the acknowledgement (accepted or refused, with its reason), the cost request,
and the acknowledgements of a hold notice and of a case update. Each raises a typed error listing
every problem to refuse the message; the inbound path then keeps nothing it wrote."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.repository import CaseRepository
from hub.kit.clock import utcnow
from hub.kit.errors import ErrorItem, InvalidInput, NotFound
from hub.mandates import service
from hub.mandates.models import Approval, Mandate, MandateStatus
from hub.mandates.repository import MandateRepository
from hub.messaging.inbound import Delivery
from hub.offices.models import Office
from hub.recovery import plausibility
from hub.tariff.catalogue import load_catalogue
from schemas import v1

# A cost request is about a mandate the office holds and works on.
OPEN = frozenset(
    {MandateStatus.ISSUED.value, MandateStatus.ACKNOWLEDGED.value, MandateStatus.IN_PROGRESS.value}
)


async def _office_mandate(session: AsyncSession, ref: str, office: Office) -> Mandate:
    mandate = await MandateRepository(session).get_by_ref(ref, for_update=True)
    if mandate is None or mandate.office_id != office.id:
        # Another office's mandate answers exactly like an unknown one.
        raise NotFound(
            f"no mandate {ref} for this office",
            code="mandate.not_found",
            errors=[
                ErrorItem("/mandate_ref", "mandate.not_found", f"no mandate {ref} was given to this office")
            ],
        )
    return mandate


async def mandate_acknowledged(session: AsyncSession, delivery: Delivery) -> None:
    message, office = delivery.message, delivery.office
    assert isinstance(message, v1.MandateAck)
    mandate = await _office_mandate(session, message.mandate_ref, office)
    if mandate.status != MandateStatus.ISSUED.value:
        raise InvalidInput(
            f"mandate {mandate.ref} is {mandate.status}; only an issued mandate is acknowledged",
            code="mandate.not_awaiting_ack",
            errors=[
                ErrorItem(
                    "/mandate_ref", "mandate.not_awaiting_ack", f"mandate {mandate.ref} is {mandate.status}"
                )
            ],
        )
    if message.accepted:
        reason = "accepted by the office"
        if message.office_reference:
            reason += f", its reference {message.office_reference}"
        await service.transition(
            session, mandate, MandateStatus.ACKNOWLEDGED, actor=office.code, reason=reason
        )
    else:
        assert message.reason is not None  # the wire model requires it when refused
        reason = message.reason.value + (f": {message.reason_text}" if message.reason_text else "")
        await service.transition(session, mandate, MandateStatus.REFUSED, actor=office.code, reason=reason)


async def cost_requested(session: AsyncSession, delivery: Delivery) -> None:
    """Records a pending approval; staff decide it (``POST /v1/approvals/{id}/decide``)."""
    message, office = delivery.message, delivery.office
    assert isinstance(message, v1.CostRequest)
    mandate = await _office_mandate(session, message.mandate_ref, office)
    errors: list[ErrorItem] = []
    if mandate.status not in OPEN:
        errors.append(
            ErrorItem("/mandate_ref", "mandate.not_open", f"mandate {mandate.ref} is {mandate.status}")
        )
    if message.act_code not in load_catalogue().acts:
        errors.append(
            ErrorItem("/act_code", "act.unknown", f"{message.act_code} is not an act of the catalogue")
        )
    if message.currency != mandate.currency:
        errors.append(
            ErrorItem("/currency", "currency.mismatch", f"mandate {mandate.ref} is in {mandate.currency}")
        )
    if errors:
        raise InvalidInput(f"the cost request on mandate {mandate.ref} is refused", errors=errors)
    await MandateRepository(session).add(
        Approval(
            approval_id=service.new_ref("APR"),
            mandate_id=mandate.id,
            act_code=message.act_code,
            amount_cents=message.estimated_fees_cents,
            requested_by=office.code,
            request_message_id=message.envelope.message_id,
            justification=message.justification,
            expected_recovery_cents=message.expected_recovery_cents,
            assessment=await _assessed(session, mandate, message.act_code, office),
        )
    )


async def _assessed(
    session: AsyncSession, mandate: Mandate, act_code: str, office: Office
) -> dict[str, object]:
    """The hub's own view of the act asked for, on the case as it stands, for the staff who decide:
    its cost, what it can be expected to bring in, the creditor's net and the reasons, in words."""
    case = await CaseRepository(session).get_with_parties_by_id(mandate.case_id)
    assert case is not None  # foreign key
    facts = await service.facts_of(session, case)
    rates = await service.learned_rates(session)
    found = plausibility.assess(facts, act_code, utcnow().date(), office=office.code, rates=rates)
    return {
        "cost_cents": found.cost_cents,
        "expected_recovery_cents": found.expected_recovery_cents,
        "expected_net_cents": found.expected_net_cents,
        "flagged": found.flagged,
        "reasons": [{"code": r.code, "message": r.message} for r in found.reasons],
        "rule_version": found.explanation.rule_version,
    }


async def hold_notice_acknowledged(session: AsyncSession, delivery: Delivery) -> None:
    """Records when the office acknowledged its hold notice (once; late ones too)."""
    message, office = delivery.message, delivery.office
    assert isinstance(message, v1.HoldNoticeAck)
    await service.acknowledge_hold_notice(session, office, message)


async def case_update_acknowledged(session: AsyncSession, delivery: Delivery) -> None:
    """Records when the office acknowledged a case update sent to it (once; late ones too)."""
    message, office = delivery.message, delivery.office
    assert isinstance(message, v1.CaseUpdateAck)
    await service.acknowledge_case_update(session, office, message)
