"""Success rates learned from act reports: Beta prior while data is thin, per office shrunk to the network."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from hub.recovery.facts import ActRecord, OutcomeCode
from hub.recovery.success_rates import learn_success_rates, prior_rates

DAY = date(2026, 1, 5)
FRUITFUL = OutcomeCode.GARNISHMENT_FRUITFUL
EMPTY = OutcomeCode.GARNISHMENT_EMPTY


def reports(office: str | None, wins: int, losses: int, code: str = "BANK_GARNISHMENT") -> list[ActRecord]:
    return [ActRecord(act_code=code, on=DAY, outcome=FRUITFUL, office=office, seized_cents=100)] * wins + [
        ActRecord(act_code=code, on=DAY, outcome=EMPTY, office=office)
    ] * losses


def test_without_reports_the_prior_is_used() -> None:
    rate = prior_rates().rate("BANK_GARNISHMENT", "ETUDE-75")
    assert rate.value == Fraction(2, 5)  # assumptions.toml: 4000 bp
    assert rate.basis == "prior"
    assert rate.sample_size == 0
    assert "prior" in rate.describe()


def test_an_act_without_its_own_prior_takes_the_default() -> None:
    assert prior_rates().rate("SERVE_TITLE").value == Fraction(1, 2)


def test_overall_rate_is_smoothed_by_the_prior() -> None:
    # (3 successes + 0.4 x 10 pseudo-reports) / (10 + 10) = 7/20
    rates = learn_success_rates(reports("A", 3, 7))
    rate = rates.rate("BANK_GARNISHMENT")
    assert rate.value == Fraction(7, 20)
    assert rate.basis == "overall"
    assert rate.sample_size == 10


def test_an_office_rate_is_shrunk_toward_the_network_rate() -> None:
    rates = learn_success_rates(reports("A", 8, 2) + reports("B", 2, 8))
    network = Fraction(10 + 4, 20 + 10)  # 14/30
    office_a = rates.rate("BANK_GARNISHMENT", "A")
    assert office_a.basis == "office"
    assert office_a.value == (8 + network * 10) / (10 + 10)
    assert office_a.sample_size == 10
    assert "office A: 8 of 10" in office_a.describe()
    assert rates.rate("BANK_GARNISHMENT", "B").value < network < office_a.value
    # An office with no report of its own is judged by the network.
    assert rates.rate("BANK_GARNISHMENT", "C").value == network


def test_unreported_acts_do_not_count_and_money_counts_as_success() -> None:
    history = [
        ActRecord(act_code="SEIZURE_SALE", on=DAY, outcome=None, office="A"),
        ActRecord(act_code="SEIZURE_SALE", on=DAY, outcome=OutcomeCode.REFUSED_OTHER, collected_cents=5_000),
        ActRecord(act_code="SEIZURE_SALE", on=DAY, outcome=OutcomeCode.NO_SEIZABLE_GOODS),
    ]
    rates = learn_success_rates(history)
    assert rates.overall["SEIZURE_SALE"].reports == 2
    assert rates.overall["SEIZURE_SALE"].successes == 1


def test_a_thousand_reports_outweigh_the_prior() -> None:
    rate = learn_success_rates(reports(None, 900, 100)).rate("BANK_GARNISHMENT")
    assert abs(rate.value - Fraction(9, 10)) < Fraction(1, 100)


@given(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50), st.integers(0, 50))
def test_rates_stay_within_bounds_and_wins_never_lower_them(wins: int, losses: int, a: int, b: int) -> None:
    base = learn_success_rates(reports("A", wins, losses) + reports("B", a, b))
    more = learn_success_rates(reports("A", wins + 1, losses) + reports("B", a, b))
    for office in ("A", "B", None):
        value = base.rate("BANK_GARNISHMENT", office).value
        assert isinstance(value, Fraction)
        assert 0 <= value <= 1
        assert more.rate("BANK_GARNISHMENT", office).value >= value
