"""The regulated tariff: figures from DOMAIN.md per period, bracket edges, rounding, VAT base, and the
data file's checks."""

from __future__ import annotations

import dataclasses
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.tariff.catalogue import (
    CATALOGUE_FILE,
    ActCost,
    InvalidClaim,
    NoTariffInForce,
    UnknownAct,
    act_cost,
    claim_coefficient,
    engagement_fee_cents,
    load_catalogue,
    read_catalogue,
)
from hub.tariff.data import MalformedTariffData

PACKAGED = Path(__file__).parents[3] / "hub" / "tariff" / CATALOGUE_FILE
IN_FORCE = date(2025, 6, 2)  # the 2024-03 period, before the wage-garnishment reform
REQUIRED_ACTS = {
    "SERVE_TITLE",
    "SUMMONS",
    "PAYMENT_ORDER",
    "BANK_GARNISHMENT",
    "GARNISHMENT_NOTICE",
    "WAGE_GARNISHMENT_REQUEST",
    "SEIZURE_SALE",
    "VEHICLE_IMMOBILISATION",
    "INFO_SEARCH",
    "ADDRESS_UNKNOWN_REPORT",
    "NO_GOODS_REPORT",
    "ATTEMPTED_EXECUTION",
    "RELEASE",
}
# DOMAIN.md: no published figure for these, or a 2020-22 figure carried unconfirmed for 2024, so
# the data must flag them.
UNCONFIRMED_ACTS = {
    "BANK_GARNISHMENT",
    "SEIZURE_SALE",
    "NO_GOODS_REPORT",
    "VEHICLE_IMMOBILISATION",
    "GARNISHMENT_NOTICE",
    "ADDRESS_UNKNOWN_REPORT",
    "ATTEMPTED_EXECUTION",
}


def packaged_text() -> str:
    return PACKAGED.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalogue.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the claim coefficient ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim_cents", "factor"),
    [
        (0, Fraction(1, 2)),
        (12799, Fraction(1, 2)),  # 127.99
        (12800, Fraction(1, 2)),  # 128.00: "up to 128" includes 128
        (12801, Fraction(1)),  # 128.01
        (127999, Fraction(1)),  # 1,279.99
        (128000, Fraction(1)),  # 1,280.00: "2 above 1,280" excludes 1,280
        (128001, Fraction(2)),  # 1,280.01
        (10**10, Fraction(2)),
    ],
)
def test_claim_coefficient_brackets_have_inclusive_upper_bounds(claim_cents: int, factor: Fraction) -> None:
    assert claim_coefficient(claim_cents) == factor
    assert claim_coefficient(claim_cents, IN_FORCE) == factor


def test_exclusive_upper_bounds_are_honoured_when_the_data_says_so(tmp_path: Path) -> None:
    text = packaged_text().replace('upper_bound = "inclusive"', 'upper_bound = "exclusive"')
    catalogue = read_catalogue(write(tmp_path, text))
    assert claim_coefficient(12799, catalogue=catalogue) == Fraction(1, 2)
    assert claim_coefficient(12800, catalogue=catalogue) == Fraction(1)
    assert claim_coefficient(128000, catalogue=catalogue) == Fraction(2)


# --- the droit d'engagement des poursuites -----------------------------------------------------


@pytest.mark.parametrize(
    ("claim_cents", "fee_cents"),
    [
        (0, 429),  # flat
        (7600, 429),  # 76.00: still flat (76 x 5.66 % would be 4.30)
        (7601, 430),  # 76.01 x 5.66 % = 4.302
        (30400, 1721),  # 304 x 5.66 % = 17.2064
        (30500, 1723),  # 17.2064 + 1 x 2.83 % = 17.2347
        (91200, 3441),  # 17.2064 + 608 x 2.83 % = 34.4128
        (91300, 3443),  # 34.4128 + 1 x 1.41 % = 34.4269
        (304000, 6442),  # 34.4128 + 2,128 x 1.41 % = 64.4176
        (304100, 6442),  # 64.4176 + 1 x 0.28 % = 64.4204
        (7_500_000, 26591),  # 64.4176 + 71,960 x 0.28 % = 265.9056
        (8_000_000, 26813),  # 266.3176 before the cap of 268.13
        (10**12, 26813),
    ],
)
def test_engagement_fee_is_marginal_by_bracket_with_flat_minimum_and_cap(
    claim_cents: int, fee_cents: int
) -> None:
    assert engagement_fee_cents(claim_cents, IN_FORCE) == fee_cents


