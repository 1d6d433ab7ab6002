"""Posting to the fee ledger, reversing, and reading balances. Takes a session, never commits.

The accounts, their signs and the movements between them are in ``hub.ledger.postings`` (pure);
their names are re-exported here for callers that post.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Case
from hub.cases.repository import CaseRepository
from hub.kit.errors import Conflict, ErrorItem, InvalidInput, NotFound
from hub.ledger.models import LedgerEntry, LedgerTransaction
from hub.ledger.postings import (
    ACCOUNTS,
    ACT_FEES,
    CASE_COLLECTIONS,
    COLLECTED_BY_OFFICE,
    COLLECTION,
    FEE_ACCOUNTS,
    FEES_DISBURSEMENTS,
    FEES_EMOLUMENTS,
    FEES_INVOICED,
    FEES_PAID,
    FEES_VAT,
    INVOICE,
    INVOICE_PAYMENT,
    KINDS,
    PAYABLE_TO_OFFICE,
    REMITTANCE,
    REMITTED_TO_AGENCY,
    WRITE_OFF,
    WRITTEN_OFF,
    Balances,
    Posting,
    Statement,
    UnbalancedTransaction,
    act_fee_postings,
    add_up,
    already_reversed,
    balance_of,
    check_balanced,
    check_remittance,
    check_reversal,
    check_write_off,
    collection_postings,
    fees_charged,
    invoice_payment_postings,
    invoice_postings,
    money_collected,
    remittance_postings,
    reversing,
    write_off_postings,
)
from hub.ledger.repository import LedgerRepository
from hub.observability import metrics
from hub.offices.models import Office
from hub.offices.repository import OfficeRepository
from hub.recovery.stop_loss import CaseNet

__all__ = [
    "ACCOUNTS",
    "ACT_FEES",
    "CASE_COLLECTIONS",
    "COLLECTED_BY_OFFICE",
    "COLLECTION",
    "FEES_DISBURSEMENTS",
    "FEES_EMOLUMENTS",
    "FEES_INVOICED",
    "FEES_PAID",
    "FEES_VAT",
    "FEE_ACCOUNTS",
    "INVOICE",
    "INVOICE_PAYMENT",
    "KINDS",
    "PAYABLE_TO_OFFICE",
    "REMITTANCE",
    "REMITTED_TO_AGENCY",
    "WRITE_OFF",
    "WRITTEN_OFF",
    "Balances",
    "CaseLedger",
    "Posting",
    "Statement",
    "UnbalancedTransaction",
    "act_fee_postings",
    "balances",
    "case_ledger",
    "check_balanced",
    "collection_postings",
    "entries",
    "invoice_payment_postings",
    "invoice_postings",
    "post",
    "post_staged",
    "remit",
    "remittance_postings",
    "reverse",
    "statement",
    "write_off",
    "write_off_postings",
]

REMITTANCE_SOURCE = "remittance:"
WRITE_OFF_SOURCE = "write_off:"


async def post(
    session: AsyncSession,
    kind: str,
    entries: Sequence[Posting],
    *,
    effective_on: date,
    source: str,
    case_id: uuid.UUID | None = None,
    office_id: uuid.UUID | None = None,
    reason: str | None = None,
    recorded_by: str | None = None,
) -> LedgerTransaction:
    """Writes one balanced transaction (its entries carry the case and office); refuses an unbalanced
    one. ``recorded_by`` names the staff member behind a posting made by hand, ``reason`` why."""
    check_balanced(entries)
    row = _transaction_row(kind, effective_on, source, case_id, office_id, reason, recorded_by)
    transaction = LedgerTransaction(**row)
    LedgerRepository(session).add_transaction(transaction, _entry_rows(entries, case_id, office_id))
    metrics.count_posting(kind)
    return transaction


async def post_staged(
    session: AsyncSession,
    kind: str,
    entries: Sequence[Posting],
    *,
    effective_on: date,
    source: str,
    case_id: uuid.UUID | None = None,
    office_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """``post`` for the hub's own postings whose transaction nothing reads back in the unit of work
    (an act report's): with a row buffer open (a batch chunk, an act report's request) the
    transaction and its entries are staged as rows, with no ORM object. Its id."""
    check_balanced(entries)
    row = _transaction_row(kind, effective_on, source, case_id, office_id, None, None)
    rows = _entry_rows(entries, case_id, office_id)
    repo = LedgerRepository(session)
    if not repo.stage_transaction(row, rows):
        repo.add_transaction(LedgerTransaction(**row), rows)
    metrics.count_posting(kind)
    transaction_id: uuid.UUID = row["id"]
    return transaction_id


def _transaction_row(
    kind: str,
    effective_on: date,
    source: str,
    case_id: uuid.UUID | None,
    office_id: uuid.UUID | None,
    reason: str | None,
    recorded_by: str | None,
) -> dict[str, Any]:
    """A new transaction's columns, all but ``recorded_at`` (its insert's default)."""
    return {
        "id": uuid.uuid4(),
        "kind": kind,
        "case_id": case_id,
        "office_id": office_id,
        "effective_on": effective_on,
        "source": source[:100],
        "reverses_id": None,
        "reason": None if reason is None else reason.strip()[:500],
        "recorded_by": recorded_by,
    }


def _entry_rows(
    entries: Sequence[Posting], case_id: uuid.UUID | None, office_id: uuid.UUID | None
) -> list[dict[str, Any]]:
    return [
        {
            "account": e.account,
            "amount_cents": e.amount_cents,
            "currency": e.currency,
            "case_id": case_id,
            "office_id": office_id,
        }
        for e in entries
    ]


async def reverse(
    session: AsyncSession,
    transaction_id: uuid.UUID,
    *,
    reason: str,
    effective_on: date,
    recorded_by: str | None = None,
) -> LedgerTransaction:
    """Cancels a transaction with a new one of the same kind, source, case and office, every entry
    negated and ``reverses_id`` set. Nothing is updated. Refused: 404 ``ledger.transaction_not_found``;
    422 ``ledger.reason_required`` (blank reason), ``ledger.reversal_before_original`` (dated before
    what it cancels); 409 ``ledger.already_reversed`` (also when a concurrent reversal commits
    first), ``ledger.reversal_not_reversible`` (the transaction is itself a reversal)."""
    repo = LedgerRepository(session)
    original = await repo.transaction(transaction_id)
    if original is None:
        raise NotFound(f"no ledger transaction {transaction_id}", code="ledger.transaction_not_found")
    check_reversal(
        original.id,
        reason=reason,
        effective_on=effective_on,
        original_on=original.effective_on,
        reverses_id=original.reverses_id,
        reversed_by=await repo.reversal_of(original.id),
    )
    entries = await repo.entries(original.id)
    negated = reversing([Posting(e.account, e.amount_cents, e.currency) for e in entries])
    check_balanced(negated)
    reversal = LedgerTransaction(
        id=uuid.uuid4(),
        kind=original.kind,
        case_id=original.case_id,
        office_id=original.office_id,
        effective_on=effective_on,
        source=original.source,
        reverses_id=original.id,
        reason=reason.strip()[:500],
        recorded_by=recorded_by,
    )
    rows = [
        {
            "account": posting.account,
            "amount_cents": posting.amount_cents,
            "currency": posting.currency,
            "case_id": entry.case_id,
            "office_id": entry.office_id,
        }
        for posting, entry in zip(negated, entries, strict=True)
    ]
    try:
        # In a savepoint, so a reversal that lost the race leaves the caller's transaction usable.
        async with session.begin_nested():
            repo.add_transaction(reversal, rows)
    except IntegrityError:
        # Only the unique index on reverses_id can refuse this insert: another reversal committed
        # between the check above and here.
        winner = await repo.reversal_of(original.id)
        if winner is None:
            raise
        raise already_reversed(original.id, winner) from None
    metrics.count_posting(reversal.kind)
    return reversal


async def entries(session: AsyncSession, transaction_id: uuid.UUID) -> Sequence[LedgerEntry]:
    """A transaction's entries as stored (flush first what was just posted)."""
    return await LedgerRepository(session).entries(transaction_id)


