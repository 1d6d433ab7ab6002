"""Cases and offices for the mandates tests, written through the services."""

from __future__ import annotations

import secrets
import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import ActReport
from hub.acts.service import post_act
from hub.cases import service as cases
from hub.cases.models import Case
from hub.cases.service import CaseIn
from hub.mandates.models import Mandate
from hub.messaging import service as messaging
from hub.messaging.service import Envelope
from hub.offices import service as offices
from hub.offices.models import DeliveryChannel, Office
from tests.hub.cases.factories import case_body


def new_code() -> str:
    return "CJ" + secrets.token_hex(4).upper()


async def an_office(
    session: AsyncSession, code: str | None = None, *, departements: list[str] | None = None, **kw: Any
) -> Office:
    return await offices.add_office(
        session,
        code=code or new_code(),
        name="Étude",
        departements=departements or [],
        delivery_channel=kw.pop("delivery_channel", DeliveryChannel.PULL),
        **kw,
    )


async def a_case(session: AsyncSession, **changes: Any) -> Case:
    return await cases.create_case(session, CaseIn.model_validate(case_body(**changes)))


RICH = {"evidence": {"bank_balance_cents": 2_000_000}}  # 5,000 EUR owed, 20,000 EUR on a known account
POOR = {"claim": {"principal_cents": 2_000}}  # 20 EUR owed


async def reported(
    session: AsyncSession,
    mandate: Mandate,
    outcome: str = "served_at_home",
    *,
    act_code: str = "BANK_GARNISHMENT",
    on: date | None = None,
    **amounts: int,
) -> ActReport:
    """An act report under ``mandate`` (today's unless ``on``), stored and posted to the ledger as
    the acts module does."""
    office = await session.get(Office, mandate.office_id)
    assert office is not None
    message_id = f"{office.code}-{secrets.token_hex(4)}"
    stored = await messaging.store_inbound(
        session, Envelope(message_id, "act_report", office.code, "AGENCY"), b"<r/>", "application/xml"
    )
    act = ActReport(
        id=uuid.uuid4(),
        mandate_id=mandate.id,
        case_id=mandate.case_id,
        office_id=office.id,
        message_pk=stored.id,
        act_code=act_code,
        act_date=on or date.today(),
        outcome_code=outcome,
        office_reference=message_id,
        currency="EUR",
        **amounts,
    )
    session.add(act)
    await session.flush()
    await post_act(session, act)
    await session.flush()
    return act