def test_engagement_fee_is_charged_only_by_acts_that_engage_enforcement() -> None:
    assert act_cost("PAYMENT_ORDER", 150000, IN_FORCE).engagement_fee_cents == 4270
    assert act_cost("SERVE_TITLE", 150000, IN_FORCE).engagement_fee_cents == 0
    assert act_cost("SEIZURE_SALE", 150000, IN_FORCE).engagement_fee_cents == 0


def test_engagement_fee_is_not_charged_twice() -> None:
    cost = act_cost("BANK_GARNISHMENT", 150000, IN_FORCE, engagement_fee_already_charged=True)
    assert cost.engagement_fee_cents == 0
    assert "already charged" in cost.explain()


# --- emoluments, VAT, totals ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("act_code", "emolument_cents", "confirmed"),
    [
        ("SERVE_TITLE", 2579, True),
        ("PAYMENT_ORDER", 2042, True),
        ("SUMMONS", 1828, True),
        ("INFO_SEARCH", 2150, True),
        ("RELEASE", 2043, True),
        ("WAGE_GARNISHMENT_REQUEST", 3009, True),  # no. 153, the court request before 1 Jul 2025
        # 2020-22 figures carried into 2024, unconfirmed (DOMAIN.md): PV 659 is 14.89, not 14.90.
        ("GARNISHMENT_NOTICE", 3298, False),
        ("ADDRESS_UNKNOWN_REPORT", 1489, False),
        ("ATTEMPTED_EXECUTION", 2022, False),
    ],
)
def test_emoluments_from_domain_at_coefficient_one(
    act_code: str, emolument_cents: int, confirmed: bool
) -> None:
    cost = act_cost(act_code, 50000, IN_FORCE)
    assert cost.emolument_cents == emolument_cents
    [emolument] = [line for line in cost.lines if line.kind == "emolument"]
    assert emolument.confirmed is confirmed


@pytest.mark.parametrize("claim_cents", [100, 50000, 500000, 10**9])
def test_pv_659_is_not_multiplied_by_the_coefficient(claim_cents: int) -> None:
    assert act_cost("ADDRESS_UNKNOWN_REPORT", claim_cents, IN_FORCE).emolument_cents == 1489


@pytest.mark.parametrize(
    ("claim_cents", "emolument_cents"),
    [(10000, 1290), (50000, 2579), (150000, 5158)],  # 12.895 rounds half up to 12.90
)
def test_coefficient_scales_the_emolument_rounding_half_up(claim_cents: int, emolument_cents: int) -> None:
    assert act_cost("SERVE_TITLE", claim_cents, IN_FORCE).emolument_cents == emolument_cents


def test_vat_is_20_percent_of_emoluments_proportional_fees_and_flat_disbursements() -> None:
    # Emolument 20.42 x 2 = 40.84; DEP on 1,500 = 42.70; travel 7.67 (flat, in the VAT base);
    # VAT 20 % of 91.21 = 18.242 -> 18.24.
    payment_order = act_cost("PAYMENT_ORDER", 150000, IN_FORCE)
    assert (payment_order.emolument_cents, payment_order.engagement_fee_cents) == (4084, 4270)
    assert (payment_order.disbursements_cents, payment_order.vat_cents) == (767, 1824)
    assert payment_order.total_cents == 4084 + 4270 + 767 + 1824
    # Release at coefficient 1: 20.43 + electronic service 8.80, VAT 20 % of 29.23 = 5.846 -> 5.85.
    release = act_cost("RELEASE", 50000, IN_FORCE)
    assert (release.emolument_cents, release.disbursements_cents, release.vat_cents) == (2043, 880, 585)
    assert release.total_cents == 2043 + 880 + 585
    assert "in the VAT base" in release.explain()


