"""An act report that breaks a hold its office acknowledged is accepted but flagged hold_breached
and listed for staff; before the acknowledgement, a non-coercive act, another office's hold, or an
act dated from the day the hold was lifted is not."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import ActReport
from hub.bootstrap import inbound_processor
from hub.kit.clock import utcnow
from hub.mandates import service
from hub.messaging.inbound import Received
from hub.messaging.signing import ReceiptSigner
from hub.offices.models import Office
from schemas import v1
from tests.hub.acts.factories import Seeded, report_json, seed
from tests.hub.mandates.test_handlers import office_message

SIGNER = ReceiptSigner("r" * 40)
STAFF = "handler@agence.example"


async def reported(session: AsyncSession, s: Seeded, n: int, act_code: str, on: date) -> ActReport:
    raw = report_json(s.office.code, s.mandate.ref, n, act_code=act_code, act_date=on.isoformat())
    outcome = await inbound_processor(SIGNER).receive(session, s.office, Received(raw, "application/json"))
    assert outcome.accepted, outcome.receipt.errors
    return (
        await session.execute(select(ActReport).where(ActReport.message_pk == outcome.message.id))
    ).scalar_one()


async def acknowledge(
    session: AsyncSession, office: Office, notice_id: str, mandate_ref: str, at: datetime
) -> None:
    body = office_message("hold_notice_ack", office.code, notice_id=notice_id, mandate_ref=mandate_ref)
    ack = v1.HoldNoticeAck.model_validate_json(json.dumps(body))
    await service.acknowledge_hold_notice(session, office, ack, now=at)


async def test_a_coercive_act_after_the_acknowledgement_is_flagged_until_the_lift(
    session: AsyncSession,
) -> None:
    s = await seed(session, kind="whole_file", acts=[])  # never completed by its acts
    other = await seed(session)  # another office, on another case: never concerned
    today = utcnow().date()
    hold = await service.raise_hold(session, s.case.ref, "disputed", actor=STAFF, comment="letter")
    [notice] = hold.notices

    before_ack = await reported(session, s, 1, "PAYMENT_ORDER", today)
    assert before_ack.breached_hold_id is None  # not acknowledged yet: the office may not know

    acked_at = utcnow() - timedelta(days=2)
    await acknowledge(session, s.office, notice.notice.message_id, s.mandate.ref, acked_at)
    served = await reported(session, s, 2, "SERVE_TITLE", today)
    assert served.breached_hold_id is None  # not coercive
    earlier = await reported(session, s, 3, "PAYMENT_ORDER", acked_at.date() - timedelta(days=1))
    assert earlier.breached_hold_id is None  # dated before the acknowledgement
    broke = await reported(session, s, 4, "PAYMENT_ORDER", acked_at.date())
    assert broke.flagged and broke.breached_hold_id == hold.hold.id
    assert broke.assessment is not None and broke.assessment["hold_breached"] == hold.hold.hold_id
    [flag] = [f for f in broke.assessment["flags"] if f["code"] == "hold_breached"]  # type: ignore[attr-defined]
    assert hold.hold.hold_id in flag["message"] and "disputed" in flag["message"]
    assert (await reported(session, other, 1, "PAYMENT_ORDER", today)).breached_hold_id is None

    [listed] = await service.list_breaches(session, after=None, limit=10)
    assert (listed.act.id, listed.hold.hold_id, listed.office_code, listed.case_ref, listed.mandate_ref) == (
        broke.id,
        hold.hold.hold_id,
        s.office.code,
        s.case.ref,
        s.mandate.ref,
    )
    assert await service.list_breaches(session, after=broke.id, limit=10) == []

    await service.lift_hold(session, hold.hold.hold_id, actor=STAFF, comment="settled")
    after_lift = await reported(session, s, 5, "PAYMENT_ORDER", today)
    assert after_lift.breached_hold_id is None  # dated the day it was lifted
    late_report = await reported(session, s, 6, "PAYMENT_ORDER", today - timedelta(days=1))
    assert late_report.breached_hold_id == hold.hold.id  # reported after the lift, done before it
