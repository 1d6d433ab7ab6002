"""The day's worklist: what needs a person today across the offices, each with why, its age, the
last reminder and its acknowledgement; a reminder to the office in one action."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.console.web import PAGE_SIZE, CheckedForm, Signed, done, field, needs, page, refusal_text
from hub.deps import SessionDep
from hub.kit.clock import utcnow
from hub.kit.errors import HubError
from hub.offices.repository import OfficeRepository
from hub.staff.models import Role
from hub.worklist import service as worklist
from hub.worklist.service import Kind

router = APIRouter()
Staff = Annotated[Signed, needs(Role.STAFF)]

# What staff read for each kind; the office's to do first, then the agency's own decisions.
KIND_LABELS = {
    Kind.STALE_MANDATE.value: "Mandate gone quiet",
    Kind.MANDATE_ACK_OVERDUE.value: "Mandate not accepted or refused in time",
    Kind.HOLD_NOTICE_ACK_OVERDUE.value: "Hold notice not acknowledged",
    Kind.UNREMITTED.value: "Money collected, not remitted",
    Kind.INVOICE_DISPUTED.value: "Invoice in dispute",
    Kind.HELD_MANDATE.value: "Held mandate to decide",
    Kind.COST_REQUEST.value: "Cost request to decide",
}


@router.get("/worklist")
async def list_page(
    request: Request,
    session: SessionDep,
    signed: Staff,
    kind: Annotated[str, Query(pattern="^[a-z_]*$")] = "",
    office: Annotated[str, Query(max_length=16)] = "",
    after: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
) -> HTMLResponse:
    kind = kind if kind in KIND_LABELS else ""
    error = None
    try:
        views, cursor = await worklist.worklist(
            session,
            office_code=office or None,
            kinds=frozenset({kind}) if kind else None,
            after=after,
            limit=limit,
        )
    except HubError as exc:  # an unknown office
        views, cursor, error = [], None, refusal_text(exc)
    next_url = None
    if cursor is not None:
        query = {"kind": kind, "office": office, "after": cursor, "limit": limit}
        next_url = "/console/worklist?" + urlencode({k: v for k, v in query.items() if v})
    here = "/console/worklist?" + urlencode({k: v for k, v in {"kind": kind, "office": office}.items() if v})
    return page(
        request,
        signed,
        "worklist.html",
        title="Worklist",
        explain=(
            "What needs a person today: mandates gone quiet against their office's own pace, "
            "acknowledgements overdue, money not remitted, invoices in dispute (the office's to do: send "
            "it a reminder, at most once a day unless you send anyway), and the held mandates and cost "
            "requests waiting for the agency's own decision. Oldest first within each kind."
        ),
        views=views,
        next_url=next_url,
        error=error,
        kind=kind,
        office=office,
        kinds=KIND_LABELS,
        offices=[o.code for o in await OfficeRepository(session).list_all()],
        today=utcnow().date(),
        back=here.rstrip("?"),
    )


@router.post("/worklist/remind")
async def remind(session: SessionDep, signed: Staff, form: CheckedForm) -> RedirectResponse:
    back = field(form, "back")
    back = back if back.startswith("/console/worklist") else "/console/worklist"
    data = worklist.ReminderIn(
        office_code=field(form, "office"),
        topic=field(form, "topic"),
        mandate_ref=field(form, "mandate_ref") or None,
        case_ref=field(form, "case_ref") or None,
        invoice_number=field(form, "invoice_number") or None,
        comment=field(form, "comment")[:500] or None,
        force=field(form, "force") == "yes",
    )
    try:
        async with session.begin_nested():
            reminder, code = await worklist.send_reminder(session, data, actor=signed.user.email)
        forced = " (sent anyway)" if reminder.forced else ""
        message = (
            f"Reminder {reminder.message_id} about {reminder.subject} sent to {code}{forced}; "
            f"to be acknowledged by {reminder.ack_due_by:%Y-%m-%d %H:%M} UTC."
        )
    except HubError as exc:
        message = refusal_text(exc)
        if exc.code == "reminder.already_sent_today":
            message += " Use “Send anyway” on the item to remind the office again today."
    return await done(session, signed, back, message)
