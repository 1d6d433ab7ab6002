"""Offices: the network, each office's channel and API keys (create, revoke) and its scorecard."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.console.pages.dashboard import month_starts
from hub.console.repository import ConsoleRepository
from hub.console.web import CheckedForm, Signed, done, needs, page, refusal_text
from hub.deps import KeyCacheDep, SessionDep, SettingsDep
from hub.finance import service as finance
from hub.kit.clock import utcnow
from hub.kit.errors import HubError
from hub.offices import service as offices
from hub.offices.repository import OfficeRepository
from hub.staff.models import Role

router = APIRouter()
Viewer = Annotated[Signed, needs(Role.STAFF, Role.FINANCE)]
Admin = Annotated[Signed, needs(Role.ADMIN)]


@router.get("/offices")
async def list_page(request: Request, session: SessionDep, signed: Viewer) -> HTMLResponse:
    return page(
        request,
        signed,
        "offices.html",
        title="Offices",
        explain="The bailiff offices (commissaires de justice) of the network and how messages reach them.",
        offices=await offices.list_offices(session),
    )


@router.get("/offices/{code}")
async def one(
    code: str, request: Request, session: SessionDep, settings: SettingsDep, signed: Viewer
) -> HTMLResponse:
    office = await OfficeRepository(session).get_by_code(code)
    if office is None:
        return page(request, signed, "missing.html", title="No such office", detail=f"no office {code}")
    today = utcnow().date()
    start = month_starts(today, 12)[0]
    cards = await finance.scorecards(
        session, start, today + timedelta(days=1), office_code=code,
        remittance_deadline_days=settings.remittance_deadline_days,
    )  # fmt: skip
    return page(
        request,
        signed,
        "office.html",
        title=f"Office {office.code}",
        explain=(
            "The office's details, its API keys (an admin creates or revokes them) and its scorecard over "
            "the last twelve months: fees against money recovered, per act."
        ),
        office=office,
        keys=await ConsoleRepository(session).keys_of_office(office.id),
        card=cards[0] if cards else None,
        period=(start, today),
        can_manage=signed.can(Role.ADMIN),
    )


@router.post("/offices/{code}/keys")
async def create_key(
    code: str, request: Request, session: SessionDep, signed: Admin, _form: CheckedForm
) -> HTMLResponse:
    try:
        async with session.begin_nested():
            issued = await offices.create_key(session, code)
    except HubError as exc:
        return page(request, signed, "missing.html", title="Key refused", detail=refusal_text(exc))
    return page(
        request,
        signed,
        "key.html",
        title=f"New API key for {code}",
        explain="Give this key to the office's IT team now: shown only once, the hub keeps only its hash.",
        code=code,
        issued=issued,
    )


@router.post("/offices/{code}/keys/{key_id}/revoke")
async def revoke_key(
    code: str, key_id: str, session: SessionDep, cache: KeyCacheDep, signed: Admin, _form: CheckedForm
) -> RedirectResponse:
    try:
        async with session.begin_nested():
            key = await offices.revoke_key(session, key_id)
        cache.evict(key.key_id)  # refused at once by this process, like POST /v1/keys/{key_id}/revoke
        message = f"API key {key.key_id} revoked: refused from now on."
    except HubError as exc:
        message = refusal_text(exc)
    return await done(session, signed, f"/console/offices/{code}", message)
