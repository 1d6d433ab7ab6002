"""Offices: the network, each office's channel and API keys (create, revoke), its scorecard and the
differences its last inventory showed."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.console.pages.dashboard import month_starts
from hub.console.repository import ConsoleRepository
from hub.console.web import PAGE_SIZE, CheckedForm, Signed, done, needs, page, refusal_text
from hub.deps import KeyCacheDep, SessionDep, SettingsDep
from hub.finance import service as finance
from hub.inventory import compare
from hub.inventory import service as inventory
from hub.kit.clock import utcnow
from hub.kit.errors import HubError
from hub.offices import service as offices
from hub.offices.repository import OfficeRepository
from hub.staff.models import Role

router = APIRouter()
Viewer = Annotated[Signed, needs(Role.STAFF, Role.FINANCE)]
Admin = Annotated[Signed, needs(Role.ADMIN)]


def _matches(office: Any, text: str) -> bool:
    text = text.casefold()
    return (
        text in office.code.casefold()
        or text in office.name.casefold()
        or any(d.casefold() == text for d in office.departements)
    )


@router.get("/offices")
async def list_page(
    request: Request,
    session: SessionDep,
    signed: Viewer,
    q: Annotated[str, Query(max_length=100)] = "",
    channel: Annotated[str, Query(pattern="^[a-z_]*$")] = "",
    after: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
) -> HTMLResponse:
    # The network is a few hundred offices at most, read whole (by code) and cut here, like the
    # cost requests.
    every = await offices.list_offices(session)
    found = [
        o
        for o in every
        if (not q.strip() or _matches(o, q.strip()))
        and (not channel or o.delivery_channel == channel)
        and (after is None or o.code > after)
    ]
    rows = found[:limit]
    next_url = None
    if len(found) > limit:
        query = {"q": q.strip(), "channel": channel, "after": rows[-1].code, "limit": limit}
        next_url = "/console/offices?" + urlencode({k: v for k, v in query.items() if v})
    return page(
        request,
        signed,
        "offices.html",
        title="Offices",
        explain="The bailiff offices (commissaires de justice) of the network and how messages reach them.",
        offices=rows,
        next_url=next_url,
        q=q.strip(),
        channel=channel,
        channels=sorted({o.delivery_channel for o in every}),
    )


def _differences(
    result: dict[str, Any] | None, kind: str, after: str | None, limit: int, code: str
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the last inventory's differences (sorted by ref, then kind), of one kind or all;
    the cursor is the last ``ref kind`` shown."""
    if result is None:
        return [], None
    position = None
    if after:
        ref, _, last_kind = after.rpartition(" ")
        position = (ref, compare.KINDS.index(last_kind) if last_kind in compare.KINDS else -1)
    items = [
        d
        for d in result.get("items", [])
        if (not kind or d["kind"] == kind)
        and (position is None or (d["ref"], compare.KINDS.index(d["kind"])) > position)
    ]
    rows = items[:limit]
    next_url = None
    if len(items) > limit:
        query = {"kind": kind, "diff_after": f"{rows[-1]['ref']} {rows[-1]['kind']}", "limit": limit}
        next_url = f"/console/offices/{code}?" + urlencode({k: v for k, v in query.items() if v})
        next_url += "#inventory"
    return rows, next_url


@router.get("/offices/{code}")
async def one(
    code: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    signed: Viewer,
    kind: Annotated[str, Query(pattern="^[a-z_]*$")] = "",
    diff_after: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
) -> HTMLResponse:
    office = await OfficeRepository(session).get_by_code(code)
    if office is None:
        return page(request, signed, "missing.html", title="No such office", detail=f"no office {code}")
    try:
        last_inventory: dict[str, Any] | None = await inventory.last_result(session, office)
    except HubError:  # no inventory yet
        last_inventory = None
    kind = kind if kind in compare.KINDS else ""
    differences, next_difference = _differences(last_inventory, kind, diff_after, limit, office.code)
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
            "The office's details, its API keys (an admin creates or revokes them), its scorecard over "
            "the last twelve months (fees against money recovered, per act) and the differences between "
            "its last inventory of open mandates and the hub's view."
        ),
        office=office,
        keys=await ConsoleRepository(session).keys_of_office(office.id),
        card=cards[0] if cards else None,
        period=(start, today),
        can_manage=signed.can(Role.ADMIN),
        inventory=last_inventory,
        differences=differences,
        next_difference=next_difference,
        kind=kind,
        kinds=compare.KINDS,
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
