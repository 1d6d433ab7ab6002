"""Cases and offices for the mandates tests, written through the services."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases import service as cases
from hub.cases.models import Case
from hub.cases.service import CaseIn
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
