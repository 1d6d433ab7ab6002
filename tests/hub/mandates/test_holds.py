"""A hold raised on a case after issue: a hold notice for each act an office is working on, the case
flagged so new mandates are held, and the mandates' log saying who raised it and why."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.errors import InvalidInput
from hub.mandates import service
from hub.mandates.models import MandateKind, MandateStatus
from hub.mandates.service import MandateIn
from hub.messaging.inbound import decode
from hub.messaging.models import StoredMessage
from schemas import v1
from tests.hub.mandates.factories import RICH, a_case, an_office

STAFF = "handler@agence.example"


async def test_a_payment_plan_after_issue_sends_hold_notices_and_holds_new_mandates(
    session: AsyncSession,
) -> None:
    office = await an_office(session)
    case = await a_case(session, **RICH)

    async def mandate(acts: list[str]) -> str:
        data = MandateIn(case_ref=case.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=acts)
        return (await service.create_mandate(session, data, actor=STAFF)).ref

    working = await mandate(["BANK_GARNISHMENT", "GARNISHMENT_NOTICE"])
    stopped = await mandate(["SERVE_TITLE"])
    await service.cancel(session, stopped, actor=STAFF, reason="served already")

    notified = await service.raise_hold(
        session, case.ref, "payment_plan_active", actor=STAFF, comment="plan agreed on the phone"
    )
    assert notified == [working]
    rows = await session.scalars(select(StoredMessage).where(StoredMessage.kind == "hold_notice"))
    notices = [decode(row.body, row.content_type) for row in rows if row.correlation_id == working]
    assert all(isinstance(n, v1.HoldNotice) for n in notices)
    assert sorted(n.act_code for n in notices) == ["BANK_GARNISHMENT", "GARNISHMENT_NOTICE"]  # type: ignore[attr-defined]
    assert notices[0].reasons[0].code == "guardrail.payment_plan_active"  # type: ignore[attr-defined]

    issued = await service.get_mandate(session, working)
    assert issued.status == MandateStatus.ISSUED
    last = (await service.events(session, issued))[-1]
    assert (last.from_status, last.to_status, last.actor) == ("issued", "issued", STAFF)
    assert last.reason == "hold notice sent (payment_plan_active): plan agreed on the phone"

    later = await service.get_mandate(session, await mandate(["BANK_GARNISHMENT"]))
    assert later.status == MandateStatus.HELD


async def test_an_unknown_situation_is_refused(session: AsyncSession) -> None:
    case = await a_case(session, **RICH)
    with pytest.raises(InvalidInput) as caught:
        await service.raise_hold(session, case.ref, "bored", actor=STAFF, comment="?")
    assert caught.value.errors[0].code == "hold.situation_unknown"
