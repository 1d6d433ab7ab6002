"""Routes of the invoices module: an office sends its fee invoices (canonical v1, UBL, CII or
Factur-X PDF) and reads its own with each line's result; finance lists them, approves or disputes
them in bulk and marks them paid."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, StringConstraints

from hub.deps import CurrentCaller, SessionDep, staff_with
from hub.invoices import service
from hub.invoices.models import Invoice, InvoiceEvent, InvoiceLine, InvoiceState
from hub.kit.openapi import problems
from hub.messaging.receiving import (
    PDF_DOCUMENT,
    RECEIPT_RESPONSES,
    IdempotencyKey,
    LimitedOffice,
    message_body,
    receive_office_message,
)
from hub.offices.models import Office
from hub.staff.models import Role, StaffUser

router = APIRouter(prefix="/v1", tags=["invoices"])
Finance = Annotated[StaffUser, staff_with(Role.FINANCE)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
LineId = Annotated[str, StringConstraints(min_length=1, max_length=500)]
NO_CREDENTIAL = "No staff token (or API key), or one unknown or revoked; an office key on a staff route"
STAFF_PROBLEMS = problems(
    {401: NO_CREDENTIAL, 403: "A staff role that may not do this", 422: "Invalid request, every error listed"}
)

INVOICE_BODY_DOC = (
    "One fee invoice: the canonical v1 `fee_invoice` (`application/xml` or `application/json`, with "
    "its envelope), or an EN 16931 e-invoice (UBL 2.1 Invoice or CreditNote, UN/CEFACT CII: "
    "`application/xml`; Factur-X: `application/pdf`, up to 20 MB), whose envelope the hub makes up: "
    "message id `EINV-<office>-<invoice number>`, so the same invoice sent twice is a duplicate. "
    "Each line names its act (BT-128 office act reference, BT-132 approval id, BT-155 act code). "
    "202 returns the hub's signed receipt; the result of each line is then at "
    "`GET /v1/invoices/{id}` (see `GET /v1/messages/{message_id}`)."
)


class LineOut(BaseModel):
    position: int
    line_id: str
    description: str
    net_cents: int
    vat_rate_bp: int
    vat_cents: int | None
    disbursement: bool
    office_act_reference: str | None
    hub_act_id: str | None
    approval_id: str | None
    act_code: str | None
    result: str  # "matched" or the first finding's code
    findings: list[dict[str, str]]
    act_report_id: uuid.UUID | None


class EventOut(BaseModel):
    from_state: str | None
    to_state: str
    at: datetime
    actor: str
    reason: str | None


class InvoiceOut(BaseModel):
    id: uuid.UUID
    office_code: str
    number: str
    issue_date: date
    due_date: date | None
    kind: str
    syntax: str
    currency: str
    mandate_reference: str | None
    total_net_cents: int
    total_vat_cents: int
    total_gross_cents: int
    state: str
    received_at: datetime
    message_pk: uuid.UUID
    paid_on: date | None = None
    bank_reference: str | None = None
    payment_run_id: uuid.UUID | None = None
    lines: list[LineOut] | None = None
    events: list[EventOut] | None = None  # staff only: every transition, who and why


class InvoicePage(BaseModel):
    items: list[InvoiceOut]
    next_after: uuid.UUID | None  # pass as ?after= to read the next page


BankReference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class DecisionsIn(BaseModel):
    invoice_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    decision: Literal["approve", "dispute", "paid"]
    comment: Comment | None = None
    # `paid` only, and then both required: the payment as the bank statement shows it.
    paid_on: date | None = Field(default=None, description="`paid`: the day the bank paid")
    bank_reference: BankReference | None = Field(
        default=None, description="`paid`: the bank's reference of the payment"
    )
    lines: list[LineId] = Field(
        default_factory=list,
        max_length=1000,
        description=(
            "`dispute` of one invoice: the lines finance disputes (their `line_id`), each listed in the "
            "office's `invoice_dispute` as `agency_disputed` with the comment. The invoice as a whole is "
            "disputed: the office answers with a credit note or a corrected invoice."
        ),
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "invoice_ids": ["0b8e4f0e-3c1a-4d7e-9f57-2f1c6f1b9a10"],
                    "decision": "dispute",
                    "comment": "No act A/2 was reported on this mandate",
                    "lines": ["2"],
                }
            ]
        }
    }


class PaidIn(BaseModel):
    paid_on: date = Field(description="The day the bank paid (not in the future)")
    bank_reference: BankReference = Field(description="The bank's reference of the payment")
    comment: Comment | None = None

    model_config = {
        "json_schema_extra": {"examples": [{"paid_on": "2026-12-04", "bank_reference": "VIR-2026-000123"}]}
    }


class DecisionsOut(BaseModel):
    items: list[dict[str, Any]]


def invoice_out(
    invoice: Invoice,
    office_code: str,
    lines: list[InvoiceLine] | None = None,
    events: list[InvoiceEvent] | None = None,
) -> InvoiceOut:
    return InvoiceOut(
        id=invoice.id,
        office_code=office_code,
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        kind=invoice.kind,
        syntax=invoice.syntax,
        currency=invoice.currency,
        mandate_reference=invoice.mandate_reference,
        total_net_cents=invoice.total_net_cents,
        total_vat_cents=invoice.total_vat_cents,
        total_gross_cents=invoice.total_gross_cents,
        state=invoice.state,
        received_at=invoice.received_at,
        message_pk=invoice.message_pk,
        paid_on=invoice.paid_on,
        bank_reference=invoice.bank_reference,
        payment_run_id=invoice.payment_run_id,
        lines=None
        if lines is None
        else [
            LineOut(
                position=line.position,
                line_id=line.line_id,
                description=line.description,
                net_cents=line.net_cents,
                vat_rate_bp=line.vat_rate_bp,
                vat_cents=line.vat_cents,
                disbursement=line.disbursement,
                office_act_reference=line.office_act_reference,
                hub_act_id=line.hub_act_id,
                approval_id=line.approval_id,
                act_code=line.act_code,
                result=line.result,
                findings=line.findings,
                act_report_id=line.act_report_id,
            )
            for line in lines
        ],
        events=None
        if events is None
        else [
            EventOut(from_state=e.from_state, to_state=e.to_state, at=e.at, actor=e.actor, reason=e.reason)
            for e in events
        ],
    )


@router.post(
    "/invoices",
    status_code=202,
    summary="Send a fee invoice: canonical v1, UBL 2.1, CII or Factur-X PDF",
    description=INVOICE_BODY_DOC,
    responses=RECEIPT_RESPONSES,
    openapi_extra=message_body("fee_invoice", other_forms={"application/pdf": PDF_DOCUMENT}),
)
async def post_invoice(
    request: Request, office: LimitedOffice, session: SessionDep, key: IdempotencyKey = None
) -> Response:
    return await receive_office_message(request, office, session, key, kind="fee_invoice")


@router.get(
    "/invoices",
    summary="Fee invoices: an office sees its own, finance and staff see all",
    responses=problems({401: NO_CREDENTIAL, 422: "Invalid query, every error listed"}),
)
async def list_invoices(
    session: SessionDep,
    caller: CurrentCaller,
    state: Annotated[InvoiceState | None, Query(description="Only the invoices in this state")] = None,
    office: Annotated[str | None, Query(max_length=16, description="An office code (staff)")] = None,
    issued_from: Annotated[
        date | None, Query(alias="from", description="Issued on or after this day (YYYY-MM-DD)")
    ] = None,
    issued_to: Annotated[
        date | None, Query(alias="to", description="Issued before this day (YYYY-MM-DD), excluded")
    ] = None,
    after: Annotated[uuid.UUID | None, Query(description="The last id already read")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> InvoicePage:
    """Fee invoices, `limit` at a time after the id `after`, by state (received, matched, disputed,
    approved, paid), issue date (`from` included, `to` excluded) and, for staff, office. An office API
    key sees only the invoices that office sent, with their state (not each line: read one invoice for
    that); a finance or staff token sees all.
    """
    own = caller if isinstance(caller, Office) else None
    rows = await service.list_invoices(
        session,
        state=state.value if state else None,
        office_code=office,
        after=after,
        limit=limit,
        office=own,
        issued_from=issued_from,
        issued_to=issued_to,
    )
    items = [invoice_out(invoice, code) for invoice, code in rows]
    return InvoicePage(items=items, next_after=items[-1].id if len(items) == limit else None)


@router.get(
    "/invoices/{invoice_id}",
    summary="One invoice with each line's result (an office: its own)",
    responses=problems({401: NO_CREDENTIAL, 404: "No such invoice, or another office's", 422: "Not a UUID"}),
)
async def get_invoice(invoice_id: uuid.UUID, session: SessionDep, caller: CurrentCaller) -> InvoiceOut:
    """One fee invoice with the result of matching each line against the acts reported and the tariff
    (amounts in integer cents). An office sees only its own invoices (another's answers 404); finance
    and staff see all.
    """
    office = caller if isinstance(caller, Office) else None
    invoice = await service.invoice_for(session, invoice_id, office)
    lines = await service.lines_of(session, invoice)
    if office is not None:
        return invoice_out(invoice, office.code, lines)
    owner = await service.office_code_of(session, invoice)
    return invoice_out(invoice, owner, lines, await service.events_of(session, invoice))


@router.post(
    "/invoices/decisions",
    summary="Approve, dispute or mark paid many invoices at once (finance), all or none",
    description=(
        "`approve` (from matched or disputed: posted to the ledger as fees invoiced), `dispute` (from "
        "matched or disputed, with a comment: the office gets an `invoice_dispute` listing the lines "
        "with findings and the comment, once, and with `lines` each line finance names as "
        "`agency_disputed`; an invoice with findings already sent the office one on "
        "receipt, without a person's comment), `paid` (from approved, with `paid_on` and `bank_reference`: "
        "posted as fees paid on `paid_on`). Any "
        "invoice that cannot take the decision refuses the request with every reason (404, 409); "
        "nothing changes."
    ),
    responses=STAFF_PROBLEMS,
)
async def decide(body: DecisionsIn, session: SessionDep, user: Finance) -> DecisionsOut:
    outcomes = await service.decide(
        session,
        body.invoice_ids,
        body.decision,
        actor=user.email,
        comment=body.comment,
        paid_on=body.paid_on,
        bank_reference=body.bank_reference,
        lines=body.lines,
    )
    return DecisionsOut(items=[{"id": str(o.invoice_id), "state": o.state} for o in outcomes])


@router.post(
    "/invoices/{invoice_id}/paid", summary="Mark an approved invoice paid (finance)", responses=STAFF_PROBLEMS
)
async def mark_paid(invoice_id: uuid.UUID, body: PaidIn, session: SessionDep, user: Finance) -> InvoiceOut:
    """Records that an approved invoice was paid, on `paid_on` (the ledger's payment is dated on it) with
    the bank's reference `bank_reference`: it is posted to the ledger as fees paid. The same as a
    `paid` decision of `POST /v1/invoices/decisions` for one invoice. Finance only.
    """
    await service.decide(
        session,
        [invoice_id],
        "paid",
        actor=user.email,
        comment=body.comment,
        paid_on=body.paid_on,
        bank_reference=body.bank_reference,
    )
    invoice = await service.invoice_for(session, invoice_id, None)
    owner = await service.office_code_of(session, invoice)
    return invoice_out(
        invoice, owner, await service.lines_of(session, invoice), await service.events_of(session, invoice)
    )
