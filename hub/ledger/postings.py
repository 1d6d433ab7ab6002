"""The fee ledger's accounts and rules, pure (no I/O): who owes what, and how each movement balances.

Signs: an entry is a debit when positive and a credit when negative; the entries of one transaction
sum to zero per currency. Every amount is integer cents, never a float or a Decimal.

Accounts, each kept per case and per office (an entry carries both), with its normal side:

==========================  ======  ===============================================================
account                     normal  what its balance is
==========================  ======  ===============================================================
``fees_emoluments``         debit   fees claimed for acts and charged to the case ("émoluments"),
``fees_disbursements``      debit   ("débours"), and their VAT ("TVA"): what the case owes in
``fees_vat``                debit   enforcement costs, net of what was written off
``payable_to_office``       credit  fees an office reported in its act reports, not yet invoiced
``fees_invoiced``           credit  fees the office invoiced ("facture"), not yet paid
``fees_paid``               credit  money the agency paid the office against its invoices: minus
                                    the total paid (the agency's money going out)
``written_off``             debit   fees given up as unrecoverable from the debtor, borne by the
                                    creditor or the agency (an insolvent debtor pays nothing)
``collected_by_office``     debit   money the office collected from the debtor ("encaissement")
                                    and still holds for the agency
``remitted_to_agency``      debit   money the office handed over to the agency ("reversement")
``case_collections``        credit  money collected on the case, owed to the case's creditor
==========================  ======  ===============================================================

The movements (transaction kinds) and their entries:

==================  =========================================  =====================================
kind                debit                                      credit
==================  =========================================  =====================================
``act_fees``        fees_emoluments, fees_disbursements,       payable_to_office (the total)
                    fees_vat
``collection``      collected_by_office                        case_collections
``remittance``      remitted_to_agency                         collected_by_office
``invoice``         payable_to_office                          fees_invoiced
``invoice_payment`` fees_invoiced                              fees_paid
``write_off``       written_off (the total)                    fees_emoluments, fees_disbursements,
                                                               fees_vat
==================  =========================================  =====================================

Remittances come from the offices' ``remittance`` messages (``hub.remittances``: one transaction per
line, all of a transfer's lines or none) or are posted by finance by hand (``remit``); both refuse
more than the case's ``collected_by_office`` balance for the office and a bank reference twice.

So a fee goes reported -> invoiced -> paid (``payable_to_office``, then ``fees_invoiced``, then
``fees_paid``) and money goes collected -> remitted. A correction is never an edit: it is a
reversing transaction of the same kind and source, every entry negated, so totals per kind and per
act stay right net of corrections. An office waiving part of a fee it claimed is a reversal of the
act's fees (and a new posting of the right amount), not a write-off.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from hub.kit.errors import Conflict, ErrorItem, InvalidInput

FEES_EMOLUMENTS = "fees_emoluments"
FEES_DISBURSEMENTS = "fees_disbursements"
FEES_VAT = "fees_vat"
PAYABLE_TO_OFFICE = "payable_to_office"
FEES_INVOICED = "fees_invoiced"
FEES_PAID = "fees_paid"
WRITTEN_OFF = "written_off"
COLLECTED_BY_OFFICE = "collected_by_office"
REMITTED_TO_AGENCY = "remitted_to_agency"
CASE_COLLECTIONS = "case_collections"

FEE_ACCOUNTS = (FEES_EMOLUMENTS, FEES_DISBURSEMENTS, FEES_VAT)
ACCOUNTS = (
    *FEE_ACCOUNTS,
    PAYABLE_TO_OFFICE,
    FEES_INVOICED,
    FEES_PAID,
    WRITTEN_OFF,
    COLLECTED_BY_OFFICE,
    REMITTED_TO_AGENCY,
    CASE_COLLECTIONS,
)

ACT_FEES = "act_fees"
COLLECTION = "collection"
REMITTANCE = "remittance"
INVOICE = "invoice"
INVOICE_PAYMENT = "invoice_payment"
WRITE_OFF = "write_off"
KINDS = (ACT_FEES, COLLECTION, REMITTANCE, INVOICE, INVOICE_PAYMENT, WRITE_OFF)

# Balances: account -> currency -> cents. An account whose balance is zero is left out.
Balances = dict[str, dict[str, int]]


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


def exact_cents(value: object) -> int:
    """An amount read back from the database as int. PostgreSQL sums BIGINT as NUMERIC (a Decimal
    here): exact, so it converts; anything else (a float from a REAL on SQLite) is a bug, refused."""
    if type(value) is int:
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    raise TypeError(f"ledger amounts are integer cents, read {value!r} ({type(value).__name__})")


def _positive(**amounts: int) -> None:
    for name, cents in amounts.items():
        if type(cents) is not int:
            raise TypeError(f"{name} is integer cents, got {type(cents).__name__}")
        if cents < 0:
            raise ValueError(f"{name} is {cents}; a negative movement is a reversal, not a posting")


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


def remittance_postings(*, remitted_cents: int, currency: str) -> list[Posting]:
    """The office hands money it collected over to the agency ("reversement")."""
    _positive(remitted_cents=remitted_cents)
    if not remitted_cents:
        return []
    return [
        Posting(REMITTED_TO_AGENCY, remitted_cents, currency),
        Posting(COLLECTED_BY_OFFICE, -remitted_cents, currency),
    ]


def invoice_postings(*, invoiced_cents: int, currency: str) -> list[Posting]:
    """A fee invoice received from the office (total including VAT): fees it reported move from
    payable on report to invoiced. An invoice above what was reported leaves ``payable_to_office``
    positive for the office, which is the discrepancy to look at."""
    _positive(invoiced_cents=invoiced_cents)
    if not invoiced_cents:
        return []
    return [
        Posting(PAYABLE_TO_OFFICE, invoiced_cents, currency),
        Posting(FEES_INVOICED, -invoiced_cents, currency),
    ]


def invoice_payment_postings(*, paid_cents: int, currency: str) -> list[Posting]:
    """The agency pays (part of) an office's invoice."""
    _positive(paid_cents=paid_cents)
    if not paid_cents:
        return []
    return [
        Posting(FEES_INVOICED, paid_cents, currency),
        Posting(FEES_PAID, -paid_cents, currency),
    ]


