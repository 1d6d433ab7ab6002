"""Each legal figure with its period: a date on each side of every change, and no figure before the
first period (an error naming the figure and the spans covered, never the nearest figure)."""

from __future__ import annotations

from datetime import date

import pytest

from hub.tariff.catalogue import NoTariffInForce, act_cost
from hub.tariff.data import NoFigureInForce
from hub.tariff.rsa import pay_floor, unseizable_bank_minimum

CLAIM = 50000  # coefficient 1


@pytest.mark.parametrize(
    ("on", "period"),
    [
        (date(2024, 3, 1), "2024-03"),
        (date(2025, 6, 30), "2024-03"),
        (date(2025, 7, 1), "2025-07"),
        (date(2026, 3, 1), "2025-07"),  # the arrêté's published end passed: kept with an open end
        (date(2040, 1, 1), "2025-07"),
    ],
)
def test_the_tariff_period_in_force(on: date, period: str) -> None:
    cost = act_cost("SERVE_TITLE", CLAIM, on)
    assert cost.tariff_version == period
    assert cost.provenance is not None and cost.provenance.period == period


def test_no_tariff_before_1_march_2024() -> None:
    with pytest.raises(NoTariffInForce) as caught:
        act_cost("SERVE_TITLE", CLAIM, date(2024, 2, 29))
    message = caught.value.detail
    assert "no tariff in force on 2024-02-29" in message
    assert "2024-03 (2024-03-01 to 2025-06-30), 2025-07 (2025-07-01 to open end)" in message
    assert (caught.value.status, caught.value.code) == (422, "no_tariff_in_force")
    assert isinstance(caught.value, NoFigureInForce)


def _emoluments(on: date) -> list[tuple[str, int]]:
    cost = act_cost("WAGE_GARNISHMENT_REQUEST", CLAIM, on)
    return [
        (line.explanation.split(":")[0], line.amount_cents) for line in cost.lines if line.kind == "emolument"
    ]


def test_wage_garnishment_before_the_reform_is_the_court_request() -> None:
    cost = act_cost("WAGE_GARNISHMENT_REQUEST", CLAIM, date(2025, 6, 30))
    assert [line.kind for line in cost.lines] == ["emolument", "vat"]
    assert cost.emolument_cents == 3009  # no. 153
    assert cost.engagement_fee_cents == 0  # no DEP
    assert not cost.provisional


def test_wage_garnishment_from_the_reform_is_the_chain_run_by_the_commissaire() -> None:
    cost = act_cost("WAGE_GARNISHMENT_REQUEST", CLAIM, date(2025, 7, 1))
    names = [name for name, _ in _emoluments(date(2025, 7, 1))]
    assert len(names) == 8
    for part in [
        "Payment order before wage garnishment",
        "Garnishment report served on the employer",
        "Notice of the wage garnishment to the debtor",
        "Surcharge on the payment order's entry",
        "Surcharge on the garnishment report's entry",
    ]:
        assert any(part in name for name in names), part
    assert cost.engagement_fee_cents == 2275  # the payment order engages enforcement
    assert [line.amount_cents for line in cost.lines if line.kind == "disbursement"] == [767, 767, 767]
    assert cost.provisional  # base amounts unconfirmed


def test_the_surcharges_end_on_29_february_2028() -> None:
    last_day = dict(_emoluments(date(2028, 2, 29)))
    after = dict(_emoluments(date(2028, 3, 1)))
    surcharges = {name: cents for name, cents in last_day.items() if "Surcharge" in name}
    assert sorted(surcharges.values()) == [144, 160, 232, 232, 584]
    assert all("until 2028-02-29" in name for name in surcharges)
    assert set(last_day) - set(after) == set(surcharges)
    total = act_cost("WAGE_GARNISHMENT_REQUEST", CLAIM, date(2028, 2, 29)).emolument_cents
    assert total - act_cost("WAGE_GARNISHMENT_REQUEST", CLAIM, date(2028, 3, 1)).emolument_cents == 1352


@pytest.mark.parametrize(
    ("on", "cents", "period"),
    [
        (date(2024, 4, 1), 63571, "2024-04"),
        (date(2025, 3, 31), 63571, "2024-04"),
        (date(2025, 4, 1), 64652, "2025-04"),
        (date(2027, 1, 1), 64652, "2025-04"),  # open end until the next April's figure is loaded
    ],
)
def test_the_rsa_is_the_unseizable_bank_minimum_and_the_pay_floor(on: date, cents: int, period: str) -> None:
    minimum = unseizable_bank_minimum(on)
    floor = pay_floor(on)
    assert minimum.cents == floor.cents == cents
    assert minimum.provenance.period == floor.provenance.period == period
    assert minimum.provenance.confirmed
    assert "L162-2" in minimum.provenance.figure and "R3252-5" in floor.provenance.figure
    assert "RSA single person" in minimum.provenance.source


def test_no_rsa_before_its_first_period() -> None:
    with pytest.raises(
        NoFigureInForce, match=r"no single-person RSA in force on 2024-03-31.*2024-04 \(2024-04-01"
    ):
        unseizable_bank_minimum(date(2024, 3, 31))
