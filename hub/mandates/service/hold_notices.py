"""Hold notices and their acknowledgement: an office told of a hold on a case (``holds``)
acknowledges the notice with a ``hold_notice_ack`` by a deadline (``HUB_HOLD_NOTICE_ACK_HOURS`` after it was
sent); staff follow up the notices left unacknowledged past it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.clock import utcnow
from hub.kit.errors import Conflict, ErrorItem, NotFound
from hub.kit.pagination import page_of
from hub.mandates.models import CaseUpdateNotice, HoldNotice, MandateEvent
from hub.mandates.repository import MandateRepository
from hub.offices.models import Office
from hub.offices.repository import OfficeRepository
from hub.settings import get_settings
from schemas import v1


def ack_window() -> timedelta:
    """How long an office has to acknowledge a hold notice."""
    return timedelta(hours=get_settings().hold_notice_ack_hours)


@dataclass(frozen=True)
class NoticeView:
    notice: HoldNotice
    mandate_refs: list[str]
    case_ref: str
    office_code: str
    hold_id: str | None  # None: a notice of before holds were records (one per act)
    overdue: bool  # not acknowledged, and its deadline has passed
    late: bool  # acknowledged, but after its deadline


async def acknowledge_hold_notice(
    session: AsyncSession, office: Office, ack: v1.HoldNoticeAck, *, now: datetime | None = None
) -> HoldNotice:
    """Records the office's acknowledgement of its hold notice, once: a second one is refused as a
    duplicate (409), another office's notice answers like an unknown one (404). A late one is
    recorded all the same, and the mandate's log says by how much it was late."""
    now = now or utcnow()
    repo = MandateRepository(session)
    found = await repo.hold_notice(ack.notice_id, for_update=True)  # before "acknowledged yet?"
    if found is None or found[0].office_id != office.id or ack.mandate_ref not in found[1]:
        raise not_sent(
            f"no hold notice {ack.notice_id} about mandate {ack.mandate_ref} was sent to this office",
            code="hold_notice",
            path="/notice_id",
        )
    notice, mandate_refs = found
    acknowledge_once(
        notice, ack.envelope.message_id, now, what="hold notice", code="hold_notice", path="/notice_id"
    )
    reason = f"hold notice {notice.message_id} ({notice.situation}) acknowledged"
    if now > notice.ack_due_by:
        reason += f", {_hours(now - notice.ack_due_by)} after its deadline"
    if ack.comment:
        reason += f": {ack.comment}"
    for ref in mandate_refs:
        mandate = await repo.get_by_ref(ref)
        assert mandate is not None  # listed when the notice was sent
        # Not a transition: the status stays, the log says the office acknowledged the hold.
        repo.stage(
            MandateEvent(
                mandate_id=mandate.id,
                from_status=mandate.status,
                to_status=mandate.status,
                actor=office.code,
                reason=reason,
            )
        )
    await session.flush()
    return notice


def not_sent(message: str, *, code: str, path: str) -> NotFound:
    """404 ``<code>.not_found``: the notice is unknown, or was sent to another office."""
    return NotFound(message, code=f"{code}.not_found", errors=[ErrorItem(path, f"{code}.not_found", message)])


def acknowledge_once(
    notice: HoldNotice | CaseUpdateNotice,
    ack_message_id: str,
    now: datetime,
    *,
    what: str,
    code: str,
    path: str,
) -> None:
    """Records the first acknowledgement of ``notice`` (a hold notice or a case update sent to an
    office); a second one is refused as a duplicate, 409 ``<code>.already_acknowledged``."""
    if notice.acknowledged_at is not None:
        message = (
            f"{what} {notice.message_id} was acknowledged at "
            f"{notice.acknowledged_at:%Y-%m-%d %H:%M} UTC (message {notice.ack_message_id}); nothing to do"
        )
        raise Conflict(
            message,
            code=f"{code}.already_acknowledged",
            errors=[ErrorItem(path, f"{code}.already_acknowledged", message)],
        )
    notice.acknowledged_at = now
    notice.ack_message_id = ack_message_id


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


async def list_hold_notices(
    session: AsyncSession,
    *,
    overdue: bool,
    office_code: str | None = None,
    after: str | None = None,
    limit: int,
    now: datetime | None = None,
) -> tuple[list[NoticeView], str | None]:
    """Hold notices for staff, ``limit`` after the notice ``after`` (its message id), of one office or
    all: every one, the latest first; or with ``overdue``, those not acknowledged by their deadline,
    the most overdue first; and the notice to read on from (None on the last page). 404
    ``office.not_found`` for an unknown office."""
    now = now or utcnow()
    office_id = None
    if office_code is not None:
        office = await OfficeRepository(session).get_by_code(office_code)
        if office is None:
            raise NotFound(f"no office with code {office_code}", code="office.not_found")
        office_id = office.id
    rows = await MandateRepository(session).hold_notices(
        unacknowledged_due_by=now if overdue else None, office_id=office_id, after=after, limit=limit
    )
    page, cursor = page_of(rows, limit, lambda row: row[0].message_id)
    return [
        NoticeView(
            notice=notice,
            mandate_refs=mandate_refs,
            case_ref=case_ref,
            office_code=office_code,
            hold_id=hold_id,
            overdue=notice.acknowledged_at is None and notice.ack_due_by < now,
            late=notice.acknowledged_at is not None and notice.acknowledged_at > notice.ack_due_by,
        )
        for notice, mandate_refs, case_ref, office_code, hold_id in page
    ], cursor
