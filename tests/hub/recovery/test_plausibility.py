"""Plausible recovery and the cost flag: the issue's clear-cut cases, a table of cases, invariants."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

import pytest

from hub.recovery.assumptions import load_assumptions
from hub.recovery.facts import DebtorKind, Evidence, OutcomeCode
from hub.recovery.plausibility import Assessment, assess
from hub.tariff.catalogue import act_cost
from tests.hub.recovery.cases import ON, act, case

EUR = 100


def codes(assessment: Assessment) -> list[str]:
    return [reason.code for reason in assessment.reasons]


# --- the clear-cut cases of issue 5 ---------------------------------------------------------------


def test_a_20_eur_balance_and_a_seizure_and_sale_is_flagged() -> None:
    result = assess(case(owed_cents=20 * EUR), "SEIZURE_SALE", ON)
    assert result.flagged
    assert result.plausible_recovery_cents <= 20 * EUR
    assert result.reasons[0].code == "COST_ABOVE_RECOVERY"
    assert "20.00 EUR" in " ".join(r.message for r in result.reasons)


def test_5000_owed_and_a_known_account_of_20000_with_a_bank_garnishment_is_not_flagged() -> None:
    facts = case(owed_cents=5_000 * EUR, evidence=Evidence(bank_balance_cents=20_000 * EUR))
    result = assess(facts, "BANK_GARNISHMENT", ON)
    assert not result.flagged
    assert result.reasons[0].code == "COST_WITHIN_RECOVERY"
    assert "BOUND_BY_BALANCE_OWED" in codes(result)
    # 5,000 owed x the 40 % prior success rate.
    assert result.plausible_recovery_cents == 2_000 * EUR


def test_a_recent_pv_de_carence_and_a_seizure_and_sale_is_flagged_naming_it() -> None:
    facts = case(owed_cents=50_000 * EUR, evidence=Evidence(last_no_goods_report_on=date(2026, 2, 14)))
    result = assess(facts, "SEIZURE_SALE", ON)
    assert result.flagged
    assert "RECENT_NO_GOODS_REPORT" in codes(result)
    message = next(r.message for r in result.reasons if r.code == "RECENT_NO_GOODS_REPORT")
    assert "'PV de carence' on 2026-02-14 found no seizable goods" in message


# --- cost: the act plus what it brings along -------------------------------------------------------


def test_a_bank_garnishment_is_priced_with_its_notice() -> None:
    result = assess(case(), "BANK_GARNISHMENT", ON)
    owed = 500_000
    expected = (
        act_cost("BANK_GARNISHMENT", owed, ON).total_cents
        + act_cost("GARNISHMENT_NOTICE", owed, ON).total_cents
    )
    assert result.explanation.path == ("BANK_GARNISHMENT", "GARNISHMENT_NOTICE")
    # DOMAIN.md, Fees: the electronic service (8.80) is in the VAT base and the notice carries the
    # travel flat fee (7.67): 303.84 before, 314.81 now.
    assert result.cost_cents == expected == 31_481
    assert "PRICED_WITH_REQUIRED_ACTS" in codes(result)


@pytest.mark.parametrize(
    ("order_on", "path"),
    [
        (None, ("PAYMENT_ORDER", "SEIZURE_SALE")),
        (date(2026, 2, 1), ("SEIZURE_SALE",)),
        (date(2024, 3, 2), ("SEIZURE_SALE",)),  # exactly 24 months: still on file
        (date(2024, 3, 1), ("PAYMENT_ORDER", "SEIZURE_SALE")),  # older: a new one is priced in
    ],
)
def test_a_seizure_and_sale_brings_a_payment_order_unless_one_is_on_file(
    order_on: date | None, path: tuple[str, ...]
) -> None:
    acts = () if order_on is None else (act("PAYMENT_ORDER", order_on, OutcomeCode.SERVED_AT_HOME),)
    assert assess(case(acts=acts), "SEIZURE_SALE", ON).explanation.path == path


def test_the_engagement_fee_is_charged_once_per_case() -> None:
    fresh = assess(case(), "BANK_GARNISHMENT", ON)
    after_order = assess(
        case(acts=(act("PAYMENT_ORDER", date(2026, 1, 5), OutcomeCode.SERVED_IN_PERSON),)),
        "BANK_GARNISHMENT",
        ON,
    )
    assert fresh.explanation.costs[0].engagement_fee_cents > 0
    assert after_order.explanation.costs[0].engagement_fee_cents == 0
    assert after_order.cost_cents < fresh.cost_cents


# --- recovery: the asset bound, success rate and evidence ----------------------------------------

KNOWN_PAY = Evidence(monthly_net_income_cents=100_000, dependents=0)


@pytest.mark.parametrize(
    ("label", "facts", "act_code", "flagged", "recovery", "reason"),
    [
        (
            "known empty account",
            case(evidence=Evidence(bank_balance_cents=0)),
            "BANK_GARNISHMENT",
            True,
            0,
            "BOUND_BY_BANK_BALANCE",
        ),
        (
            "account under the protected balance",
            case(evidence=Evidence(bank_balance_cents=60_000)),
            "BANK_GARNISHMENT",
            True,
            0,
            "BOUND_BY_BANK_BALANCE",
        ),
        (
            "a company keeps no protected balance",
            case(debtor_kind=DebtorKind.COMPANY, evidence=Evidence(bank_balance_cents=60_000)),
            "BANK_GARNISHMENT",
            True,
            24_000,
            "BOUND_BY_BANK_BALANCE",
        ),
        (
            "unknown account: the balance owed bounds",
            case(),
            "BANK_GARNISHMENT",
            False,
            200_000,
            "ASSET_UNKNOWN",
        ),
        # 109.33 a month x 12 months = 1,311.96, x the 50 % prior.
        (
            "pay of 1,000 a month",
            case(evidence=KNOWN_PAY),
            "WAGE_GARNISHMENT_REQUEST",
            False,
            65_598,
            "BOUND_BY_SEIZABLE_PAY",
        ),
        (
            "pay under the protected floor",
            case(evidence=Evidence(monthly_net_income_cents=60_000)),
            "WAGE_GARNISHMENT_REQUEST",
            True,
            0,
            "BOUND_BY_SEIZABLE_PAY",
        ),
        (
            "a company earns no wages",
            case(debtor_kind=DebtorKind.COMPANY),
            "WAGE_GARNISHMENT_REQUEST",
            True,
            0,
            "BOUND_BY_SEIZABLE_PAY",
        ),
        # Goods worth 100 fetch 30 at auction, x the 25 % prior.
        (
            "goods worth 100 EUR",
            case(evidence=Evidence(seizable_goods_value_cents=10_000)),
            "SEIZURE_SALE",
            True,
            750,
            "BOUND_BY_AUCTION_VALUE",
        ),
        (
            "goods worth 20,000 EUR",
            case(evidence=Evidence(seizable_goods_value_cents=2_000_000)),
            "SEIZURE_SALE",
            False,
            125_000,
            "BOUND_BY_BALANCE_OWED",
        ),
        (
            "nothing owed",
            case(owed_cents=1_000, paid_cents=1_000),
            "BANK_GARNISHMENT",
            True,
            0,
            "ASSET_UNKNOWN",
        ),
    ],
)
def test_recovery_table(
    label: str, facts: Any, act_code: str, flagged: bool, recovery: int, reason: str
) -> None:
    result = assess(facts, act_code, ON)
    assert (result.flagged, result.plausible_recovery_cents) == (flagged, recovery), label
    assert reason in codes(result), label


def test_unknown_is_not_zero() -> None:
    unknown = assess(case(), "BANK_GARNISHMENT", ON)
    empty = assess(case(evidence=Evidence(bank_balance_cents=0)), "BANK_GARNISHMENT", ON)
    assert unknown.plausible_recovery_cents > 0 == empty.plausible_recovery_cents
    assert any("unknown" in note for note in unknown.explanation.assumptions)
    assert unknown.explanation.bound is not None and unknown.explanation.bound.asset_cents is None


def test_unknown_dependents_are_said_to_be_assumed_none() -> None:
    result = assess(case(evidence=Evidence(monthly_net_income_cents=100_000)), "WAGE_GARNISHMENT_REQUEST", ON)
    assert result.plausible_recovery_cents == 65_598
    assert any("Dependents unknown" in note for note in result.explanation.assumptions)


# A bank garnishment on 1,000 EUR owed, account unknown: 400 plausible against about 157 of cost;
# a recent empty garnishment (x 25 %) brings it to 100 and flags it.
SMALL = 1_000 * EUR


@pytest.mark.parametrize(
    ("label", "facts", "act_code", "flagged", "reason"),
    [
        ("no evidence", case(owed_cents=SMALL), "BANK_GARNISHMENT", False, None),
        (
            "garnishment empty 6 months ago",
            case(
                owed_cents=SMALL,
                acts=(act("BANK_GARNISHMENT", date(2025, 9, 2), OutcomeCode.GARNISHMENT_EMPTY),),
            ),
            "BANK_GARNISHMENT",
            True,
            "RECENT_FAILED_GARNISHMENT",
        ),
        (
            "garnishment empty 6 months and a day ago",
            case(
                owed_cents=SMALL,
                acts=(act("BANK_GARNISHMENT", date(2025, 9, 1), OutcomeCode.GARNISHMENT_EMPTY),),
            ),
            "BANK_GARNISHMENT",
            False,
            None,
        ),
        (
            "a later fruitful garnishment",
            case(
                owed_cents=SMALL,
                acts=(
                    act("BANK_GARNISHMENT", date(2025, 12, 1), OutcomeCode.GARNISHMENT_EMPTY),
                    act(
                        "BANK_GARNISHMENT",
                        date(2026, 1, 5),
                        OutcomeCode.GARNISHMENT_FRUITFUL,
                        seized_cents=100,
                    ),
                ),
            ),
            "BANK_GARNISHMENT",
            False,
            None,
        ),
        (
            "PV de carence 12 months ago",
            case(evidence=Evidence(last_no_goods_report_on=date(2025, 3, 2))),
            "SEIZURE_SALE",
            True,
            "RECENT_NO_GOODS_REPORT",
        ),
        (
            "PV de carence 12 months and a day ago",
            case(
                evidence=Evidence(
                    seizable_goods_value_cents=2_000_000, last_no_goods_report_on=date(2025, 3, 1)
                )
            ),
            "SEIZURE_SALE",
            False,
            None,
        ),
        (
            "PV de carence reported by an office",
            case(acts=(act("NO_GOODS_REPORT", date(2026, 1, 5), OutcomeCode.NO_SEIZABLE_GOODS),)),
            "SEIZURE_SALE",
            True,
            "RECENT_NO_GOODS_REPORT",
        ),
        (
            "address known to be wrong",
            case(evidence=Evidence(address_known=False)),
            "SEIZURE_SALE",
            True,
            "ADDRESS_UNKNOWN",
        ),
        (
            "recent PV 659, address not re-checked",
            case(acts=(act("SERVE_TITLE", date(2026, 1, 5), OutcomeCode.ADDRESS_UNKNOWN),)),
            "SEIZURE_SALE",
            True,
            "ADDRESS_UNKNOWN",
        ),
        (
            "PV 659, then a new address found",
            case(
                evidence=Evidence(address_known=True, seizable_goods_value_cents=2_000_000),
                acts=(act("SERVE_TITLE", date(2026, 1, 5), OutcomeCode.ADDRESS_UNKNOWN),),
            ),
            "SEIZURE_SALE",
            False,
            None,
        ),
    ],
)
def test_evidence_table(label: str, facts: Any, act_code: str, flagged: bool, reason: str | None) -> None:
    result = assess(facts, act_code, ON)
    assert result.flagged is flagged, label
    evidence_codes = {e.code for e in result.explanation.evidence}
    if reason is None:
        assert not evidence_codes, label
    else:
        assert reason in evidence_codes and reason in codes(result), label


def test_evidence_factors_come_from_data_and_are_explained() -> None:
    facts = case(evidence=Evidence(address_known=False, seizable_goods_value_cents=2_000_000))
    result = assess(facts, "SEIZURE_SALE", ON)
    factor = load_assumptions().evidence.address_unknown.factor(load_assumptions().role("SEIZURE_SALE").asset)  # type: ignore[arg-type]
    assert result.explanation.evidence_factor == factor == Fraction(1, 10)
    # 5,000 owed (goods fetch 6,000) x 25 % x 10 %.
    assert result.plausible_recovery_cents == 12_500
