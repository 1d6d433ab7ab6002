"""The cost flag on the creditor's economics: the issue's clear-cut cases, known assets and their age,
the evidence of insolvency fading, each term of the creditor's net."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from fractions import Fraction

import pytest

from hub.recovery.facts import ClaimKind, DebtorKind, Evidence, OutcomeCode
from hub.recovery.plausibility import Assessment, assess
from hub.recovery.recovery_rates import prior_rates
from hub.tariff.catalogue import act_cost
from tests.hub.recovery.cases import ON, act, case

EUR = 100
SEEN = date(2026, 2, 20)  # ten days before ON: fresh evidence


def codes(assessment: Assessment) -> list[str]:
    return [reason.code for reason in assessment.reasons]


def path_cost(*acts: str, owed: int) -> int:
    return sum(act_cost(code, owed, ON).total_cents for code in acts)


# --- the clear-cut cases of issue 12 --------------------------------------------------------------


def test_a_300_eur_claim_on_a_known_account_of_5000_is_not_flagged() -> None:
    facts = case(
        owed_cents=300 * EUR, evidence=Evidence(bank_balance_cents=5_000 * EUR, bank_balance_seen_on=SEEN)
    )
    result = assess(facts, "BANK_GARNISHMENT", ON)
    cost = path_cost("BANK_GARNISHMENT", "GARNISHMENT_NOTICE", owed=300 * EUR)
    assert not result.flagged
    # The garnishment catches the claim and its costs: the costs fall on the debtor.
    assert result.expected_recovery_cents == 300 * EUR + cost
    net = result.explanation.economics
    assert net.to_creditor_cents == 300 * EUR
    assert net.uncovered_cost_cents == 0
    assert result.expected_net_cents == 300 * EUR - net.collection_fee_cents - net.unreclaimable_vat_cents
    # The known balance is not discounted a second time by a learned rate.
    assert result.explanation.recovery_rate is None
    assert "KNOWN_BANK_BALANCE" in codes(result)


def test_a_50000_eur_claim_with_nothing_known_expects_only_the_learned_share() -> None:
    result = assess(case(owed_cents=50_000 * EUR), "BANK_GARNISHMENT", ON)
    share = prior_rates().rate("BANK_GARNISHMENT").value
    assert result.expected_recovery_cents == int(50_000 * EUR * share)
    assert result.expected_recovery_cents < 20_000 * EUR


def test_a_large_claim_with_a_recent_pv_de_carence_and_nothing_known_is_flagged() -> None:
    facts = case(owed_cents=50_000 * EUR, evidence=Evidence(last_no_goods_report_on=date(2026, 2, 14)))
    result = assess(facts, "SEIZURE_SALE", ON)
    assert result.flagged
    assert result.expected_net_cents < 0
    assert result.reasons[0].code == "CREDITOR_LOSES"
    message = next(r.message for r in result.reasons if r.code == "NO_GOODS_REPORT")
    assert "'PV de carence' on 2026-02-14 found no seizable goods" in message


def test_a_20_eur_balance_and_a_seizure_and_sale_is_flagged() -> None:
    result = assess(case(owed_cents=20 * EUR), "SEIZURE_SALE", ON)
    assert result.flagged
    assert any("at most the 20.00 EUR owed" in line for line in result.explanation.lines())


# --- the creditor's net, term by term -------------------------------------------------------------


def test_the_terms_add_up_to_the_net_and_each_is_explained() -> None:
    facts = case(
        owed_cents=2_000 * EUR, evidence=Evidence(bank_balance_cents=900 * EUR, bank_balance_seen_on=SEEN)
    )
    result = assess(facts, "BANK_GARNISHMENT", ON)
    net = result.explanation.economics
    assert sum(term.cents for term in net.terms) == net.net_cents == result.expected_net_cents
    assert [t.code for t in net.terms] == [
        "MONEY_TO_CREDITOR",
        "UNCOVERED_COSTS",
        "COLLECTION_FEE",
        "VAT_BORNE",
    ]
    lines = result.explanation.lines()
    assert any("expected net to the creditor" in line for line in lines)
    assert any(line.startswith("Figure used: tariff 2025-07 (2025-07-01") for line in lines)
    assert any(
        line.startswith(
            "Figure used: unseizable bank minimum 646.52 EUR (the single-person RSA), period 2025-04"
        )
        for line in lines
    )


def test_when_too_little_is_recovered_the_creditor_bears_the_rest_of_the_costs() -> None:
    # 700 EUR on the account, 646.52 left to the debtor (the RSA since 1 Apr 2025, DOMAIN.md):
    # 53.48 caught, less than the costs.
    facts = case(
        owed_cents=2_000 * EUR, evidence=Evidence(bank_balance_cents=700 * EUR, bank_balance_seen_on=SEEN)
    )
    result = assess(facts, "BANK_GARNISHMENT", ON)
    net = result.explanation.economics
    assert result.expected_recovery_cents == 5_348
    assert net.to_creditor_cents == 0
    assert net.collection_fee_cents == 0
    assert net.covered_cost_cents == 5_348
    assert net.uncovered_cost_cents + net.unreclaimable_vat_cents == result.cost_cents - 5_348
    assert result.flagged


def test_a_creditor_that_reclaims_vat_bears_none() -> None:
    facts = case(
        owed_cents=2_000 * EUR, evidence=Evidence(bank_balance_cents=700 * EUR, bank_balance_seen_on=SEEN)
    )
    bank = assess(facts, "BANK_GARNISHMENT", ON)
    reclaims = assess(replace(facts, creditor_reclaims_vat=True), "BANK_GARNISHMENT", ON)
    assert bank.explanation.economics.unreclaimable_vat_cents > 0
    assert reclaims.explanation.economics.unreclaimable_vat_cents == 0
    assert reclaims.expected_net_cents > bank.expected_net_cents


@pytest.mark.parametrize("kind", [ClaimKind.WAGE, ClaimKind.MAINTENANCE])
def test_no_collection_fee_on_wage_or_maintenance_claims(kind: ClaimKind) -> None:
    evidence = Evidence(bank_balance_cents=5_000 * EUR, bank_balance_seen_on=SEEN)
    consumer = assess(case(owed_cents=1_000 * EUR, evidence=evidence), "BANK_GARNISHMENT", ON)
    other = assess(case(owed_cents=1_000 * EUR, evidence=evidence, claim_kind=kind), "BANK_GARNISHMENT", ON)
    assert consumer.explanation.economics.collection_fee_cents > 0
    assert other.explanation.economics.collection_fee_cents == 0
    assert "not due on a" in other.explanation.economics.terms[2].explanation


def test_the_engagement_fee_is_deducted_from_the_collection_fee() -> None:
    evidence = Evidence(bank_balance_cents=5_000 * EUR, bank_balance_seen_on=SEEN)
    result = assess(case(owed_cents=1_000 * EUR, evidence=evidence), "BANK_GARNISHMENT", ON)
    fee_line = result.explanation.economics.terms[2].explanation
    dep = result.explanation.costs[0].engagement_fee_cents
    assert dep > 0
    assert (
        f"engagement fee (DEP) of {dep // 100}.{dep % 100:02d} EUR already charged on this claim" in fee_line
    )
    # The figure is named with its period and source.
    used = [line for line in result.explanation.lines() if line.startswith("Figure used: Collection fee")]
    assert len(used) == 1 and "period 2025-07 (2025-07-01 to open end), source: " in used[0]


# --- known assets, and how their evidence ages ----------------------------------------------------


@pytest.mark.parametrize(
    ("label", "evidence", "kind", "caught"),
    [
        (
            "a person keeps the unseizable minimum",
            Evidence(bank_balance_cents=100_000),
            DebtorKind.PERSON,
            35_348,  # 1,000 less the RSA of 646.52 in force since 1 Apr 2025 (DOMAIN.md)
        ),
        (
            "pending debits are taken off",
            Evidence(bank_balance_cents=100_000, pending_debits_cents=20_000),
            DebtorKind.PERSON,
            15_348,
        ),
        ("a company keeps nothing", Evidence(bank_balance_cents=100_000), DebtorKind.COMPANY, 100_000),
        ("under the minimum nothing is caught", Evidence(bank_balance_cents=60_000), DebtorKind.PERSON, 0),
    ],
)
def test_what_a_known_account_yields(label: str, evidence: Evidence, kind: DebtorKind, caught: int) -> None:
    facts = case(
        owed_cents=10_000 * EUR, evidence=replace(evidence, bank_balance_seen_on=SEEN), debtor_kind=kind
    )
    known = assess(facts, "BANK_GARNISHMENT", ON).explanation.known_asset
    assert known is not None
    assert known.yield_cents == caught, label
    assert known.weight == 1


def test_goods_and_a_vehicle_net_out_the_auction_discount_and_the_sale_costs() -> None:
    goods = Evidence(seizable_goods_value_cents=10_000 * EUR, goods_valued_on=SEEN)
    vehicle = Evidence(vehicle_value_cents=10_000 * EUR, vehicle_valued_on=SEEN)
    # 30 % at auction, less 20 % of sale costs.
    sale = assess(case(evidence=goods), "SEIZURE_SALE", ON).explanation.known_asset
    immobilised = assess(case(evidence=vehicle), "VEHICLE_IMMOBILISATION", ON)
    assert sale is not None and sale.yield_cents == 2_400 * EUR
    assert immobilised.explanation.known_asset is not None
    assert immobilised.explanation.known_asset.yield_cents == 2_400 * EUR
    # The immobilisation is itself the seizure: no second seizure report is priced in.
    assert immobilised.explanation.path == ("VEHICLE_IMMOBILISATION",)


def test_a_known_pay_bounds_a_wage_garnishment() -> None:
    facts = case(evidence=Evidence(monthly_net_income_cents=200_000, dependents=0, income_seen_on=SEEN))
    known = assess(facts, "WAGE_GARNISHMENT_REQUEST", ON).explanation.known_asset
    assert known is not None and known.yield_cents > 0 and "a month is seizable" in known.reason.message


@pytest.mark.parametrize(
    ("seen_on", "weight"),
    [
        (date(2026, 2, 2), Fraction(1)),  # one month: still in full
        (date(2025, 3, 2), Fraction(1, 4)),  # twelve months: stale
        (date(2020, 1, 1), Fraction(1, 4)),
        (None, Fraction(1, 2)),  # undated
    ],
)
def test_a_known_balance_counts_less_as_it_ages(seen_on: date | None, weight: Fraction) -> None:
    facts = case(evidence=Evidence(bank_balance_cents=2_000 * EUR, bank_balance_seen_on=seen_on))
    known = assess(facts, "BANK_GARNISHMENT", ON).explanation.known_asset
    assert known is not None and known.weight == weight


def test_an_old_balance_leans_on_what_is_learned_where_nothing_is_known() -> None:
    fresh = case(
        owed_cents=300 * EUR, evidence=Evidence(bank_balance_cents=5_000 * EUR, bank_balance_seen_on=SEEN)
    )
    stale = replace(fresh, evidence=replace(fresh.evidence, bank_balance_seen_on=date(2024, 1, 1)))
    assert (
        assess(stale, "BANK_GARNISHMENT", ON).expected_recovery_cents
        < assess(fresh, "BANK_GARNISHMENT", ON).expected_recovery_cents
    )
    assert assess(stale, "BANK_GARNISHMENT", ON).explanation.recovery_rate is not None


# --- evidence of insolvency fades smoothly --------------------------------------------------------


def _no_goods_factor(report_on: date) -> Fraction:
    result = assess(case(evidence=Evidence(last_no_goods_report_on=report_on)), "BANK_GARNISHMENT", ON)
    return next((e.factor for e in result.explanation.evidence if e.code == "NO_GOODS_REPORT"), Fraction(1))


def test_a_pv_de_carence_fades_without_a_cliff() -> None:
    fresh = _no_goods_factor(ON)
    a_year = _no_goods_factor(date(2025, 3, 2))
    almost_gone = _no_goods_factor(date(2024, 3, 3))
    assert fresh == Fraction(7, 10)
    assert fresh < a_year < almost_gone < 1
    assert a_year == Fraction(7, 10) + Fraction(3, 10) * Fraction(365, 730)  # half way through 24 months
    assert _no_goods_factor(date(2024, 3, 2)) == 1  # 24 months: no effect left
    assert 1 - almost_gone < Fraction(1, 1000)  # the day before, almost none: no cliff


def test_a_reported_failed_garnishment_lowers_an_unknown_account() -> None:
    acts = (
        act(
            "BANK_GARNISHMENT", date(2026, 1, 5), OutcomeCode.GARNISHMENT_EMPTY, reference="A-1", office="E1"
        ),
    )
    result = assess(case(acts=acts), "BANK_GARNISHMENT", ON)
    assert "FAILED_GARNISHMENT" in codes(result)
    assert "(act report A-1 of office E1)" in " ".join(r.message for r in result.reasons)


# --- acts nobody weighs against recovery ----------------------------------------------------------


@pytest.mark.parametrize("code", ["NO_GOODS_REPORT", "ADDRESS_UNKNOWN_REPORT", "ATTEMPTED_EXECUTION"])
def test_the_outcome_of_a_visit_is_never_flagged(code: str) -> None:
    result = assess(case(owed_cents=20 * EUR), code, ON)
    assert not result.flagged
    assert result.expected_net_cents < 0
    assert "OUTCOME_OF_A_VISIT" in codes(result)


def test_a_release_is_a_duty_never_flagged() -> None:
    result = assess(case(owed_cents=20 * EUR), "RELEASE", ON)
    assert not result.flagged and "LEGAL_DUTY" in codes(result)


def test_as_dict_is_json_without_floats() -> None:
    import json

    facts = case(evidence=Evidence(bank_balance_cents=2_000 * EUR))
    data = assess(facts, "BANK_GARNISHMENT", ON).as_dict()
    text = json.dumps(data)
    assert "." not in json.dumps([v for v in data.values() if isinstance(v, int | float)])
    assert data["explanation"]["economics"]["net_cents"] == data["expected_net_cents"]
    assert "figures" in data["explanation"] and text
