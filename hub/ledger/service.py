"""Posting to the fee ledger, reversing, and reading balances. Takes a session, never commits.

The accounts, their signs and the movements between them are in ``hub.ledger.postings`` (pure);
their names are re-exported here for callers that post.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.errors import NotFound
from hub.ledger.models import LedgerTransaction
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
    already_reversed,
    check_balanced,
    check_reversal,
    collection_postings,
    invoice_payment_postings,
    invoice_postings,
    remittance_postings,
    reversing,
    write_off_postings,
)
from hub.ledger.repository import LedgerRepository

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
    "Posting",
    "Statement",
    "UnbalancedTransaction",
    "act_fee_postings",
    "balances",
    "check_balanced",
    "collection_postings",
    "invoice_payment_postings",
    "invoice_postings",
    "post",
    "remittance_postings",
    "reverse",
    "statement",
    "write_off_postings",
]


async def post(
    session: AsyncSession,
    kind: str,
    entries: Sequence[Posting],
    *,
    effective_on: date,
    source: str,
    case_id: uuid.UUID | None = None,
    office_id: uuid.UUID | None = None,
) -> LedgerTransaction:
    """Writes one balanced transaction (its entries carry the case and office); refuses an unbalanced one."""
    check_balanced(entries)
    transaction = LedgerTransaction(
        id=uuid.uuid4(),
        kind=kind,
        case_id=case_id,
        office_id=office_id,
        effective_on=effective_on,
        source=source[:100],
    )
    rows = [
        {
            "account": e.account,
            "amount_cents": e.amount_cents,
            "currency": e.currency,
            "case_id": case_id,
            "office_id": office_id,
        }
        for e in entries
    ]
    LedgerRepository(session).add_transaction(transaction, rows)
    return transaction


async def reverse(
    session: AsyncSession, transaction_id: uuid.UUID, *, reason: str, effective_on: date
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
    return reversal


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
