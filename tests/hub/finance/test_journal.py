"""The accounting journal (SQLite and PostgreSQL, each test rolled back) over a network with every
kind of ledger movement: each entry balances, and the totals of the journal CSV and of the FEC equal
the ledger's for the period, computed here straight from the ledger tables."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.finance import journal, service
from hub.kit.errors import InvalidInput
from hub.ledger import postings as ledger
from hub.ledger.models import LedgerEntry, LedgerTransaction
from tests.hub.finance.factories import network

PERIODS = [(date(2026, 2, 1), date(2026, 3, 1)), (date(2026, 1, 1), date(2026, 5, 1))]


def test_every_ledger_account_and_kind_has_its_place() -> None:
    assert set(journal.CHART) == set(ledger.ACCOUNTS) and set(journal.JOURNALS) == set(ledger.KINDS)
    numbers = [number for number, _, _ in journal.CHART.values()]
    assert len(set(numbers)) == len(numbers)  # one account number per ledger account: totals map back


@pytest.mark.parametrize(
    ("cents", "text"), [(0, "0,00"), (5, "0,05"), (6190, "61,90"), (123456789, "1234567,89")]
)
def test_fec_amounts_have_a_decimal_comma(cents: int, text: str) -> None:
    assert journal.fec_amount(cents) == text


async def ledger_totals(session: AsyncSession, start: date, end: date) -> dict[str, int]:
    """Net cents per ledger account for the period, from the ledger tables (not the repository)."""
    rows = await session.execute(
        select(LedgerEntry.account, func.sum(LedgerEntry.amount_cents))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(
            LedgerTransaction.effective_on >= start,
            LedgerTransaction.effective_on < end,
            LedgerEntry.currency == "EUR",
        )
        .group_by(LedgerEntry.account)
    )
    return {account: ledger.exact_cents(total) for account, total in rows.all()}


async def ledger_debits(session: AsyncSession, start: date, end: date) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(
            LedgerTransaction.effective_on >= start,
            LedgerTransaction.effective_on < end,
            LedgerEntry.amount_cents > 0,
            LedgerEntry.currency == "EUR",
        )
    )
    return ledger.exact_cents(total)


async def test_the_journal_balances_and_equals_the_ledger(session: AsyncSession) -> None:
    await network(session)
    by_number = {number: account for account, (number, _, _) in journal.CHART.items()}
    for start, end in PERIODS:
        lines = await service.journal(session, start, end)
        expected = await ledger_totals(session, start, end)
        assert lines and expected

        # Each entry (one ledger transaction) balances; each journal numbers its entries 1..n without
        # gaps (FEC: a continuous sequence per journal).
        per_entry: dict[tuple[str, int], int] = defaultdict(int)
        for line in lines:
            assert (line.debit_cents == 0) != (line.credit_cents == 0) and start <= line.on < end
            per_entry[(line.journal_code, line.entry_number)] += line.debit_cents - line.credit_cents
        assert set(per_entry.values()) == {0}
        for code in {code for code, _ in per_entry}:
            numbers = sorted(n for c, n in per_entry if c == code)
            assert numbers == list(range(1, len(numbers) + 1)), code
        assert {code for code, _ in per_entry} <= {"OD", "BQ"}

        # The journal CSV: net per account and total debits equal the ledger's.
        rows = list(csv.DictReader(io.StringIO(journal.to_journal_csv(lines))))
        assert tuple(rows[0]) == journal.CSV_COLUMNS
        csv_net: dict[str, int] = defaultdict(int)
        for row in rows:
            csv_net[by_number[row["account_number"]]] += int(row["debit_cents"]) - int(row["credit_cents"])
        assert {a: c for a, c in csv_net.items() if c} == {a: c for a, c in expected.items() if c}
        assert sum(int(r["debit_cents"]) for r in rows) == await ledger_debits(session, start, end)
        assert sum(int(r["debit_cents"]) for r in rows) == sum(int(r["credit_cents"]) for r in rows)

        # The FEC: 18 columns, dates YYYYMMDD, decimal commas, the same totals per account.
        text = journal.to_fec(lines)
        fec = [line.split("|") for line in text.split("\r\n") if line]
        assert tuple(fec[0]) == journal.FEC_COLUMNS and len(fec) == len(lines) + 1
        fec_net: dict[str, Decimal] = defaultdict(Decimal)
        for record in fec[1:]:
            assert len(record) == 18
            fields = dict(zip(journal.FEC_COLUMNS, record, strict=True))
            for name in ("EcritureDate", "PieceDate", "ValidDate"):
                assert re.fullmatch(r"\d{8}", fields[name]), fields
            for name in ("Debit", "Credit"):
                assert re.fullmatch(r"\d+,\d{2}", fields[name]), fields
            amount = Decimal(fields["Debit"].replace(",", ".")) - Decimal(fields["Credit"].replace(",", "."))
            fec_net[by_number[fields["CompteNum"]]] += amount
        assert {a: int(c * 100) for a, c in fec_net.items() if c} == {a: c for a, c in expected.items() if c}


async def test_office_accounts_carry_the_office_as_auxiliary(session: AsyncSession) -> None:
    await network(session)
    lines = await service.journal(session, date(2026, 1, 1), date(2026, 5, 1))
    for line in lines:
        per_office = journal.CHART[line.ledger_account][2]
        assert (line.aux_number is not None) == per_office, line
        if per_office:
            assert line.aux_number == line.office_code and line.aux_name
    kinds = {(line.journal_code, line.ledger_account) for line in lines}
    assert ("BQ", ledger.FEES_PAID) in kinds and ("OD", ledger.FEES_EMOLUMENTS) in kinds


async def test_an_empty_or_backwards_period(session: AsyncSession) -> None:
    assert await service.journal(session, date(2001, 1, 1), date(2001, 2, 1)) == []
    assert journal.to_fec([]) == "|".join(journal.FEC_COLUMNS) + "\r\n"
    with pytest.raises(InvalidInput) as bad:
        await service.journal(session, date(2026, 3, 1), date(2026, 2, 1))
    assert bad.value.code == "finance.bad_period"
