"""Acts that collect nothing themselves, learned expected recovery and the explanation."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from hub.recovery.facts import DebtorKind, Evidence, InvalidFacts, OutcomeCode
from hub.recovery.plausibility import Assessment, assess
from hub.recovery.recovery_rates import learn_recovery_rates
from hub.tariff.catalogue import UnknownAct
from tests.hub.recovery.cases import ON, act, case

EUR = 100
SMALL = 1_000 * EUR


def codes(assessment: Assessment) -> list[str]:
    return [reason.code for reason in assessment.reasons]


# --- acts that collect nothing themselves ----------------------------------------------------------


def test_serving_a_title_is_judged_with_the_best_path_it_opens() -> None:
    facts = case(
        evidence=Evidence(
            bank_balance_cents=300_000,
            bank_balance_seen_on=date(2026, 2, 2),
            last_no_goods_report_on=date(2026, 1, 5),
        )
    )
    result = assess(facts, "SERVE_TITLE", ON)
    # A fresh known balance of 3,000 beats the 25 % of 5,000 a wage garnishment is expected to bring.
    assert result.explanation.recovery_act == "BANK_GARNISHMENT"
    assert result.explanation.path == ("SERVE_TITLE", "BANK_GARNISHMENT", "GARNISHMENT_NOTICE")
    assert result.cost_cents == sum(c.total_cents for c in result.explanation.costs)
    assert "JUDGED_WITH_PATH" in codes(result)
    alternatives = {o.target_act: o for o in result.explanation.alternatives}
    # A two-month-old PV de carence leaves almost nothing to expect from the goods: 7.7 % of the
    # 250 EUR (5 % of the balance) a seizure-and-sale is otherwise expected to bring.
    assert alternatives["SEIZURE_SALE"].expected_recovery_cents == 1_917
    assert alternatives["WAGE_GARNISHMENT_REQUEST"].expected_recovery_cents == 125_000
    assert all(o.expected_net_cents <= result.expected_net_cents for o in alternatives.values())


def test_a_payment_order_opens_the_seizure_and_is_not_priced_twice() -> None:
    result = assess(case(owed_cents=20 * EUR), "PAYMENT_ORDER", ON)
    assert result.explanation.path == ("PAYMENT_ORDER", "SEIZURE_SALE")
    assert result.flagged


def test_an_information_search_on_a_company_with_nothing_known() -> None:
    result = assess(case(debtor_kind=DebtorKind.COMPANY), "INFO_SEARCH", ON)
    assert result.explanation.recovery_act == "BANK_GARNISHMENT"
    assert not result.flagged


@pytest.mark.parametrize(
    ("acts", "flagged", "recovery", "reason"),
    [
        ((), True, 0, "NOTHING_TO_SECURE"),
        (
            (
                act(
                    "BANK_GARNISHMENT",
                    date(2026, 2, 27),
                    OutcomeCode.GARNISHMENT_FRUITFUL,
                    seized_cents=50_000,
                ),
            ),
            False,
            50_000,
            "SECURES_SEIZED_MONEY",
        ),
        (
            (act("BANK_GARNISHMENT", date(2026, 2, 27), OutcomeCode.GARNISHMENT_EMPTY),),
            True,
            0,
            "SECURES_SEIZED_MONEY",
        ),
        ((act("BANK_GARNISHMENT", date(2026, 2, 27)),), False, 75_000, "SECURES_PENDING_ACT"),
    ],
)
def test_the_garnishment_notice_is_worth_what_the_garnishment_caught(
    acts: Any, flagged: bool, recovery: int, reason: str
) -> None:
    result = assess(case(acts=acts), "GARNISHMENT_NOTICE", ON)
    assert (result.flagged, result.expected_recovery_cents) == (flagged, recovery)
    assert reason in codes(result)
    assert result.explanation.path == ("GARNISHMENT_NOTICE",)


def test_a_release_is_a_duty_never_flagged() -> None:
    result = assess(case(), "RELEASE", ON)
    assert not result.flagged and result.cost_cents > 0 == result.expected_recovery_cents
    assert "LEGAL_DUTY" in codes(result)


# --- learned expected recovery, explanation, errors -----------------------------------------------


def test_an_office_record_moves_the_rate_and_the_explanation_names_its_sample() -> None:
    history = [
        (act("BANK_GARNISHMENT", date(2025, 6, 2), OutcomeCode.GARNISHMENT_EMPTY, office="ETUDE-13"), SMALL)
    ] * 40
    rates = learn_recovery_rates(history)
    facts = case(owed_cents=SMALL)
    by_network = assess(facts, "BANK_GARNISHMENT", ON, office="ETUDE-75", rates=rates)
    by_office = assess(facts, "BANK_GARNISHMENT", ON, office="ETUDE-13", rates=rates)
    assert by_office.expected_recovery_cents < by_network.expected_recovery_cents
    rate = by_office.explanation.recovery_rate
    assert rate is not None and rate.basis == "office" and rate.sample_size == 40
    assert "office ETUDE-13: 40 of its reports brought back 0.0 %" in "\n".join(by_office.explanation.lines())


def test_the_explanation_carries_costs_asset_share_terms_and_rule_version() -> None:
    result = assess(case(evidence=Evidence(bank_balance_cents=2_000_000)), "BANK_GARNISHMENT", ON)
    explanation = result.explanation
    assert "assumptions 2026.1" in explanation.rule_version
    assert "tariff 2025-07" in explanation.rule_version
    assert explanation.costs[0].lines
    text = "\n".join(explanation.lines())
    assert "Emolument for Bank account garnishment" in text
    assert "solde bancaire insaisissable" in text
    assert "Expected recovery 15.0 % of the balance" in text  # undated balance: half its weight
    assert "Money expected to reach the creditor" in text
    assert "Figure used: unseizable bank minimum" in text
    assert result.provisional  # the garnishment's emolument is an unconfirmed placeholder


def test_as_dict_is_json_without_floats() -> None:
    result = assess(case(evidence=Evidence(last_no_goods_report_on=date(2026, 2, 14))), "SERVE_TITLE", ON)
    data = result.as_dict()
    json.dumps(data)
    assert data["explanation"]["recovery_rate"]["value"] == "1/4"
    assert not any(isinstance(v, float) for v in _leaves(data))


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def test_unknown_act_and_foreign_currency_are_refused() -> None:
    with pytest.raises(UnknownAct):
        assess(case(), "TELEPATHY", ON)
    with pytest.raises(InvalidFacts):
        assess(case(currency="USD"), "BANK_GARNISHMENT", ON)


def test_a_payment_order_that_debtors_pay_after_is_judged_on_its_own_too() -> None:
    paid = act("PAYMENT_ORDER", date(2025, 6, 2), OutcomeCode.PAID_IN_FULL, collected_cents=SMALL)
    nothing = act("PAYMENT_ORDER", date(2025, 6, 2), OutcomeCode.SERVED_IN_PERSON)
    rates = learn_recovery_rates([(paid, SMALL)] * 30 + [(nothing, SMALL)] * 70)
    facts = case(owed_cents=SMALL, evidence=Evidence(last_no_goods_report_on=date(2026, 2, 14)))
    without = assess(facts, "PAYMENT_ORDER", ON)
    learned = assess(facts, "PAYMENT_ORDER", ON, rates=rates)
    assert without.flagged and "brings nothing back by itself: it is judged" in " ".join(
        r.message for r in without.reasons
    )
    # 30 of 100 past payment orders were paid in full: about 25 % expected (the prior weighs 20 reports).
    assert learned.explanation.path == ("PAYMENT_ORDER",)
    assert learned.expected_recovery_cents == SMALL * 30 // 120
    assert not learned.flagged and "BRINGS_MONEY_ITSELF" in codes(learned)
