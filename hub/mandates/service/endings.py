"""How a mandate ends before its acts are all reported: staff cancel it, or its validity lapses
with no act reported ("mandat caduc"). Either way an office that held it is told with a
``mandate_cancel`` through the outbox, and its later act reports are refused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.clock import utcnow
from hub.mandates import messages
from hub.mandates.models import Mandate, MandateStatus
from hub.mandates.repository import MandateRepository
from hub.mandates.service.lifecycle import S, get_mandate, transition
from hub.messaging.outbound import send_to_office
from hub.offices.repository import OfficeRepository
from schemas import v1

# Mandates the office holds: ending one tells the office.
AT_OFFICE = frozenset({S.ISSUED.value, S.ACKNOWLEDGED.value, S.IN_PROGRESS.value})
# Mandates that lapse at their ``expires_at``: no act reported yet (in progress ones run on).
LAPSING = (S.ISSUED.value, S.ACKNOWLEDGED.value)
SWEEPER = "expiry-sweep"  # the actor of an expiry in the mandates' log


async def end_at_office(
    session: AsyncSession,
    mandate: Mandate,
    to: MandateStatus,
    *,
    actor: str,
    reason: str,
    cause: v1.CancelCause | None = None,
) -> None:
    """Moves a mandate to a final status (cancelled, expired), telling its office when it held it;
    ``cause``: what the office is told ended it (default: as the status says)."""
    at_office = mandate.status in AT_OFFICE
    await transition(session, mandate, to, actor=actor, reason=reason)
    if not at_office:
        return  # a draft or held mandate never left: nothing to withdraw
    office = await OfficeRepository(session).get(mandate.office_id)
    assert office is not None  # foreign key
    if cause is None:
        cause = v1.CancelCause.EXPIRED if to is S.EXPIRED else v1.CancelCause.CANCELLED
    await send_to_office(
        session,
        office,
        messages.mandate_cancel(mandate, office, cause, reason, utcnow()),
        case_id=mandate.case_id,
    )


async def cancel(session: AsyncSession, ref: str, *, actor: str, reason: str) -> Mandate:
    """Cancels a mandate (409 ``mandate.transition_forbidden`` once it is final). One the office
    holds is withdrawn from it with a ``mandate_cancel``; its act reports are then refused
    (``mandate.not_reportable``). Locked before its status is checked: an act report completing it
    meanwhile makes the cancel a 409, not an overwrite."""
    mandate = await get_mandate(session, ref, for_update=True)
    await end_at_office(session, mandate, S.CANCELLED, actor=actor, reason=reason)
    return mandate


async def expire_lapsed(session: AsyncSession, *, now: datetime | None = None, limit: int = 500) -> list[str]:
    """Expires issued or acknowledged mandates whose validity ended by ``now`` (default: the
    clock), at most ``limit`` of them; returns their refs. Running it again finds nothing more."""
    now = now or utcnow()
    expired: list[str] = []
    for mandate in await MandateRepository(session).claim_lapsed(now, LAPSING, limit):
        assert mandate.expires_at is not None  # selected on it
        reason = f"no act reported by {mandate.expires_at:%Y-%m-%d %H:%M} UTC, the end of its validity"
        await end_at_office(session, mandate, S.EXPIRED, actor=SWEEPER, reason=reason)
        expired.append(mandate.ref)
    return expired
