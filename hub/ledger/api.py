"""Routes of the ledger (finance and admin staff only; office keys are refused): postings made by
hand, the ones no message brings (a remittance of money an office collected, a write-off of fees a
debtor will never pay), the reversal of a wrong transaction, and a case's entries and balances.

No ``Idempotency-Key`` here (the stored answers of ``hub.kit.idempotency`` belong to an office): a
remittance's ``reference`` makes its retry a 409, a second reversal is a 409, and a write-off is
refused once it would exceed what the case owes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field, StringConstraints

from hub.deps import SessionDep, staff_with
from hub.ledger import service
from hub.ledger.models import LedgerTransaction
from hub.ledger.postings import Balances
from hub.recovery import stop_loss
from hub.settings import get_settings
from hub.staff.models import Role, StaffUser

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])
Finance = Annotated[StaffUser, staff_with(Role.FINANCE)]
# Integer cents only: 12.5, "1250" and 0 are refused (422), so is anything a BIGINT sum could not hold.
MAX_CENTS = 10**15
PositiveCents = Annotated[int, Field(strict=True, gt=0, le=MAX_CENTS)]
Cents = Annotated[int, Field(strict=True, ge=0, le=MAX_CENTS)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
OfficeCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
ANSWERS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No staff token (an office key is refused)"},
    403: {"description": "A staff role other than finance or admin"},
}


class RemittanceIn(BaseModel):
    office_code: OfficeCode
    case_ref: Ref
    amount_cents: PositiveCents
    currency: CurrencyCode = "EUR"
    effective_on: date
    reference: Reference = Field(description="The office's transfer reference: one standing remittance each")


class WriteOffIn(BaseModel):
    office_code: OfficeCode = Field(description="The office whose fees on the case are written off")
    case_ref: Ref
    emoluments_cents: Cents = 0
    disbursements_cents: Cents = 0
    vat_cents: Cents = 0
    currency: CurrencyCode = "EUR"
    effective_on: date
    reason: Text


class ReversalIn(BaseModel):
    reason: Text
    effective_on: date


class EntryOut(BaseModel):
    account: str
    amount_cents: int  # debit positive, credit negative
    currency: str


class TransactionOut(BaseModel):
    id: uuid.UUID
    kind: str
    effective_on: date
    source: str
    case_id: uuid.UUID | None
    office_id: uuid.UUID | None
    reverses_id: uuid.UUID | None
    reason: str | None
    recorded_by: str | None
    recorded_at: datetime
    entries: list[EntryOut]


class CaseEntryOut(BaseModel):
    transaction_id: uuid.UUID
    kind: str
    effective_on: date
    source: str
    reverses_id: uuid.UUID | None
    reason: str | None
    recorded_by: str | None
    office_code: str | None
    account: str
    amount_cents: int
    currency: str


class CaseNetOut(BaseModel):
    recovered_cents: int = Field(description="Money the offices collected on the case")
    fees_borne_cents: int = Field(description="Fees charged on the case, whoever bears them")
    net_cents: int = Field(description="recovered_cents - fees_borne_cents")
    currency: str
    stop_loss: str | None = Field(
        description="Why further acts on the case are held for review (`HUB_STOP_LOSS_SHARE_PERCENT`), "
        "or null when the stop-loss is not reached"
    )


class CaseLedgerOut(BaseModel):
    case_ref: str
    net: CaseNetOut = Field(description="What the case has brought in and cost so far")
    balances: Balances = Field(description="account -> currency -> cents, summed from the entries")
    offices: dict[str, Balances] = Field(description="The same per office code")
    entries: list[CaseEntryOut]


def transaction_out(transaction: LedgerTransaction, entries: list[EntryOut]) -> TransactionOut:
    return TransactionOut(
        id=transaction.id,
        kind=transaction.kind,
        effective_on=transaction.effective_on,
        source=transaction.source,
        case_id=transaction.case_id,
        office_id=transaction.office_id,
        reverses_id=transaction.reverses_id,
        reason=transaction.reason,
        recorded_by=transaction.recorded_by,
        recorded_at=transaction.recorded_at,
        entries=entries,
    )


async def _posted(session: SessionDep, transaction: LedgerTransaction) -> TransactionOut:
    await session.flush()
    entries = await service.entries(session, transaction.id)
    lines = [EntryOut(account=e.account, amount_cents=e.amount_cents, currency=e.currency) for e in entries]
    return transaction_out(transaction, lines)


@router.post(
    "/remittances",
    status_code=status.HTTP_201_CREATED,
    summary="Money an office collected on a case and handed over to the agency (reversement)",
    description=(
        "Posts `remitted_to_agency` against `collected_by_office` for the case and office. 422 "
        "`ledger.remittance_above_collected` above what the office holds for the case (collected net "
        "of earlier remittances), `ledger.unknown_case`, `ledger.unknown_office`; 409 "
        "`ledger.remittance_duplicate` when a standing remittance of the office has this reference."
    ),
    responses={**ANSWERS, 409: {"description": "Reference already posted"}, 422: {"description": "Refused"}},
)
async def post_remittance(body: RemittanceIn, session: SessionDep, user: Finance) -> TransactionOut:
    transaction = await service.remit(
        session,
        office_code=body.office_code,
        case_ref=body.case_ref,
        amount_cents=body.amount_cents,
        currency=body.currency,
        effective_on=body.effective_on,
        reference=body.reference,
        recorded_by=user.email,
    )
    return await _posted(session, transaction)


@router.post(
    "/write-offs",
    status_code=status.HTTP_201_CREATED,
    summary="Fees an office claimed on a case, given up as unrecoverable from the debtor",
    description=(
        "Posts `written_off` against the fee accounts of the case and office. 422 "
        "`ledger.write_off_above_fees` (an amount above what the case still owes the office on that "
        "account), `ledger.write_off_empty`, `ledger.unknown_case`, `ledger.unknown_office`."
    ),
    responses={**ANSWERS, 422: {"description": "Refused"}},
)
async def post_write_off(body: WriteOffIn, session: SessionDep, user: Finance) -> TransactionOut:
    transaction = await service.write_off(
        session,
        office_code=body.office_code,
        case_ref=body.case_ref,
        emoluments_cents=body.emoluments_cents,
        disbursements_cents=body.disbursements_cents,
        vat_cents=body.vat_cents,
        currency=body.currency,
        effective_on=body.effective_on,
        reason=body.reason,
        recorded_by=user.email,
    )
    return await _posted(session, transaction)


@router.post(
    "/transactions/{transaction_id}/reversal",
    status_code=status.HTTP_201_CREATED,
    summary="Cancel a wrong transaction with its reversal (every entry negated)",
    description=(
        "404 `ledger.transaction_not_found`; 422 `ledger.reversal_before_original`; 409 "
        "`ledger.already_reversed`, `ledger.reversal_not_reversible` (a reversal is not reversed: "
        "post the right entries)."
    ),
    responses={**ANSWERS, 404: {"description": "Unknown transaction"}, 409: {"description": "Refused"}},
)
async def post_reversal(
    transaction_id: uuid.UUID, body: ReversalIn, session: SessionDep, user: Finance
) -> TransactionOut:
    reversal = await service.reverse(
        session, transaction_id, reason=body.reason, effective_on=body.effective_on, recorded_by=user.email
    )
    return await _posted(session, reversal)


@router.get(
    "/cases/{ref}",
    summary="A case's ledger entries, oldest first, and its balances summed from them",
    responses={**ANSWERS, 404: {"description": "Unknown case (`case.not_found`)"}},
)
async def get_case_ledger(ref: str, session: SessionDep, _user: Finance) -> CaseLedgerOut:
    """Every ledger entry of a case, oldest first, with the balances summed from them (integer cents): what
    offices collected and remitted, fees invoiced, paid and written off; and the case's net so far
    (money recovered less fees borne) with the stop-loss when it holds further acts. Finance only;
    404 `case.not_found`.
    """
    ledger = await service.case_ledger(session, ref)
    net = await service.case_net(session, ledger.case)
    stopped = stop_loss.check_net(net, ledger.case.outstanding_cents, get_settings().stop_loss_share_percent)
    return CaseLedgerOut(
        case_ref=ledger.case.ref,
        net=CaseNetOut(**net.as_dict(), stop_loss=None if stopped is None else stopped.message),
        balances=ledger.balances,
        offices=ledger.balances_per_office(),
        entries=[
            CaseEntryOut(
                transaction_id=t.id,
                kind=t.kind,
                effective_on=t.effective_on,
                source=t.source,
                reverses_id=t.reverses_id,
                reason=t.reason,
                recorded_by=t.recorded_by,
                office_code=code,
                account=e.account,
                amount_cents=e.amount_cents,
                currency=e.currency,
            )
            for e, t, code in ledger.entries
        ],
    )
