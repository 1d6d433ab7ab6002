"""The proportional fees on money recovered (A444-31 on the debtor, A444-32 on the creditor): their
brackets at every bound, their caps, the maintenance and wage rules, the DEP deducted, provenance."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.tariff.catalogue import InvalidClaim, NoTariffInForce
from hub.tariff.fees import collection_fee, recovery_fee

ON = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("collected_cents", "fee_cents"),
    [
        (0, 2150),
        (18800, 2150),  # 188.00: still the flat 21.50
        # 188.01: read literally, the brackets give 14.6625 + 63.01 x 10.75 % = 21.436 -> 21.44.
        (18801, 2144),
        (61000, 6680),  # 125 x 11.73 % + 485 x 10.75 % = 66.80
        (61100, 6690),  # 66.80 + 1 x 10.26 % = 66.9026
        (152500, 16068),  # 66.80 + 915 x 10.26 % = 160.679
        (152600, 16072),  # 160.679 + 1 x 3.91 % = 160.7181: the fourth bracket
        (200000, 17925),  # 160.679 + 475 x 3.91 % = 179.2515
        (13_900_000, 553595),  # 160.679 + 137,475 x 3.91 % = 5,535.9515
        (14_000_000, 554000),  # the cap, 5,540
        (10**12, 554000),
    ],
)
def test_collection_fee_brackets_and_cap(collected_cents: int, fee_cents: int) -> None:
    fee = collection_fee(collected_cents, ON, claim_kind="consumer")
    assert fee.cents == fee_cents


@pytest.mark.parametrize("claim_kind", ["wage", "maintenance"])
def test_no_collection_fee_on_wage_or_maintenance_claims(claim_kind: str) -> None:
    fee = collection_fee(200000, ON, claim_kind=claim_kind)
    assert fee.cents == 0
    assert f"not due on a {claim_kind} claim (R444-53 3°)" in fee.explanation


def test_collection_fee_explains_each_bracket_and_its_provenance() -> None:
    fee = collection_fee(200000, ON, claim_kind="commercial")
    assert (
        "11.73 % of 125.00 EUR + 10.75 % of 485.00 EUR + 10.26 % of 915.00 EUR + 3.91 % of 475.00 EUR"
        in fee.explanation
    )
    assert "Tariff 2025-07 (2025-07-01 to open end)" in fee.explanation
    assert (fee.provenance.period, fee.provenance.valid_from, fee.provenance.valid_to) == (
        "2025-07",
        date(2025, 7, 1),
        None,
    )
    assert fee.provenance.confirmed and "A444-32" in fee.provenance.source


@pytest.mark.parametrize(
    ("collected_cents", "fee_cents", "maintenance_cents"),
    [
        (0, 430, 430),
        (4400, 430, 430),  # 44.00: flat, for maintenance too (only the rates double)
        (4401, 430, 860),  # 44.01 x 9.77 % = 4.2998; doubled 8.5996
        (12500, 1221, 2443),  # 125 x 9.77 % = 12.2125; doubled 24.425
        (61000, 4301, 8602),  # 12.2125 + 485 x 6.35 % = 43.01; doubled 86.02
        (152500, 7421, 14842),  # 43.01 + 915 x 3.41 % = 74.2115; doubled 148.423
        (152600, 7421, 14843),  # 74.2115 + 1 x 0.29 % = 74.2144; doubled 148.4288
        (16_000_000, 53379, 55000),  # 74.2115 + 158,475 x 0.29 % = 533.789; doubled above the cap
        (20_000_000, 55000, 55000),  # the cap, 550
    ],
)
def test_recovery_fee_brackets_cap_and_doubled_rates_for_maintenance(
    collected_cents: int, fee_cents: int, maintenance_cents: int
) -> None:
    assert recovery_fee(collected_cents, ON).cents == fee_cents
    assert recovery_fee(collected_cents, ON, maintenance=True).cents == maintenance_cents


def test_recovery_fee_says_the_rates_are_doubled() -> None:
    fee = recovery_fee(61000, ON, maintenance=True)
    assert "19.54 % of 125.00 EUR + 12.70 % of 485.00 EUR" in fee.explanation
    assert "rates doubled for a maintenance claim" in fee.explanation


@pytest.mark.parametrize(
    ("deducted", "expected", "words"),
    [
        (
            5000,
            17925 - 5000,
            "Less the engagement fee (DEP) of 50.00 EUR already charged on this claim: 129.25 EUR.",
        ),
        (17925, 0, "already charged on this claim: 0.00 EUR."),
        (30000, 0, "(never below zero)"),
    ],
)
def test_the_dep_is_deducted_from_the_collection_fee_never_below_zero(
    deducted: int, expected: int, words: str
) -> None:
    fee = collection_fee(200000, ON, claim_kind="consumer", engagement_fee_deducted_cents=deducted)
    assert fee.cents == expected
    assert words in fee.explanation


def test_the_dep_is_deducted_from_the_recovery_fee() -> None:
    fee = recovery_fee(61000, ON, engagement_fee_deducted_cents=2275)
    assert fee.cents == 4301 - 2275
    assert "Less the engagement fee (DEP) of 22.75 EUR" in fee.explanation
    assert recovery_fee(4400, ON, engagement_fee_deducted_cents=1000).cents == 0


def test_fees_follow_the_period_and_refuse_a_date_before_the_tariff() -> None:
    assert collection_fee(200000, date(2025, 6, 30), claim_kind="consumer").provenance.period == "2024-03"
    assert collection_fee(200000, date(2025, 7, 1), claim_kind="consumer").provenance.period == "2025-07"
    assert recovery_fee(200000, date(2024, 3, 1)).provenance.period == "2024-03"
    with pytest.raises(NoTariffInForce, match="2024-02-29"):
        recovery_fee(200000, date(2024, 2, 29))
    with pytest.raises(NoTariffInForce):
        collection_fee(200000, date(2024, 2, 29), claim_kind="consumer")


def test_amounts_are_non_negative_integer_cents() -> None:
    with pytest.raises(InvalidClaim):
        collection_fee(-1, ON, claim_kind="consumer")
    with pytest.raises(InvalidClaim):
        recovery_fee(100, ON, engagement_fee_deducted_cents=-1)
    with pytest.raises(TypeError):
        recovery_fee(10.0, ON)  # type: ignore[arg-type]


amounts = st.integers(min_value=0, max_value=10**10)


@given(amounts, amounts)
def test_the_recovery_fee_never_decreases_and_stays_within_the_cap(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert recovery_fee(low, ON).cents <= recovery_fee(high, ON).cents <= 55000
    assert recovery_fee(low, ON).cents <= recovery_fee(low, ON, maintenance=True).cents


@given(amounts, st.integers(min_value=0, max_value=10**6))
def test_the_deduction_lowers_the_fee_by_at_most_itself(collected: int, deducted: int) -> None:
    gross = collection_fee(collected, ON, claim_kind="consumer").cents
    net = collection_fee(collected, ON, claim_kind="consumer", engagement_fee_deducted_cents=deducted).cents
    assert net == max(gross - deducted, 0)
