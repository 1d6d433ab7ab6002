"""Posting to the fee ledger (minimal here; balances, reversals and reports come with finance).

Signs: debit positive, credit negative; the entries of one transaction sum to zero per currency.
Accounts used by act reports:

- ``fees_emoluments``, ``fees_disbursements``, ``fees_vat`` (debit): what the office claims for an act
  ("émoluments", "débours", TVA), charged to the case;
- ``payable_to_office`` (credit): what the agency owes the office for it;
- ``collected_by_office`` (debit): money the office collected from the debtor and holds for the agency;
- ``case_collections`` (credit): the same money, owed to the case's creditor.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from hub.ledger.models import LedgerTransaction
from hub.ledger.repository import LedgerRepository

FEES_EMOLUMENTS = "fees_emoluments"
FEES_DISBURSEMENTS = "fees_disbursements"
FEES_VAT = "fees_vat"
PAYABLE_TO_OFFICE = "payable_to_office"
COLLECTED_BY_OFFICE = "collected_by_office"
CASE_COLLECTIONS = "case_collections"


class UnbalancedTransaction(ValueError):
    """A programming error: entries that do not sum to zero are never written."""


@dataclass(frozen=True)
class Posting:
    account: str
    amount_cents: int  # debit positive, credit negative
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if type(self.amount_cents) is not int:
            raise TypeError(f"amounts are integer cents, got {type(self.amount_cents).__name__}")


def check_balanced(entries: Sequence[Posting]) -> None:
    if not entries:
        raise UnbalancedTransaction("a transaction needs at least one entry")
    totals: dict[str, int] = defaultdict(int)
    for entry in entries:
        totals[entry.currency] += entry.amount_cents
    off = {currency: total for currency, total in totals.items() if total != 0}
    if off:
        raise UnbalancedTransaction(f"entries must sum to zero per currency, off by {off}")


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
    await LedgerRepository(session).add_transaction(transaction, rows)
    return transaction


def act_fee_postings(
    *, emoluments_cents: int, disbursements_cents: int, vat_cents: int, currency: str
) -> list[Posting]:
    """Fees an office claims for one act: charged to the case, payable to the office."""
    lines = [
        Posting(FEES_EMOLUMENTS, emoluments_cents, currency),
        Posting(FEES_DISBURSEMENTS, disbursements_cents, currency),
        Posting(FEES_VAT, vat_cents, currency),
    ]
    lines = [line for line in lines if line.amount_cents]
    total = sum(line.amount_cents for line in lines)
    return [*lines, Posting(PAYABLE_TO_OFFICE, -total, currency)] if total else []


def collection_postings(*, collected_cents: int, currency: str) -> list[Posting]:
    """Money collected by the office: held by it, owed to the creditor of the case."""
    if not collected_cents:
        return []
    return [
        Posting(COLLECTED_BY_OFFICE, collected_cents, currency),
        Posting(CASE_COLLECTIONS, -collected_cents, currency),
    ]