def write_off_postings(
    *, emoluments_cents: int, disbursements_cents: int, vat_cents: int, currency: str
) -> list[Posting]:
    """Fees charged to a case given up as unrecoverable from the debtor: the case owes them no more,
    the loss shows on ``written_off``. The office is still owed them (that is a separate matter)."""
    _positive(emoluments_cents=emoluments_cents, disbursements_cents=disbursements_cents, vat_cents=vat_cents)
    lines = [
        Posting(FEES_EMOLUMENTS, -emoluments_cents, currency),
        Posting(FEES_DISBURSEMENTS, -disbursements_cents, currency),
        Posting(FEES_VAT, -vat_cents, currency),
    ]
    lines = [line for line in lines if line.amount_cents]
    total = -sum(line.amount_cents for line in lines)
    return [Posting(WRITTEN_OFF, total, currency), *lines] if total else []


def check_remittance(*, remitted_cents: int, collected_cents: int, currency: str) -> None:
    """An office remits only money it collected on the case and still holds: ``collected_cents`` is
    the case's ``collected_by_office`` balance for the office (collections net of reversals and of
    earlier remittances). Remitting more would leave the office holding a negative sum."""
    if remitted_cents > collected_cents:
        raise InvalidInput(
            "the remittance is above what the office holds for the case",
            code="ledger.remittance_above_collected",
            errors=[
                ErrorItem(
                    "/amount_cents",
                    "ledger.remittance_above_collected",
                    f"the office holds {collected_cents} cents {currency} collected on this case and not "
                    f"yet remitted; {remitted_cents} is more",
                )
            ],
        )


def check_write_off(*, amounts: Mapping[str, int], charged: Mapping[str, int], currency: str) -> None:
    """Fees are written off only as far as the case still owes them: each fee account's amount
    (account -> cents) at most its balance for the case and office (``charged``: fees claimed net of
    reversals and of earlier write-offs). A write-off with nothing to write off is refused too."""
    if not any(amounts.values()):
        raise InvalidInput(
            "a write-off needs an amount",
            code="ledger.write_off_empty",
            errors=[ErrorItem("/", "ledger.write_off_empty", "give at least one amount above 0")],
        )
    errors = [
        ErrorItem(
            f"/{account.removeprefix('fees_')}_cents",
            "ledger.write_off_above_fees",
            f"the case owes {charged.get(account, 0)} cents {currency} on {account} to this office; "
            f"{cents} is more",
        )
        for account, cents in amounts.items()
        if cents > charged.get(account, 0)
    ]
    if errors:
        raise InvalidInput(
            "the write-off is above the fees the case owes", code="ledger.write_off_above_fees", errors=errors
        )


def reversing(entries: Sequence[Posting]) -> list[Posting]:
    """The entries of the transaction that cancels ``entries``: each one negated."""
    return [Posting(e.account, -e.amount_cents, e.currency) for e in entries]