async def balances(
    session: AsyncSession,
    *,
    case_id: uuid.UUID | None = None,
    office_id: uuid.UUID | None = None,
    creditor_id: uuid.UUID | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Balances:
    """Account -> currency -> cents over the entries matching every filter given (dates on the
    effective date, ``[start, end)``); see ``LedgerRepository.balances``."""
    return await LedgerRepository(session).balances(
        case_id=case_id, office_id=office_id, creditor_id=creditor_id, start=start, end=end
    )


async def statement(session: AsyncSession, office_id: uuid.UUID, start: date, end: date) -> Statement:
    """One office's opening balances and movements in ``[start, end)``, per kind and per act."""
    return await LedgerRepository(session).statement(office_id, start, end)


async def _case_and_office(session: AsyncSession, case_ref: str, office_code: str) -> tuple[Case, Office]:
    """The case and office a posting by hand names; 422 naming each one that is unknown."""
    case = await CaseRepository(session).get_by_ref(case_ref)
    office = await OfficeRepository(session).get_by_code(office_code)
    errors = []
    if case is None:
        errors.append(ErrorItem("/case_ref", "ledger.unknown_case", f"no case with ref {case_ref}"))
    if office is None:
        message = f"no office with code {office_code}"
        errors.append(ErrorItem("/office_code", "ledger.unknown_office", message))
    if case is None or office is None:
        raise InvalidInput("the posting names what the hub does not know", code=errors[0].code, errors=errors)
    return case, office


async def remit(
    session: AsyncSession,
    *,
    office_code: str,
    case_ref: str,
    amount_cents: int,
    currency: str,
    effective_on: date,
    reference: str,
    recorded_by: str,
) -> LedgerTransaction:
    """The office handed ``amount_cents`` collected on the case over to the agency ("reversement"),
    under its transfer ``reference``. Refused: 422 ``ledger.unknown_case``, ``ledger.unknown_office``,
    ``ledger.remittance_above_collected`` (more than the office holds for the case: collected net of
    earlier remittances); 409 ``ledger.remittance_duplicate`` (a standing remittance of the office
    has this reference: a retry; reverse it first to post it again)."""
    case, office = await _case_and_office(session, case_ref, office_code)
    repo = LedgerRepository(session)
    await repo.lock_case(case.id)
    await repo.lock_office(office.id)  # the bank reference, across staff and message remittances
    source = f"{REMITTANCE_SOURCE}{reference}"
    earlier = await repo.standing(REMITTANCE, office.id, source)
    if earlier is not None:
        raise Conflict(
            f"the remittance {reference!r} of office {office_code} is already posted as transaction "
            f"{earlier}; reverse that one first to post it again",
            code="ledger.remittance_duplicate",
        )
    held = await repo.balance(COLLECTED_BY_OFFICE, currency=currency, case_id=case.id, office_id=office.id)
    check_remittance(remitted_cents=amount_cents, collected_cents=held, currency=currency)
    return await post(
        session,
        REMITTANCE,
        remittance_postings(remitted_cents=amount_cents, currency=currency),
        effective_on=effective_on,
        source=source,
        case_id=case.id,
        office_id=office.id,
        recorded_by=recorded_by,
    )


async def write_off(
    session: AsyncSession,
    *,
    office_code: str,
    case_ref: str,
    emoluments_cents: int,
    disbursements_cents: int,
    vat_cents: int,
    currency: str,
    effective_on: date,
    reason: str,
    recorded_by: str,
) -> LedgerTransaction:
    """Fees the office claimed on the case given up as unrecoverable from the debtor, with why.
    Refused: 422 ``ledger.unknown_case``, ``ledger.unknown_office``, ``ledger.write_off_empty`` (every
    amount 0), ``ledger.write_off_above_fees`` (an amount above what the case still owes the office on
    that fee account: claimed net of reversals and of earlier write-offs), ``ledger.reason_required``."""
    if not reason.strip():
        raise InvalidInput(
            "say why the fees are written off",
            code="ledger.reason_required",
            errors=[ErrorItem("/reason", "ledger.reason_required", "say why the fees are written off")],
        )
    case, office = await _case_and_office(session, case_ref, office_code)
    repo = LedgerRepository(session)
    await repo.lock_case(case.id)
    owed = await repo.balances(case_id=case.id, office_id=office.id, accounts=FEE_ACCOUNTS)
    amounts = {
        FEES_EMOLUMENTS: emoluments_cents,
        FEES_DISBURSEMENTS: disbursements_cents,
        FEES_VAT: vat_cents,
    }
    check_write_off(
        amounts=amounts,
        charged={account: balance_of(owed, account, currency) for account in FEE_ACCOUNTS},
        currency=currency,
    )
    return await post(
        session,
        WRITE_OFF,
        write_off_postings(
            emoluments_cents=emoluments_cents,
            disbursements_cents=disbursements_cents,
            vat_cents=vat_cents,
            currency=currency,
        ),
        effective_on=effective_on,
        source=f"{WRITE_OFF_SOURCE}{case.ref}",
        case_id=case.id,
        office_id=office.id,
        reason=reason,
        recorded_by=recorded_by,
    )


@dataclass(frozen=True)
class CaseLedger:
    """A case's entries with their transactions, and balances summed from those entries."""

    case: Case
    entries: list[tuple[LedgerEntry, LedgerTransaction, str | None]]  # entry, its transaction, office code

    @property
    def balances(self) -> Balances:
        return add_up((e.account, e.currency, e.amount_cents) for e, _, _ in self.entries)

    def balances_per_office(self) -> dict[str, Balances]:
        codes = sorted({code for _, _, code in self.entries if code is not None})
        return {
            code: add_up((e.account, e.currency, e.amount_cents) for e, _, c in self.entries if c == code)
            for code in codes
        }


async def case_ledger(session: AsyncSession, case_ref: str) -> CaseLedger:
    """404 ``case.not_found`` for an unknown ref."""
    case = await CaseRepository(session).get_by_ref(case_ref)
    if case is None:
        raise NotFound(f"no case with ref {case_ref}", code="case.not_found")
    return CaseLedger(case, list(await LedgerRepository(session).case_entries(case.id)))


NET_ACCOUNTS = (*FEE_ACCOUNTS, WRITTEN_OFF, CASE_COLLECTIONS)


async def collected_on_case(session: AsyncSession, case: Case) -> int:
    """The money the offices collected on the case (net of corrections), in its currency."""
    balances = await LedgerRepository(session).balances(case_id=case.id, accounts=[CASE_COLLECTIONS])
    return money_collected(balances, case.currency)


async def case_net(session: AsyncSession, case: Case) -> CaseNet:
    """What the case has brought in and cost so far (``hub.recovery.stop_loss``), in its currency:
    the money the offices collected on it (ledger) and the debtor paid the agency directly (case
    updates); the fees charged on it, net of corrections, whoever bears them (ledger)."""
    balances = await LedgerRepository(session).balances(case_id=case.id, accounts=NET_ACCOUNTS)
    paid = await CaseRepository(session).payments_received(case.id, case.currency)
    return net_of(balances, paid, case.currency)


def net_of(balances: Balances, paid_cents: int, currency: str) -> CaseNet:
    """``case_net`` from what it reads: the case's balances of ``NET_ACCOUNTS`` and what the debtor
    paid the agency directly, in the case's ``currency``."""
    return CaseNet(
        recovered_cents=money_collected(balances, currency) + paid_cents,
        fees_borne_cents=fees_charged(balances, currency),
        currency=currency,
    )
