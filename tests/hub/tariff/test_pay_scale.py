"""The seizable share of pay: the 2025 scale from DOMAIN.md, the protected floor, and invariants."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hub.recovery.seizable_pay import (
    PAY_SCALE_FILE,
    MalformedPayScale,
    load_pay_scale,
    parse_pay_scale,
    scale_monthly_seizable,
    seizable_monthly_cents,
)
from hypothesis import given
from hypothesis import strategies as st

from hub.recovery.facts import InvalidFacts

FLOOR = 63_571  # the single-person RSA, 635.71 a month


def test_the_packaged_scale_is_2025_from_domain() -> None:
    scale = load_pay_scale()
    assert scale.year == 2025
    assert [b.up_to_cents for b in scale.bands] == [
        444_000,
        866_000,
        1_289_000,
        1_709_000,
        2_130_000,
        2_560_000,
        None,
    ]
    assert [b.share for b in scale.bands] == [
        Fraction(1, 20),
        Fraction(1, 10),
        Fraction(1, 5),
        Fraction(1, 4),
        Fraction(1, 3),
        Fraction(2, 3),
        Fraction(1),
    ]
    assert scale.per_dependent_cents == 172_000
    assert scale.protected_floor_monthly_cents == FLOOR
    assert "2025" in scale.source


@pytest.mark.parametrize(
    ("monthly_cents", "dependents", "expected_cents"),
    [
        (0, 0, 0),
        (FLOOR, 0, 0),  # the floor itself is never seized
        (50_000, 3, 0),  # below the floor
        # 650.00: the scale gives 46.50 (222 + 3,360 x 1/10 = 558 a year) but only 14.29 lies
        # above the floor: the floor wins.
        (65_000, 0, 1_429),
        # 700.00 = 8,400 a year: 4,440 x 1/20 + 3,960 x 1/10 = 618 a year = 51.50 a month.
        (70_000, 0, 5_150),
        # 1,000.00 = 12,000 a year: 222 + 422 + 3,340 x 1/5 = 1,312 a year = 109.333... a month.
        (100_000, 0, 10_933),
        # Two dependents raise every band top by 3,440: 7,880 x 1/20 + 4,120 x 1/10 = 806 a year.
        (100_000, 2, 6_716),
        # 3,000.00 = 36,000 a year, above every band: 17,210 a year = 1,434.166... a month.
        (300_000, 0, 143_416),
    ],
)
def test_table(monthly_cents: int, dependents: int, expected_cents: int) -> None:
    assert seizable_monthly_cents(monthly_cents, dependents) == expected_cents


def test_wrong_inputs_are_refused() -> None:
    with pytest.raises(TypeError):
        seizable_monthly_cents(1000.0, 0)  # type: ignore[arg-type]
    with pytest.raises(InvalidFacts):
        seizable_monthly_cents(-1, 0)
    with pytest.raises(InvalidFacts):
        seizable_monthly_cents(100_000, -1)


def test_a_malformed_scale_is_refused_with_its_path() -> None:
    with pytest.raises(MalformedPayScale, match="bands"):
        parse_pay_scale(
            {
                "year": 2025,
                "source": "x",
                "per_dependent_cents": 1,
                "protected_floor_monthly_cents": 1,
                "bands": [{"up_to_cents": 10, "numerator": 1, "denominator": 2}],
            }
        )
    with pytest.raises(MalformedPayScale, match="per_dependent_cents"):
        parse_pay_scale(
            {
                "year": 2025,
                "source": "x",
                "per_dependent_cents": 1720.0,
                "protected_floor_monthly_cents": 1,
                "bands": [{"numerator": 1, "denominator": 1}],
            }
        )


def test_the_data_file_holds_no_decimal_number() -> None:
    text = (Path(__file__).parents[3] / "hub" / "recovery" / PAY_SCALE_FILE).read_text(encoding="utf-8")
    data_lines = [
        line.split("#")[0] for line in text.splitlines() if not line.lstrip().startswith(("#", "source"))
    ]
    assert not any("." in line for line in data_lines)


incomes = st.integers(min_value=0, max_value=3_000_000)
dependents = st.integers(min_value=0, max_value=12)


@given(incomes, dependents)
def test_never_more_than_the_scale_and_never_the_floor(income: int, deps: int) -> None:
    seizable = seizable_monthly_cents(income, deps)
    assert type(seizable) is int
    assert 0 <= seizable <= scale_monthly_seizable(income, deps)
    if income >= FLOOR:
        assert income - seizable >= FLOOR
    else:
        assert seizable == 0


@given(incomes, st.integers(min_value=1, max_value=100_000), dependents)
def test_more_pay_never_lowers_the_seizable_share(income: int, more: int, deps: int) -> None:
    assert seizable_monthly_cents(income + more, deps) >= seizable_monthly_cents(income, deps)


@given(incomes, dependents)
def test_a_dependent_never_raises_the_seizable_share(income: int, deps: int) -> None:
    assert seizable_monthly_cents(income, deps + 1) <= seizable_monthly_cents(income, deps)
