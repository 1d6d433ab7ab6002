"""What waits for a person's decision: held mandates and offices' cost requests, each with why."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.cases.repository import CaseRepository
from hub.console.web import PAGE_SIZE, CheckedForm, Signed, done, field, needs, page, refusal_text
from hub.deps import SessionDep
from hub.kit.errors import HubError
from hub.ledger import service as ledger
from hub.mandates import service as mandates
from hub.mandates.models import MandateStatus
from hub.mandates.repository import MandateRepository
from hub.mandates.service import waiting
from hub.offices.repository import OfficeRepository
from hub.staff.models import Role

router = APIRouter()
Deciding = Annotated[Signed, needs(Role.STAFF, Role.FINANCE)]
Staff = Annotated[Signed, needs(Role.STAFF)]


def balance_cents(case: Any) -> int:
    return int(case.principal_cents + case.interest_cents + case.costs_cents - case.paid_cents)


@router.get("/decide")
async def to_decide(
    request: Request,
    session: SessionDep,
    signed: Deciding,
    office: Annotated[str, Query(max_length=16)] = "",
    after: str | None = None,
    cost_after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
) -> HTMLResponse:
    office_row = await OfficeRepository(session).get_by_code(office) if office else None
    office = office if office_row is not None else ""  # an unknown code filters nothing
    held: list[dict[str, Any]] = []
    next_held = None
    if signed.can(Role.STAFF):
        rows = await mandates.list_mandates(
            session, office=office_row, status=MandateStatus.HELD, after=after, limit=limit
        )
        cases = CaseRepository(session)
        for mandate, _case_ref, office_code in rows:
            case = await cases.get_with_parties_by_id(mandate.case_id)
            assert case is not None  # foreign key
            net = await ledger.case_net(session, case)
            held.append(
                {
                    "m": mandate,
                    "case": case,
                    "office_code": office_code,
                    "balance": balance_cents(case),
                    "net": net,
                }
            )
        if len(rows) == limit:
            query = {"office": office, "after": rows[-1][0].ref, "limit": limit}
            next_held = "/console/decide?" + urlencode({k: v for k, v in query.items() if v})
    pending, cost_cursor = await waiting.list_cost_requests(
        session, office_code=office or None, after=cost_after, limit=limit
    )
    next_cost = None
    if cost_cursor is not None:
        query = {"office": office, "cost_after": cost_cursor, "limit": limit}
        next_cost = "/console/decide?" + urlencode({k: v for k, v in query.items() if v}) + "#cost-requests"
    requests = []
    repo, offices = MandateRepository(session), OfficeRepository(session)
    codes = [o.code for o in await offices.list_all()]
    for view in pending:
        mandate = await repo.get_by_id(view.approval.mandate_id)
        assert mandate is not None  # foreign key
        asked_by = await offices.get(mandate.office_id)
        requests.append(
            {
                "a": view.approval,
                "m": mandate,
                "office_code": asked_by.code if asked_by else "?",
                "view": view,
            }
        )
    return page(
        request,
        signed,
        "decide.html",
        title="To decide",
        explain=(
            "Mandates the hub held for a person (a flagged cost or a guardrail: vulnerable debtor, "
            "pacing, stop-loss…) and offices' cost requests (an act beyond the mandate or its budget). "
            "Approve or refuse each with a comment: the office is told at once."
        ),
        held=held,
        next_held=next_held,
        requests=requests,
        next_cost=next_cost,
        show_held=signed.can(Role.STAFF),
        office=office,
        offices=codes,
    )


@router.post("/mandates/{ref}/decide")
async def decide_mandate(ref: str, session: SessionDep, signed: Staff, form: CheckedForm) -> RedirectResponse:
    decision, comment = field(form, "decision"), field(form, "comment")
    back = field(form, "back") or "/console/decide"
    back = back if back.startswith("/console/") else "/console/decide"
    if not comment:
        return await done(session, signed, back, f"Refused: say why you decide mandate {ref} (a comment).")
    try:
        async with session.begin_nested():
            if decision == "approve":
                approval = await mandates.approve(session, ref, actor=signed.user.email, comment=comment)
                message = f"Mandate {ref} approved ({approval.approval_id}) and sent to its office."
            elif decision == "refuse":
                approval = await mandates.refuse(session, ref, actor=signed.user.email, comment=comment)
                message = f"Mandate {ref} refused ({approval.approval_id}): cancelled, never sent."
            else:
                message = "Refused: choose approve or refuse."
    except HubError as exc:
        message = refusal_text(exc)
    return await done(session, signed, back, message)


@router.post("/cost-requests/{approval_id}/decide")
async def decide_cost_request(
    approval_id: str, session: SessionDep, signed: Deciding, form: CheckedForm
) -> RedirectResponse:
    decision, comment = field(form, "decision"), field(form, "comment") or None
    amount = field(form, "approved_fees_euros")
    try:
        cents = round(float(amount.replace(",", ".")) * 100) if amount else None
    except ValueError:
        return await done(
            session, signed, "/console/decide", f"Refused: {amount!r} is not an amount in euros."
        )
    try:
        async with session.begin_nested():
            approval = await mandates.decide_cost_request(
                session,
                approval_id,
                approve=decision == "approve",
                actor=signed.user.email,
                reason=comment,
                approved_fees_cents=cents,
            )
        message = f"Cost request {approval_id} {approval.decision}; the office is told."
    except HubError as exc:
        message = refusal_text(exc)
    return await done(session, signed, "/console/decide", message)
