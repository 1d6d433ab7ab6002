"""Fee invoices from offices: each line with its match against the act reports and the tariff;
finance approves one or disputes a line (the office is sent the dispute)."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.console.web import PAGE_SIZE, CheckedForm, Signed, done, field, needs, page, refusal_text
from hub.deps import SessionDep
from hub.invoices import service as invoices
from hub.invoices.models import InvoiceState
from hub.kit.errors import HubError
from hub.staff.models import Role

router = APIRouter()
Finance = Annotated[Signed, needs(Role.FINANCE)]


@router.get("/invoices")
async def list_page(
    request: Request,
    session: SessionDep,
    signed: Finance,
    state: Annotated[str, Query(pattern="^[a-z]*$")] = "",
    office: Annotated[str, Query(max_length=16)] = "",
    after: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
) -> HTMLResponse:
    state = state if state in {s.value for s in InvoiceState} else ""
    rows = await invoices.list_invoices(
        session, state=state or None, office_code=office or None, after=after, limit=limit
    )
    next_url = None
    if len(rows) == limit:
        query = {"state": state, "office": office, "after": str(rows[-1][0].id), "limit": limit}
        next_url = "/console/invoices?" + urlencode({k: v for k, v in query.items() if v})
    return page(
        request,
        signed,
        "invoices.html",
        title="Invoices",
        explain=(
            "Fee invoices the offices sent, each line matched against the act it bills and the tariff. "
            "A matched invoice can be approved for payment; a line that is wrong is disputed, and the "
            "office is told why."
        ),
        rows=rows,
        next_url=next_url,
        state=state,
        office=office,
        states=[s.value for s in InvoiceState],
    )


@router.get("/invoices/{invoice_id}")
async def one(invoice_id: uuid.UUID, request: Request, session: SessionDep, signed: Finance) -> HTMLResponse:
    try:
        invoice = await invoices.invoice_for(session, invoice_id, None)
    except HubError as exc:
        return page(request, signed, "missing.html", title="No such invoice", detail=exc.detail)
    return page(
        request,
        signed,
        "invoice.html",
        title=f"Invoice {invoice.number}",
        explain=(
            "Each line with what the hub found: matched to its act and the tariff, or the finding that "
            "stops it. Approve the invoice, or dispute a line with the reason the office will read: the "
            "office is sent the line and the reason, and answers the whole invoice with a credit note "
            "or a corrected one."
        ),
        invoice=invoice,
        office_code=await invoices.office_code_of(session, invoice),
        lines=await invoices.lines_of(session, invoice),
        events=await invoices.events_of(session, invoice),
        can_decide=invoice.state in {InvoiceState.MATCHED.value, InvoiceState.DISPUTED.value},
        can_dispute=invoice.dispute_sent_at is None,
    )


@router.post("/invoices/{invoice_id}/decide")
async def decide(
    invoice_id: uuid.UUID, session: SessionDep, signed: Finance, form: CheckedForm
) -> RedirectResponse:
    comment = field(form, "comment")
    line = field(form, "line")
    back = f"/console/invoices/{invoice_id}"
    decision: invoices.Decision
    match field(form, "decision"):
        case "approve":
            decision = "approve"
        case "dispute":
            decision = "dispute"
        case _:
            return await done(session, signed, back, "Refused: choose approve or dispute.")
    try:
        async with session.begin_nested():
            outcome = await invoices.decide(
                session,
                [invoice_id],
                decision,
                actor=signed.user.email,
                comment=comment or None,
                lines=[line] if decision == "dispute" and line else [],
            )
        what = "approved for payment" if decision == "approve" else "disputed; the office is sent the dispute"
        message = f"Invoice {what} (now {outcome[0].state})."
    except HubError as exc:
        message = refusal_text(exc)
    return await done(session, signed, back, message)
