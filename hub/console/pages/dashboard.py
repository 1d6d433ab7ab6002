"""The dashboard: what moved through the hub, what waits for a person, and how the offices do."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hub.console import charts
from hub.console.repository import ConsoleRepository
from hub.console.web import Signed, needs, page
from hub.deps import SessionDep, SettingsDep
from hub.finance import service as finance
from hub.kit.clock import utcnow
from hub.staff.models import Role

router = APIRouter()
Viewer = Annotated[Signed, needs(Role.STAFF, Role.FINANCE)]
MONTHS = 6


def month_starts(today: date, count: int) -> list[date]:
    """The first day of this month and of the ``count - 1`` before it, oldest first, plus next month's."""
    first = today.replace(day=1)
    starts = [first]
    for _ in range(count - 1):
        starts.insert(0, (starts[0] - timedelta(days=1)).replace(day=1))
    starts.append((first + timedelta(days=32)).replace(day=1))
    return starts


async def monthly_money(
    session: AsyncSession, remittance_days: int
) -> tuple[list[str], list[int], list[int]]:
    """Per month, over every office: the fees claimed and the money recovered (the scorecards')."""
    starts = month_starts(utcnow().date(), MONTHS)
    labels, fees, recovered = [], [], []
    for start, end in itertools.pairwise(starts):
        cards = await finance.scorecards(session, start, end, remittance_deadline_days=remittance_days)
        labels.append(f"{start:%Y-%m}")
        fees.append(sum(c.total.ledger.fees_cents for c in cards))
        recovered.append(sum(c.total.ledger.collected_cents for c in cards))
    return labels, fees, recovered


@router.get("/")
async def dashboard(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    signed: Viewer,
    days: Annotated[int, Query(ge=1, le=90)] = 14,
) -> HTMLResponse:
    repo = ConsoleRepository(session)
    today = utcnow().date()
    since = utcnow() - timedelta(days=days)
    labels, fees, recovered = await monthly_money(session, settings.remittance_deadline_days)
    year_start = month_starts(today, 12)[0]
    cards = await finance.scorecards(
        session,
        year_start,
        today + timedelta(days=1),
        remittance_deadline_days=settings.remittance_deadline_days,
    )
    return page(
        request,
        signed,
        "dashboard.html",
        title="Dashboard",
        explain=(
            "What the hub carried in the last days, what waits for a person, and how each office "
            "turns fees into money recovered."
        ),
        days=days,
        per_day=await repo.messages_per_day(since),
        held=await repo.held_count(),
        cost_requests=await repo.pending_cost_request_count(),
        flagged=await repo.flagged_count(),
        dead=await repo.dead_lettered_count(),
        embedded=settings.embedded_broker,
        months=list(zip(labels, fees, recovered, strict=True)),
        cards=sorted(cards, key=lambda c: c.total.ledger.net_cents, reverse=True),
        period=(year_start, today),
    )


@router.get("/charts/fees-recovered.svg")
async def fees_chart(session: SessionDep, settings: SettingsDep, _signed: Viewer) -> Response:
    labels, fees, recovered = await monthly_money(session, settings.remittance_deadline_days)
    return Response(
        charts.fees_and_recovered(labels, fees, recovered),
        media_type="image/svg+xml",
        headers={"Content-Security-Policy": charts.CHART_CSP},
    )
