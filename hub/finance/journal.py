"""The ledger as an accounting journal (pure: no I/O): each ledger transaction of a period becomes
one journal entry ("écriture") of balanced debit and credit lines on named accounts, written as a
journal CSV or in the French FEC layout ("fichier des écritures comptables", art. A47 A-1 LPF).

The chart of accounts (docs/finance.md): each ledger account maps to one account number of the
French general chart (PCG), so the export's totals per account are the ledger's. A ledger entry is a
debit when positive and a credit when negative; a reversal's entries, negated, land on the other
side. The accounts held per office carry the office as auxiliary account (``CompAuxNum``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from hub.finance.export import to_csv
from hub.ledger import postings as ledger

# ledger account -> (account number, account name, kept per office as an auxiliary account)
CHART: dict[str, tuple[str, str, bool]] = {
    ledger.FEES_EMOLUMENTS: ("622600", "Honoraires - émoluments des commissaires de justice", False),
    ledger.FEES_DISBURSEMENTS: ("622700", "Frais d'actes - débours des commissaires de justice", False),
    ledger.FEES_VAT: ("445660", "TVA déductible sur frais d'actes", False),
    ledger.PAYABLE_TO_OFFICE: ("408100", "Études - frais d'actes déclarés non facturés", True),
    ledger.FEES_INVOICED: ("401100", "Fournisseurs - études (factures reçues)", True),
    ledger.FEES_PAID: ("512100", "Banque - règlements aux études", False),
    ledger.WRITTEN_OFF: ("654100", "Pertes sur frais d'actes irrécouvrables", False),
    ledger.COLLECTED_BY_OFFICE: ("467100", "Études - fonds encaissés à reverser", True),
    ledger.REMITTED_TO_AGENCY: ("512200", "Banque - reversements reçus des études", False),
    ledger.CASE_COLLECTIONS: ("467200", "Créanciers - fonds encaissés pour leur compte", False),
}
# transaction kind -> (journal code, journal name, what an entry is)
JOURNALS: dict[str, tuple[str, str, str]] = {
    ledger.ACT_FEES: ("OD", "Opérations diverses", "Frais d'acte"),
    ledger.COLLECTION: ("OD", "Opérations diverses", "Encaissement par l'étude"),
    ledger.REMITTANCE: ("BQ", "Banque", "Reversement de l'étude"),
    ledger.INVOICE: ("OD", "Opérations diverses", "Facture approuvée"),
    ledger.INVOICE_PAYMENT: ("BQ", "Banque", "Paiement de facture"),
    ledger.WRITE_OFF: ("OD", "Opérations diverses", "Frais passés en perte"),
}
FEC_COLUMNS = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
CSV_COLUMNS = (
    "entry_number",
    "date",
    "journal_code",
    "account_number",
    "account_name",
    "ledger_account",
    "office_code",
    "case_ref",
    "piece_ref",
    "label",
    "debit_cents",
    "credit_cents",
    "currency",
    "transaction_id",
)
FEC_SEPARATOR = "|"


@dataclass(frozen=True)
class JournalLine:
    entry_number: int  # EcritureNum: one per ledger transaction, from 1 in each journal, without gaps
    journal_code: str
    journal_name: str
    on: date
    account_number: str
    account_name: str
    ledger_account: str
    aux_number: str | None
    aux_name: str | None
    piece_ref: str
    label: str
    debit_cents: int
    credit_cents: int
    currency: str
    validated_on: date
    transaction_id: uuid.UUID
    office_code: str | None
    case_ref: str | None


class UnbalancedEntry(ValueError):
    """A programming error: the ledger's transactions balance, so must their entries."""


def lines(rows: Iterable[ledger.JournalRow]) -> list[JournalLine]:
    """The journal lines of ``rows``: one entry per transaction, one line per ledger entry."""
    out: list[JournalLine] = []
    numbers: dict[str, dict[uuid.UUID, int]] = {}  # per journal code: a continuous sequence in each
    for row in rows:
        account_number, account_name, per_office = CHART[row.account]
        journal_code, journal_name, what = JOURNALS[row.kind]
        journal = numbers.setdefault(journal_code, {})
        number = journal.setdefault(row.transaction_id, len(journal) + 1)
        label = " - ".join(part for part in (what, row.case_ref, row.reason) if part)
        out.append(
            JournalLine(
                entry_number=number,
                journal_code=journal_code,
                journal_name=journal_name,
                on=row.effective_on,
                account_number=account_number,
                account_name=account_name,
                ledger_account=row.account,
                aux_number=row.office_code if per_office else None,
                aux_name=row.office_name if per_office else None,
                piece_ref=row.source,
                label=label,
                debit_cents=max(row.amount_cents, 0),
                credit_cents=max(-row.amount_cents, 0),
                currency=row.currency,
                validated_on=row.recorded_at.date(),
                transaction_id=row.transaction_id,
                office_code=row.office_code,
                case_ref=row.case_ref,
            )
        )
    check_balanced(out)
    return out


def check_balanced(journal: Sequence[JournalLine]) -> None:
    totals: dict[tuple[str, int, str], int] = {}
    for line in journal:
        key = (line.journal_code, line.entry_number, line.currency)
        totals[key] = totals.get(key, 0) + line.debit_cents - line.credit_cents
    off = {key: cents for key, cents in totals.items() if cents}
    if off:
        raise UnbalancedEntry(f"journal entries do not balance: {off}")


def to_journal_csv(journal: Iterable[JournalLine]) -> str:
    """RFC 4180 CSV, amounts in integer cents like the other finance exports."""
    return to_csv(
        CSV_COLUMNS,
        (
            {
                "entry_number": line.entry_number,
                "date": line.on.isoformat(),
                "journal_code": line.journal_code,
                "account_number": line.account_number,
                "account_name": line.account_name,
                "ledger_account": line.ledger_account,
                "office_code": line.office_code,
                "case_ref": line.case_ref,
                "piece_ref": line.piece_ref,
                "label": line.label,
                "debit_cents": line.debit_cents,
                "credit_cents": line.credit_cents,
                "currency": line.currency,
                "transaction_id": str(line.transaction_id),
            }
            for line in journal
        ),
    )


def fec_amount(cents: int) -> str:
    """Integer cents in the FEC's form: a comma before the cents, no thousands separator."""
    return f"{cents // 100},{cents % 100:02d}"


def fec_date(day: date) -> str:
    return day.strftime("%Y%m%d")


def _field(text: str | None) -> str:
    """A free text made safe for the pipe-separated file: no separator, no line break."""
    if not text:
        return ""
    return " ".join(text.replace(FEC_SEPARATOR, "/").replace("\t", " ").split())


def to_fec(journal: Iterable[JournalLine]) -> str:
    """The FEC layout: the 18 columns' names, then one line per journal line, ``|``-separated, dates
    YYYYMMDD, amounts with a decimal comma. Amounts are in EUR (the journal's currency); the two
    foreign-currency columns stay empty."""
    out = [FEC_SEPARATOR.join(FEC_COLUMNS)]
    for line in journal:
        fields = (
            line.journal_code,
            line.journal_name,
            str(line.entry_number),
            fec_date(line.on),
            line.account_number,
            line.account_name,
            line.aux_number or "",
            line.aux_name or "",
            line.piece_ref,
            fec_date(line.on),
            line.label,
            fec_amount(line.debit_cents),
            fec_amount(line.credit_cents),
            "",
            "",
            fec_date(line.validated_on),
            "",
            "",
        )
        out.append(FEC_SEPARATOR.join(_field(f) for f in fields))
    return "\r\n".join(out) + "\r\n"
