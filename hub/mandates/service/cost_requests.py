"""Cost requests from offices: staff decide, and the decision goes back to the office with its
approval id (quoted on the act report and the invoice line)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.clock import utcnow
from hub.kit.errors import Conflict, ErrorItem, InvalidInput, NotFound
from hub.mandates import messages
from hub.mandates.models import Approval, Mandate
from hub.mandates.repository import MandateRepository
from hub.messaging.outbound import send_to_office
from hub.offices.repository import OfficeRepository


async def decide_cost_request(
    session: AsyncSession,
    approval_id: str,
    *,
    approve: bool,
    actor: str,
    reason: str | None,
    approved_fees_cents: int | None = None,
) -> Approval:
    """Staff decide an office's pending cost request; the decision goes back to the office."""
    repo = MandateRepository(session)
    approval = await repo.approval(approval_id, for_update=True)  # before "decided yet?"
    if approval is None or approval.request_message_id is None:
        raise NotFound(f"no cost request {approval_id}", code="approval.not_found")
    if approval.decision is not None:
        raise Conflict(f"{approval_id} was already {approval.decision}", code="approval.already_decided")
    errors: list[ErrorItem] = []
    if not approve and not reason:
        errors.append(ErrorItem("reason", "approval.reason_required", "say why the cost is refused"))
    if approved_fees_cents is not None and approved_fees_cents <= 0:
        errors.append(
            ErrorItem("approved_fees_cents", "approval.fees_invalid", "give a positive amount in cents")
        )
    if errors:
        raise InvalidInput(f"cost request {approval_id} cannot be decided as given", errors=errors)
    approval.decision = "approved" if approve else "refused"
    approval.decided_by = actor
    approval.decided_at = utcnow()
    approval.reason = reason
    if approve and approved_fees_cents is not None:
        approval.amount_cents = approved_fees_cents
    await session.flush()
    mandate = await session.get(Mandate, approval.mandate_id)
    office = await OfficeRepository(session).get(mandate.office_id) if mandate is not None else None
    assert mandate is not None and office is not None  # foreign keys
    await send_to_office(
        session, office, messages.cost_decision(approval, mandate, office), case_id=mandate.case_id
    )
    return approval