def test_a_pass_through_disbursement_stays_outside_the_vat_base(tmp_path: Path) -> None:
    text = packaged_text().replace("cents = 880\nvat_base = true", "cents = 880\nvat_base = false")
    release = act_cost("RELEASE", 50000, IN_FORCE, catalogue=read_catalogue(write(tmp_path, text)))
    # VAT 20 % of 20.43 only = 4.086 -> 4.09; the 8.80 passes through.
    assert (release.disbursements_cents, release.vat_cents, release.total_cents) == (
        880,
        409,
        2043 + 880 + 409,
    )
    assert "outside the VAT base" in release.explain()


@pytest.mark.parametrize(
    "act_code",
    [
        "SERVE_TITLE",
        "SUMMONS",
        "PAYMENT_ORDER",
        "GARNISHMENT_NOTICE",
        "SEIZURE_SALE",
        "NO_GOODS_REPORT",
        "ATTEMPTED_EXECUTION",
    ],
)
def test_acts_served_or_drawn_carry_the_travel_flat_fee(act_code: str) -> None:
    cost = act_cost(act_code, 50000, IN_FORCE)
    [travel] = [line for line in cost.lines if line.kind == "disbursement"]
    assert (travel.amount_cents, travel.confirmed) == (767, False)  # 2017 figure, unconfirmed
    assert "Travel flat fee" in travel.explanation


def test_unconfirmed_figures_make_the_cost_provisional() -> None:
    cost = act_cost("BANK_GARNISHMENT", 50000, IN_FORCE)
    assert cost.provisional
    assert "Provisional" in cost.explain()


def test_explanation_uses_plain_words_and_the_french_term() -> None:
    text = act_cost("PAYMENT_ORDER", 5000, IN_FORCE).explain()
    assert "Commandement de payer aux fins de saisie-vente" in text
    assert "× 0.5 (claim up to 128.00 EUR)" in text
    assert "droit d'engagement des poursuites" in text
    assert "flat amount for a claim up to 76.00 EUR" in text
    # 10.21 + DEP 4.29 + travel 7.67 = 22.17, VAT 4.43: 26.60.
    assert "Total: 26.60 EUR (tariff 2024-03, 2024-03-01 to 2025-06-30)." in text


# --- errors --------------------------------------------------------------------------------------


def test_a_date_before_any_tariff_period_has_no_tariff_in_force() -> None:
    with pytest.raises(NoTariffInForce, match=r"2024-02-29.*2024-03-01 to 2025-06-30") as caught:
        act_cost("SERVE_TITLE", 50000, date(2024, 2, 29))
    assert (caught.value.status, caught.value.code) == (422, "no_tariff_in_force")


def test_an_unknown_act_code_is_refused_with_the_known_codes() -> None:
    with pytest.raises(UnknownAct, match=r"'SERVE_TITEL'.*SERVE_TITLE") as caught:
        act_cost("SERVE_TITEL", 50000, IN_FORCE)
    assert (caught.value.status, caught.value.code) == (422, "unknown_act")
    with pytest.raises(UnknownAct):
        load_catalogue().act("NOPE")


def test_a_claim_must_be_non_negative_integer_cents() -> None:
    with pytest.raises(InvalidClaim):
        act_cost("SERVE_TITLE", -1, IN_FORCE)
    with pytest.raises(TypeError, match="integer cents"):
        act_cost("SERVE_TITLE", 128.0, IN_FORCE)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        engagement_fee_cents(True)


# --- periods -------------------------------------------------------------------------------------


def two_period_text() -> str:
    """The packaged catalogue, its open 2025-07 period closed, and a successor with a new SERVE_TITLE."""
    text = packaged_text()
    head, first, last = text.split("\n[[periods]]\n")
    closed = last.replace("valid_from = 2025-07-01", "valid_from = 2025-07-01\nvalid_to = 2026-02-28", 1)
    successor = (
        last.replace('name = "2025-07"', 'name = "2026-03"', 1)
        .replace("valid_from = 2025-07-01", "valid_from = 2026-03-01", 1)
        .replace("emolument_cents = 2579", "emolument_cents = 2700", 1)
    )
    return f"{head}\n[[periods]]\n{first}\n[[periods]]\n{closed}\n[[periods]]\n{successor}"


