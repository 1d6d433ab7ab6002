"""Expected recovery learned from act reports: the share of the balance brought back, a prior that
fades as reports accumulate, an office's figure shrunk toward the network's. Success is money."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from hub.recovery.facts import ActRecord, OutcomeCode
from hub.recovery.recovery_rates import learn_recovery_rates, prior_rates, recovered_share_bp, tallied_rates

DAY = date(2026, 1, 5)
FRUITFUL = OutcomeCode.GARNISHMENT_FRUITFUL
EMPTY = OutcomeCode.GARNISHMENT_EMPTY
BALANCE = 100_000  # 1,000 EUR owed at the time of each report


def reports(
    office: str | None, full: int, empty: int, code: str = "BANK_GARNISHMENT"
) -> list[tuple[ActRecord, int]]:
    """``full`` reports that brought back the whole balance, ``empty`` that brought nothing."""
    won = ActRecord(act_code=code, on=DAY, outcome=FRUITFUL, office=office, seized_cents=BALANCE)
    lost = ActRecord(act_code=code, on=DAY, outcome=EMPTY, office=office)
    return [(won, BALANCE)] * full + [(lost, BALANCE)] * empty


def test_without_reports_the_prior_is_used() -> None:
    rate = prior_rates().rate("BANK_GARNISHMENT", "ETUDE-75")
    assert rate.value == Fraction(3, 20)  # assumptions.toml: 1500 bp of the balance
    assert rate.basis == "prior"
    assert rate.sample_size == 0
    assert "prior" in rate.describe()


def test_an_act_that_collects_nothing_is_expected_to_bring_nothing() -> None:
    assert prior_rates().rate("SERVE_TITLE").value == 0


def test_a_report_counts_by_the_share_of_the_balance_it_brought_back() -> None:
    half = ActRecord(
        act_code="BANK_GARNISHMENT", on=DAY, outcome=FRUITFUL, seized_cents=300, collected_cents=200
    )
    assert recovered_share_bp(half, 1_000) == 5_000
    # Never more than the whole balance; nothing owed teaches nothing.
    assert recovered_share_bp(half, 100) == 10_000
    assert recovered_share_bp(half, 0) == 0


def test_serving_in_person_is_not_a_success() -> None:
    served = ActRecord(act_code="BANK_GARNISHMENT", on=DAY, outcome=OutcomeCode.SERVED_IN_PERSON)
    rates = learn_recovery_rates([(served, BALANCE)] * 30)
    assert rates.overall["BANK_GARNISHMENT"].recovered_bp == 0
    assert rates.rate("BANK_GARNISHMENT").value < prior_rates().rate("BANK_GARNISHMENT").value


def test_the_overall_share_is_smoothed_by_the_prior() -> None:
    # (3 whole balances + 0.15 x 20 pseudo-reports) / (10 + 20) = 6/30
    rate = learn_recovery_rates(reports("A", 3, 7)).rate("BANK_GARNISHMENT")
    assert rate.value == Fraction(6, 30)
    assert rate.basis == "overall"
    assert rate.sample_size == 10


def test_an_office_share_is_shrunk_toward_the_network_share() -> None:
    rates = learn_recovery_rates(reports("A", 8, 2) + reports("B", 2, 8))
    network = Fraction(10 + 3, 20 + 20)
    office_a = rates.rate("BANK_GARNISHMENT", "A")
    assert office_a.basis == "office"
    assert office_a.value == (8 + network * 10) / (10 + 10)
    assert office_a.sample_size == 10
    assert "office A: 10 of its reports brought back 80.0 %" in office_a.describe()
    assert rates.rate("BANK_GARNISHMENT", "B").value < network < office_a.value
    # An office with no report of its own is judged by the network.
    assert rates.rate("BANK_GARNISHMENT", "C").value == network


def test_unreported_acts_do_not_count_and_any_money_counts() -> None:
    history = [
        (ActRecord(act_code="SEIZURE_SALE", on=DAY, outcome=None, office="A", collected_cents=9), BALANCE),
        (
            ActRecord(
                act_code="SEIZURE_SALE", on=DAY, outcome=OutcomeCode.REFUSED_OTHER, collected_cents=5_000
            ),
            BALANCE,
        ),
        (ActRecord(act_code="SEIZURE_SALE", on=DAY, outcome=OutcomeCode.NO_SEIZABLE_GOODS), BALANCE),
    ]
    rates = learn_recovery_rates(history)
    assert rates.overall["SEIZURE_SALE"].reports == 2
    assert rates.overall["SEIZURE_SALE"].recovered_bp == 500


def test_stored_tallies_give_the_same_figures_as_the_reports() -> None:
    learned = learn_recovery_rates(reports("A", 8, 2) + reports("B", 2, 8))
    tallied = tallied_rates([("BANK_GARNISHMENT", "A", 10, 80_000), ("BANK_GARNISHMENT", "B", 10, 20_000)])
    for office in ("A", "B", "C", None):
        assert tallied.rate("BANK_GARNISHMENT", office) == learned.rate("BANK_GARNISHMENT", office)


def test_a_thousand_reports_outweigh_the_prior() -> None:
    rate = learn_recovery_rates(reports(None, 900, 100)).rate("BANK_GARNISHMENT")
    assert abs(rate.value - Fraction(9, 10)) < Fraction(2, 100)


@given(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50), st.integers(0, 50))
def test_shares_stay_within_bounds_and_money_never_lowers_them(full: int, empty: int, a: int, b: int) -> None:
    base = learn_recovery_rates(reports("A", full, empty) + reports("B", a, b))
    more = learn_recovery_rates(reports("A", full + 1, empty) + reports("B", a, b))
    for office in ("A", "B", None):
        value = base.rate("BANK_GARNISHMENT", office).value
        assert isinstance(value, Fraction)
        assert 0 <= value <= 1
        assert more.rate("BANK_GARNISHMENT", office).value >= value