def check_reversal(
    transaction_id: uuid.UUID,
    *,
    reason: str,
    effective_on: date,
    original_on: date,
    reverses_id: uuid.UUID | None,
    reversed_by: uuid.UUID | None,
) -> None:
    """Whether the transaction ``transaction_id`` (effective on ``original_on``, reversing
    ``reverses_id``, reversed by ``reversed_by``) may be reversed on ``effective_on`` for ``reason``.
    A reversal says why, does not take effect before what it cancels, and happens at most once; a
    reversal is never reversed itself (post the right entries instead): either would let one
    correction count twice."""
    errors = []
    if not reason.strip():
        errors.append(ErrorItem("/reason", "ledger.reason_required", "say why the transaction is reversed"))
    if effective_on < original_on:
        errors.append(
            ErrorItem(
                "/effective_on",
                "ledger.reversal_before_original",
                f"a reversal takes effect on or after {original_on.isoformat()}, the date of what it "
                f"reverses, not {effective_on.isoformat()}",
            )
        )
    if errors:
        raise InvalidInput("the reversal cannot be written", code=errors[0].code, errors=errors)
    if reverses_id is not None:
        raise Conflict(
            f"transaction {transaction_id} is itself the reversal of {reverses_id}; "
            "post the correct entries as a new transaction instead",
            code="ledger.reversal_not_reversible",
        )
    if reversed_by is not None:
        raise already_reversed(transaction_id, reversed_by)


def already_reversed(transaction_id: uuid.UUID, reversed_by: uuid.UUID) -> Conflict:
    return Conflict(
        f"transaction {transaction_id} was already reversed by {reversed_by}", code="ledger.already_reversed"
    )


def add_up(amounts: Iterable[tuple[str, str, int]]) -> Balances:
    """Balances from ``(account, currency, cents)`` rows; zero balances left out."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for account, currency, cents in amounts:
        totals[account][currency] += exact_cents(cents)
    return {
        account: {currency: cents for currency, cents in sorted(per.items()) if cents}
        for account, per in sorted(totals.items())
        if any(per.values())
    }


def balance_of(balances: Mapping[str, Mapping[str, int]], account: str, currency: str = "EUR") -> int:
    return balances.get(account, {}).get(currency, 0)


@dataclass(frozen=True)
class StatementLine:
    """The net of one account for one kind of movement (and one act, for act reports) in a period."""

    account: str
    currency: str
    kind: str
    act_code: str | None  # the act's code when the transaction came from an act report
    cents: int


@dataclass(frozen=True)
class Statement:
    """One office's ledger over ``[start, end)`` on the effective date, from its entries only."""

    office_id: uuid.UUID
    start: date
    end: date
    opening: Balances  # everything before ``start``
    lines: tuple[StatementLine, ...]

    def movements(self) -> Balances:
        return add_up((line.account, line.currency, line.cents) for line in self.lines)

    def closing(self) -> Balances:
        rows = [(a, c, cents) for a, per in self.opening.items() for c, cents in per.items()]
        return add_up([*rows, *((line.account, line.currency, line.cents) for line in self.lines)])

    def by_kind(self) -> dict[str, Balances]:
        return self._split(lambda line: line.kind)

    def by_act(self) -> dict[str, Balances]:
        """Movements of act report transactions per act code (fees claimed and money collected)."""
        return self._split(lambda line: line.act_code)

    def _split(self, key: Callable[[StatementLine], str | None]) -> dict[str, Balances]:
        groups: dict[str, list[StatementLine]] = defaultdict(list)
        for line in self.lines:
            name = key(line)
            if name is not None:
                groups[name].append(line)
        split = {
            name: add_up((line.account, line.currency, line.cents) for line in lines)
            for name, lines in sorted(groups.items())
        }
        return {name: balances for name, balances in split.items() if balances}


def fees_charged(balances: Mapping[str, Mapping[str, int]], currency: str = "EUR") -> int:
    """The fees charged so far (net of corrections), whoever bears them: the fee accounts, and what
    was written off from them."""
    return sum(balance_of(balances, account, currency) for account in (*FEE_ACCOUNTS, WRITTEN_OFF))


def money_collected(balances: Mapping[str, Mapping[str, int]], currency: str = "EUR") -> int:
    """The money the offices collected (net of corrections), owed to the creditors."""
    return -balance_of(balances, CASE_COLLECTIONS, currency)


@dataclass(frozen=True)
class JournalRow:
    """One entry with its transaction, office and case, as the accounting journal reads it
    (``LedgerRepository.journal_rows``), in journal order."""

    transaction_id: uuid.UUID
    kind: str
    effective_on: date
    recorded_at: datetime
    source: str
    reason: str | None
    account: str
    amount_cents: int
    currency: str
    office_code: str | None
    office_name: str | None
    case_ref: str | None