def test_each_act_is_priced_under_the_period_in_force_on_its_date(tmp_path: Path) -> None:
    catalogue = read_catalogue(write(tmp_path, two_period_text()))
    last_day = act_cost("SERVE_TITLE", 50000, date(2026, 2, 28), catalogue=catalogue)
    first_day = act_cost("SERVE_TITLE", 50000, date(2026, 3, 1), catalogue=catalogue)
    assert (last_day.tariff_version, last_day.emolument_cents) == ("2025-07", 2579)
    assert (first_day.tariff_version, first_day.emolument_cents) == ("2026-03", 2700)
    assert catalogue.latest_period().name == "2026-03"


def test_a_gap_between_periods_is_refused_at_load(tmp_path: Path) -> None:
    text = two_period_text().replace("valid_from = 2026-03-01", "valid_from = 2026-04-01")
    with pytest.raises(
        MalformedTariffData, match=r"gap: 2025-07 ends on 2026-02-28, 2026-03 starts on 2026-04-01"
    ):
        read_catalogue(write(tmp_path, text))


# --- the packaged data file ----------------------------------------------------------------------


def test_the_packaged_catalogue_is_well_formed_and_complete() -> None:
    catalogue = load_catalogue()
    assert load_catalogue() is catalogue  # read once
    assert set(catalogue.acts) >= REQUIRED_ACTS
    current = catalogue.period_on(IN_FORCE)
    assert (current.name, current.valid_from, current.valid_to) == (
        "2024-03",
        date(2024, 3, 1),
        date(2025, 6, 30),
    )
    latest = catalogue.latest_period()
    assert (latest.name, latest.valid_from, latest.valid_to) == ("2025-07", date(2025, 7, 1), None)
    assert current.vat_rate_bp == 2000
    for code in REQUIRED_ACTS:
        act = catalogue.act(code)
        assert act.name_fr and act.label_en
        assert current.fee(code).source


def test_unconfirmed_figures_are_flagged_in_the_data() -> None:
    current = load_catalogue().period_on(IN_FORCE)
    unconfirmed = {code for code, fee in current.fees.items() if not fee.all_confirmed}
    assert unconfirmed == UNCONFIRMED_ACTS
    for code in unconfirmed:
        assert all("UNCONFIRMED" in item.source for item in current.fees[code].priced_items())
    assert current.collection_fee.confirmed and current.recovery_fee.confirmed
    assert current.collection_fee.cap_cents == 554000
    assert current.recovery_fee.cap_cents == 55000
    assert {"2024-03.fees.SEIZURE_SALE", "2024-03.disbursements.TRAVEL"} <= set(
        load_catalogue().unconfirmed_figures()
    )


