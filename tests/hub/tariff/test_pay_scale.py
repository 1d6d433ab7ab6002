"""The seizable share of pay: the scales per year (2025 from DOMAIN.md, 2026 carried unconfirmed), the
RSA floor in force on the date, and invariants."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.tariff.data import MalformedTariffData, NoFigureInForce, parse
from hub.tariff.pay_scale import (
    PAY_SCALE_FILE,
    InvalidPay,
    PayScaleFile,
    pay_scale_on,
    scale_monthly_seizable,
    seizable_monthly_cents,
    seizable_pay,
)

ON = date(2025, 2, 3)  # the 2025 scale and the RSA of 1 Apr 2024
FLOOR = 63_571  # the single-person RSA, 635.71 a month


def test_the_packaged_scale_is_2025_from_domain() -> None:
    scale = pay_scale_on(ON)
    assert (scale.name, scale.valid_from, scale.valid_to) == ("2025", date(2025, 1, 1), date(2025, 12, 31))
    assert scale.confirmed
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
    assert seizable_monthly_cents(monthly_cents, dependents, ON) == expected_cents


def test_wrong_inputs_are_refused() -> None:
    with pytest.raises(TypeError):
        seizable_monthly_cents(1000.0, 0, ON)  # type: ignore[arg-type]
    with pytest.raises(InvalidPay):
        seizable_monthly_cents(-1, 0, ON)
    with pytest.raises(InvalidPay):
        seizable_monthly_cents(100_000, -1, ON)


def scale_file(**changes: object) -> dict[str, object]:
    period: dict[str, object] = {
        "name": "2027",
        "valid_from": date(2027, 1, 1),
        "per_dependent_cents": 1,
        "bands": [{"numerator": 1, "denominator": 1}],
        "confirmed": True,
        "source": "x",
    }
    return {"kind": "pay_scale", "periods": [{**period, **changes}]}


def test_a_malformed_scale_is_refused_with_the_path_of_every_fault() -> None:
    with pytest.raises(MalformedTariffData) as caught:
        parse(
            PayScaleFile,
            scale_file(
                per_dependent_cents=1720.0,
                bands=[{"up_to_cents": 10, "numerator": 1, "denominator": 2}],
                confirmed=None,
            ),
            "new.toml",
        )
    paths = {item.path for item in caught.value.errors}
    assert {"periods.0.per_dependent_cents", "periods.0.confirmed"} <= paths
    with pytest.raises(
        MalformedTariffData, match=r"periods\.0: bands: the last band must have no up_to_cents"
    ):
        parse(
            PayScaleFile,
            scale_file(bands=[{"up_to_cents": 10, "numerator": 1, "denominator": 2}]),
            "new.toml",
        )
    assert "write amounts as integer cents" in caught.value.detail


@pytest.mark.parametrize(
    ("on", "name", "confirmed"),
    [
        (date(2025, 12, 31), "2025", True),
        (date(2026, 1, 1), "2026", False),
        (date(2031, 6, 1), "2026", False),
    ],
)
def test_the_scale_in_force_changes_on_1_january(on: date, name: str, confirmed: bool) -> None:
    scale = pay_scale_on(on)
    assert (scale.name, scale.confirmed) == (name, confirmed)
    if not confirmed:
        assert "UNCONFIRMED" in scale.source and "2025 figures are carried" in scale.source


def test_before_the_first_scale_nothing_is_in_force() -> None:
    with pytest.raises(
        NoFigureInForce, match=r"no wage-garnishment scale in force on 2024-12-31.*2025 \(2025-01-01"
    ):
        seizable_monthly_cents(100_000, 0, date(2024, 12, 31))


@pytest.mark.parametrize(
    ("on", "expected_cents"),
    [
        # 660.00: the scale gives 47.50 (222 + 3,480 x 1/10 = 570 a year); the floor leaves less.
        (date(2025, 3, 31), 66_000 - 63_571),  # RSA 635.71 until 31 Mar 2025
        (date(2025, 4, 1), 66_000 - 64_652),  # RSA 646.52 from 1 Apr 2025
    ],
)
def test_the_floor_is_the_rsa_in_force_on_the_date(on: date, expected_cents: int) -> None:
    assert seizable_monthly_cents(66_000, 0, on) == expected_cents


def test_the_data_file_holds_no_decimal_number() -> None:
    text = (Path(__file__).parents[3] / "hub" / "tariff" / PAY_SCALE_FILE).read_text(encoding="utf-8")
    data_lines = [
        line.split("#")[0]
        for line in text.splitlines()
        if not line.lstrip().startswith(("#", "source", "name", "valid_"))
    ]
    assert not any("." in line for line in data_lines)


incomes = st.integers(min_value=0, max_value=3_000_000)
dependents = st.integers(min_value=0, max_value=12)


@given(incomes, dependents)
def test_never_more_than_the_scale_and_never_the_floor(income: int, deps: int) -> None:
    seizable = seizable_monthly_cents(income, deps, ON)
    assert type(seizable) is int
    assert 0 <= seizable <= scale_monthly_seizable(income, deps, ON)
    if income >= FLOOR:
        assert income - seizable >= FLOOR
    else:
        assert seizable == 0


@given(incomes, st.integers(min_value=1, max_value=100_000), dependents)
def test_more_pay_never_lowers_the_seizable_share(income: int, more: int, deps: int) -> None:
    assert seizable_monthly_cents(income + more, deps, ON) >= seizable_monthly_cents(income, deps, ON)


@given(incomes, dependents)
def test_a_dependent_never_raises_the_seizable_share(income: int, deps: int) -> None:
    assert seizable_monthly_cents(income, deps + 1, ON) <= seizable_monthly_cents(income, deps, ON)


@pytest.mark.parametrize(
    ("monthly_cents", "on", "expected_cents", "binds", "scale", "floor"),
    [
        (66_000, date(2025, 4, 1), 66_000 - 64_652, "the floor binds", "2025", "2025-04"),
        (100_000, date(2026, 1, 1), 10_933, "the scale binds", "2026", "2025-04"),
    ],
)
def test_seizable_pay_explains_itself_with_its_figures(
    monthly_cents: int, on: date, expected_cents: int, binds: str, scale: str, floor: str
) -> None:
    pay = seizable_pay(monthly_cents, 0, on)
    assert pay.monthly_cents == expected_cents == seizable_monthly_cents(monthly_cents, 0, on)
    assert binds in pay.explanation
    assert (pay.scale.period, pay.floor.period) == (scale, floor)
    assert pay.scale.confirmed is (scale == "2025")
    assert f"the {scale} scale" in pay.explanation and f"(period {floor})" in pay.explanation
