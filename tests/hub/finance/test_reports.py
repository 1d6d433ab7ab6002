"""The report arithmetic, pure: which ledger movements make each figure, the DEP once per case,
delays and per-case figures rounded half up, never a float."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.finance import export, reports
from hub.finance.reports import ActRow, MandateRow, TariffCost
from hub.ledger.postings import StatementLine

D = date(2026, 3, 1)


def test_each_figure_takes_its_accounts_and_kinds() -> None:
    lines = [
        StatementLine("fees_emoluments", "EUR", "act_fees", "SERVE_TITLE", 5158),
        StatementLine("fees_vat", "EUR", "act_fees", "SERVE_TITLE", 1032),
        StatementLine("payable_to_office", "EUR", "act_fees", "SERVE_TITLE", -6190),
        StatementLine("fees_emoluments", "EUR", "write_off", None, -3000),  # not a claim
        StatementLine("written_off", "EUR", "write_off", None, 3000),
        StatementLine("case_collections", "EUR", "collection", "SERVE_TITLE", -700),
        StatementLine("collected_by_office", "EUR", "collection", "SERVE_TITLE", 700),
        StatementLine("fees_invoiced", "EUR", "invoice", None, -6190),
        StatementLine("fees_invoiced", "EUR", "invoice_payment", None, 6000),
        StatementLine("fees_paid", "EUR", "invoice_payment", None, -6000),
        StatementLine("remitted_to_agency", "EUR", "remittance", None, 500),
        StatementLine("fees_emoluments", "CHF", "act_fees", "SERVE_TITLE", 99),  # another currency
    ]
    total, per_act = reports.ledger_figures(lines, "EUR")
    assert total == reports.LedgerFigures(6190, 700, 6190, 6000, 500, 3000)
    assert total.net_cents == 700 - 6190
    assert per_act == {"SERVE_TITLE": reports.LedgerFigures(fees_cents=6190, collected_cents=700)}


def test_the_engagement_fee_is_priced_once_per_case() -> None:
    case_a, case_b = uuid.uuid4(), uuid.uuid4()
    acts = [
        ActRow(case_a, "SERVE_TITLE", D - timedelta(days=10), 100_000, "EUR"),  # before: bore the DEP
        ActRow(case_a, "PAYMENT_ORDER", D, 100_000, "EUR"),
        ActRow(case_b, "PAYMENT_ORDER", D, 100_000, "EUR"),
        ActRow(case_b, "UNKNOWN", D, 100_000, "EUR"),
        ActRow(case_b, "PAYMENT_ORDER", D, 100_000, "CHF"),
    ]
    seen: list[tuple[str, bool]] = []

    def price(act: ActRow, already: bool) -> TariffCost | None:
        seen.append((act.act_code, already))
        if act.act_code == "UNKNOWN":
            return None
        return TariffCost(1000 if already else 1500, 0 if already else 500)

    result = reports.tariff_per_act_type(acts, D, D + timedelta(days=1), "EUR", price)
    assert result == {"PAYMENT_ORDER": (3, 1, 1000 + 1500), "UNKNOWN": (1, 1, 0)}
    assert ("PAYMENT_ORDER", True) in seen and ("PAYMENT_ORDER", False) in seen


@pytest.mark.parametrize(
    ("days", "median", "mean"),
    [
        ([], None, None),
        ([0], "0.0", "0.0"),
        ([3, 10], "6.5", "6.5"),
        ([1, 2, 10], "2.0", "4.3"),
        ([1, 1, 2], "1.0", "1.3"),
        ([0, 0, 1], "0.0", "0.3"),
    ],
)
def test_days_to_first_act(days: list[int], median: str | None, mean: str | None) -> None:
    rows = [MandateRow(D, False, D + timedelta(days=n)) for n in days] + [MandateRow(D, True, None)]
    count, got_median, got_mean = reports.days_to_first_act(rows)
    assert count == len(days)
    assert (None if got_median is None else str(got_median), None if got_mean is None else str(got_mean)) == (
        median,
        mean,
    )


@given(st.integers(-(10**12), 10**12), st.integers(1, 10**6))
def test_per_case_figures_are_integer_cents_rounded_half_up(cents: int, cases: int) -> None:
    got = reports._per(cents, cases)
    assert type(got) is int
    exact = Decimal(cents) / Decimal(cases)
    assert abs(Decimal(got) - exact) <= Decimal("0.5")
    if abs(exact - int(exact)) == Decimal("0.5"):
        assert abs(got) > abs(exact)


def test_csv_columns_and_cells() -> None:
    card = reports.scorecard(
        office_code="CJ1",
        start=D,
        end=D + timedelta(days=31),
        currency="EUR",
        lines=[StatementLine("case_collections", "EUR", "collection", "SERVE_TITLE", -101)],
        acts={"SERVE_TITLE": reports.ActCount(1, 0)},
        cases=1,
        mandates=[],
    )
    text = export.to_csv(export.SCORECARD_COLUMNS, export.scorecard_rows([card]))
    header, total, serve = text.split("\r\n")[:3]
    assert header == ",".join(export.SCORECARD_COLUMNS)
    # Nothing held (unremitted): 0 cents, no day, not overdue.
    assert total == "CJ1,2026-03-01,2026-04-01,EUR,ALL,1,0,101,0,101,1,0,101,0,0,,0,,,0,,false"
    assert serve.startswith("CJ1,2026-03-01,2026-04-01,EUR,SERVE_TITLE,1,0,101,0,101,")