def test_the_nature_of_acts_is_data() -> None:
    catalogue = load_catalogue()
    current = catalogue.period_on(IN_FORCE)
    assert {c for c, a in catalogue.acts.items() if a.collects} == {
        "BANK_GARNISHMENT",
        "WAGE_GARNISHMENT_REQUEST",
        "SEIZURE_SALE",
    }
    assert not current.fee("ADDRESS_UNKNOWN_REPORT").coefficient_applies
    assert current.fee("PAYMENT_ORDER").bears_engagement_fee
    assert catalogue.act("BANK_GARNISHMENT").coercive
    assert not catalogue.act("SERVE_TITLE").coercive


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (
            "emolument_cents = 2579",
            "emolument_cents = 25.79",
            r"periods\.0\.fees\.SERVE_TITLE\.emolument_cents: write amounts as integer cents",
        ),
        ('label_en = "Summons to appear in court"\n', "", r"acts\.SUMMONS\.label_en: Field required"),
        ("emolument_cents = 1828\n", "", r"periods\.0\.fees\.SUMMONS: missing emolument_cents"),
        ("vat_base = true\n", "", r"periods\.0\.disbursements\.TRAVEL\.vat_base: Field required"),
        ("cap_cents = 26813", 'cap_cents = "26813"', r"engagement_fee\.cap_cents"),
        ("coercive = false", "coercive = 0", r"acts\.SERVE_TITLE\.coercive"),
        ("[periods.fees.RELEASE]", "[periods.fees.RELEAS]", r"no fee for acts \['RELEASE'\]"),
        ('disbursements = ["ELECTRONIC_SERVICE"]', 'disbursements = ["COURIER"]', r"undefined.*COURIER"),
        ("{ rate_bp = 28 },", "{ up_to_cents = 900000, rate_bp = 28 },", r"last bracket must have no up_to"),
        ("flat_cents = 429", "flat_cents = 500", r"flat_cents exceeds the proportional fee"),
        (
            "maintenance_rate_factor = 2",
            "maintenance_rate_factor = 0",
            r"recovery_fee\.maintenance_rate_factor",
        ),
        ("valid_from = 2024-03-01", 'valid_from = "2024-03-01"', r"periods\.0\.valid_from"),
        ("confirmed = false\n", "", r"confirmed: Field required"),
    ],
)
def test_a_malformed_file_is_refused_with_the_path_of_the_fault(
    tmp_path: Path, before: str, after: str, expected: str
) -> None:
    text = packaged_text()
    assert before in text
    with pytest.raises(MalformedTariffData, match=expected) as caught:
        read_catalogue(write(tmp_path, text.replace(before, after, 1)))
    assert caught.value.status == 500
    assert caught.value.detail.startswith(str(tmp_path))


def test_overlapping_periods_are_refused(tmp_path: Path) -> None:
    text = two_period_text().replace("valid_to = 2026-02-28", "valid_to = 2026-03-01")
    with pytest.raises(MalformedTariffData, match=r"2025-07 .* must end before 2026-03"):
        read_catalogue(write(tmp_path, text))


def test_unreadable_or_invalid_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MalformedTariffData, match="not valid TOML"):
        read_catalogue(write(tmp_path, "version = \n"))
    with pytest.raises(MalformedTariffData, match="cannot be read"):
        read_catalogue(tmp_path / "absent.toml")


# --- invariants ----------------------------------------------------------------------------------

acts = st.sampled_from(sorted(REQUIRED_ACTS))
claims = st.integers(min_value=0, max_value=10**11)
dates = st.dates(min_value=date(2024, 3, 1), max_value=date(2040, 12, 31))
MONEY_FIELDS = [f.name for f in dataclasses.fields(ActCost) if f.name.endswith("_cents")]


@given(act=acts, a=claims, b=claims, on=dates, charged=st.booleans())
def test_cost_never_decreases_as_the_claim_grows(act: str, a: int, b: int, on: date, charged: bool) -> None:
    low, high = sorted((a, b))
    cheap = act_cost(act, low, on, engagement_fee_already_charged=charged)
    dear = act_cost(act, high, on, engagement_fee_already_charged=charged)
    for name in MONEY_FIELDS:
        assert getattr(cheap, name) <= getattr(dear, name), name


@given(act=acts, claim=claims, on=dates, charged=st.booleans())
def test_total_is_the_sum_of_its_parts_in_integer_cents(
    act: str, claim: int, on: date, charged: bool
) -> None:
    cost = act_cost(act, claim, on, engagement_fee_already_charged=charged)
    for name in MONEY_FIELDS:
        assert type(getattr(cost, name)) is int, name
    assert all(type(line.amount_cents) is int for line in cost.lines)
    parts = cost.emolument_cents + cost.engagement_fee_cents + cost.disbursements_cents + cost.vat_cents
    assert cost.total_cents == parts == sum(line.amount_cents for line in cost.lines)
    assert cost.excl_vat_cents + cost.vat_cents == cost.total_cents
    # VAT is 20 % of emoluments, proportional fees and flat disbursements, to the nearest cent.
    vat_base = cost.emolument_cents + cost.engagement_fee_cents + cost.disbursements_cents
    assert abs(5 * cost.vat_cents - vat_base) <= 2
