"""Routes of the payment runs (finance and admin staff only; office keys are refused): create a run
of every invoice approved for payment, list and read runs, download a run's SEPA credit transfer file
(ISO 20022 pain.001.001.09) and mark a run paid once the bank has paid it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from hub.deps import SessionDep, SettingsDep, staff_with
from hub.invoices.api import BankReference
from hub.invoices.models import Invoice
from hub.kit.openapi import problems
from hub.kit.pagination import DEFAULT_LIMIT, Limit
from hub.payments import service
from hub.payments.models import PaymentRun
from hub.staff.models import Role, StaffUser

router = APIRouter(prefix="/v1/payment-runs", tags=["payments"])
Finance = Annotated[StaffUser, staff_with(Role.FINANCE)]
PAIN001 = "application/xml"
NO_CREDENTIAL = "No staff token (an office key is refused)"
ROLE = "A staff role other than finance or admin"


class RunIn(BaseModel):
    execution_date: date | None = Field(
        default=None, description="The day the bank is asked to pay (ReqdExctnDt); today when left out"
    )

    model_config = {"json_schema_extra": {"examples": [{"execution_date": "2026-12-07"}]}}


class RunPaidIn(BaseModel):
    paid_on: date = Field(description="The day the bank paid the file (not in the future)")
    bank_reference: BankReference = Field(
        description="The bank's reference of the batch, as on the statement"
    )

    model_config = {
        "json_schema_extra": {"examples": [{"paid_on": "2026-12-07", "bank_reference": "VIR-LOT-2026-1207"}]}
    }


class SkippedOut(BaseModel):
    invoice_id: uuid.UUID
    number: str
    office_code: str
    code: str  # payment.iban_missing, payment.iban_invalid, payment.bic_invalid, payment.nothing_to_pay...
    reason: str


class RunInvoiceOut(BaseModel):
    invoice_id: uuid.UUID
    number: str
    office_code: str
    amount_cents: int
    state: str
    end_to_end_id: str


class RunOut(BaseModel):
    id: uuid.UUID
    message_id: str
    created_at: datetime
    created_by: str
    execution_date: date
    currency: str
    transactions: int
    total_cents: int
    paid_on: date | None = None  # set once the run is marked paid
    bank_reference: str | None = None
    skipped: list[SkippedOut]
    invoices: list[RunInvoiceOut] | None = None  # one run read alone


class RunPage(BaseModel):
    items: list[RunOut]
    next_after: uuid.UUID | None  # pass as ?after= to read the next page


RUN_EXAMPLE = {
    "id": "0b5e7c3a-3d8f-4d3e-9a57-6f1d2f4e8b10",
    "message_id": "PR-0b5e7c3a3d8f4d3e9a576f1d2f4e8b10",
    "created_at": "2026-12-04T20:00:00Z",
    "created_by": "finance@agence.example",
    "execution_date": "2026-12-07",
    "currency": "EUR",
    "transactions": 1,
    "total_cents": 6190,
    "paid_on": None,
    "bank_reference": None,
    "skipped": [
        {
            "invoice_id": "5d1f0e9a-8c43-4b5e-a0d2-3c7b9e1f2a64",
            "number": "F-2026-118",
            "office_code": "CJ69001",
            "code": "payment.iban_missing",
            "reason": "office CJ69001: no IBAN is registered; register it (hub offices update CJ69001 "
            "--iban)",
        }
    ],
    "invoices": [
        {
            "invoice_id": "7a2c4e6f-1b3d-4f5a-8c9e-0d2f4a6b8c1e",
            "number": "F-2026-042",
            "office_code": "CJ75001",
            "amount_cents": 6190,
            "state": "approved",
            "end_to_end_id": "7a2c4e6f1b3d4f5a8c9e0d2f4a6b8c1e",
        }
    ],
}
RUN_ANSWER = {"content": {"application/json": {"example": RUN_EXAMPLE}}}


def run_out(run: PaymentRun, invoices: list[tuple[Invoice, str]] | None = None) -> RunOut:
    return RunOut(
        id=run.id,
        message_id=run.message_id,
        created_at=run.created_at,
        created_by=run.created_by,
        execution_date=run.execution_date,
        currency=run.currency,
        transactions=run.transactions,
        total_cents=run.total_cents,
        paid_on=run.paid_on,
        bank_reference=run.bank_reference,
        skipped=[SkippedOut.model_validate(s) for s in run.skipped],
        invoices=None
        if invoices is None
        else [
            RunInvoiceOut(
                invoice_id=invoice.id,
                number=invoice.number,
                office_code=code,
                amount_cents=invoice.total_gross_cents,
                state=invoice.state,
                end_to_end_id=invoice.id.hex,
            )
            for invoice, code in invoices
        ],
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a payment run of every invoice approved for payment (finance)",
    description=(
        "Groups every invoice approved for payment and in no run yet into one run and writes its SEPA "
        "credit transfer file (ISO 20022 pain.001.001.09: the agency's account as debtor, one transfer "
        "per invoice to its office's IBAN, EndToEndId the invoice id, remittance the invoice number). "
        "An invoice that cannot be paid by transfer (office without a valid IBAN, invalid BIC, credit "
        "note, not EUR) is left out and listed under `skipped` with its reason; it waits for the next "
        "run. An invoice is never in two runs, even when two runs are created at once. 409 "
        "`payment_run.nothing_to_pay` when no invoice can be paid (each left-out one listed)."
    ),
    responses={
        201: RUN_ANSWER,
        **problems(
            {
                401: NO_CREDENTIAL,
                403: ROLE,
                409: "Nothing to pay: every approved invoice is in a run or left out (each listed)",
                422: "An execution date before today",
            }
        ),
    },
)
async def create_run(
    session: SessionDep, settings: SettingsDep, user: Finance, body: RunIn | None = None
) -> RunOut:
    detail = await service.create_run(
        session,
        debtor=service.agency_account(settings),
        actor=user.email,
        execution_date=body.execution_date if body else None,
    )
    return run_out(detail.run, detail.invoices)


@router.get(
    "",
    summary="Payment runs, newest first (finance)",
    description=(
        "Every payment run, newest first, `limit` at a time after the run `after`: its file's message "
        "id, execution date, number of transfers and total in integer cents, whether it was marked "
        "paid, and the invoices it left out with their reason."
    ),
    responses=problems({401: NO_CREDENTIAL, 403: ROLE, 422: "Invalid query, every error listed"}),
)
async def list_runs(
    session: SessionDep,
    _user: Finance,
    after: Annotated[uuid.UUID | None, Query(description="The last run already read")] = None,
    limit: Limit = DEFAULT_LIMIT,
) -> RunPage:
    runs = await service.list_runs(session, after=after, limit=limit)
    items = [run_out(run) for run in runs]
    return RunPage(items=items, next_after=items[-1].id if len(items) == limit else None)


@router.get(
    "/{run_id}",
    summary="One payment run with the invoices it pays (finance)",
    description=(
        "One payment run: its figures (NbOfTxs and CtrlSum of its file), each invoice it pays with "
        "its amount in integer cents, state and the EndToEndId of its transfer, and those left out."
    ),
    responses={200: RUN_ANSWER, **problems({401: NO_CREDENTIAL, 403: ROLE, 404: "No such run"})},
)
async def get_run(run_id: uuid.UUID, session: SessionDep, _user: Finance) -> RunOut:
    detail = await service.run_detail(session, run_id)
    return run_out(detail.run, detail.invoices)


@router.get(
    "/{run_id}/pain001",
    summary="The run's SEPA credit transfer file, pain.001.001.09 (finance)",
    description=(
        "The ISO 20022 pain.001.001.09 file of the run, as written when the run was created (the same "
        "bytes at every download), to upload to the agency's bank."
    ),
    response_class=Response,
    responses={
        200: {
            "description": "The XML file, as an attachment",
            "content": {PAIN001: {"schema": {"type": "string"}}},
        },
        **problems({401: NO_CREDENTIAL, 403: ROLE, 404: "No such run"}),
    },
)
async def get_pain001(run_id: uuid.UUID, session: SessionDep, _user: Finance) -> Response:
    detail = await service.run_detail(session, run_id)
    return Response(
        detail.run.pain001,
        media_type=PAIN001,
        headers={"Content-Disposition": f'attachment; filename="{detail.run.message_id}.xml"'},
    )


@router.post(
    "/{run_id}/paid",
    summary="Mark a whole payment run paid (finance)",
    description=(
        "The bank paid the run's file: every invoice of the run still approved is marked paid on "
        "`paid_on` with the batch's `bank_reference` and posted to the ledger as fees paid on that "
        "day; an invoice already marked paid on its own is left as it is. Once per run (409 after)."
    ),
    responses={
        200: RUN_ANSWER,
        **problems(
            {
                401: NO_CREDENTIAL,
                403: ROLE,
                404: "No such run",
                409: "The run was already marked paid",
                422: "A missing or future `paid_on`, a missing `bank_reference`, every error listed",
            }
        ),
    },
)
async def mark_run_paid(run_id: uuid.UUID, body: RunPaidIn, session: SessionDep, user: Finance) -> RunOut:
    detail = await service.mark_run_paid(
        session, run_id, paid_on=body.paid_on, bank_reference=body.bank_reference, actor=user.email
    )
    return run_out(detail.run, detail.invoices)
