"""Invariants of the cost flag, for any case: monotone in cost and in a known asset, never a float."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.recovery.facts import ActRecord, ClaimKind, DebtorKind, Evidence, OutcomeCode
from hub.recovery.plausibility import assess
from hub.tariff.catalogue import Catalogue, load_catalogue
from tests.hub.recovery.cases import ON, case

ACTS = [
    "BANK_GARNISHMENT",
    "WAGE_GARNISHMENT_REQUEST",
    "SEIZURE_SALE",
    "SERVE_TITLE",
    "PAYMENT_ORDER",
    "INFO_SEARCH",
    "GARNISHMENT_NOTICE",
    "VEHICLE_IMMOBILISATION",
    "ATTEMPTED_EXECUTION",
]
cents = st.integers(min_value=0, max_value=5_000_000)
maybe_cents = st.none() | cents
recent_day = st.dates(min_value=date(2024, 1, 1), max_value=ON)
history = st.lists(
    st.builds(
        ActRecord,
        act_code=st.sampled_from(ACTS),
        on=recent_day,
        outcome=st.none() | st.sampled_from(list(OutcomeCode)),
        office=st.none() | st.sampled_from(["A", "B"]),
        seized_cents=st.integers(0, 100_000),
    ),
    max_size=4,
).map(tuple)
evidence = st.builds(
    Evidence,
    bank_balance_cents=maybe_cents,
    monthly_net_income_cents=maybe_cents,
    dependents=st.none() | st.integers(0, 6),
    seizable_goods_value_cents=maybe_cents,
    address_known=st.none() | st.booleans(),
    last_no_goods_report_on=st.none() | recent_day,
    bank_balance_seen_on=st.none() | recent_day,
    pending_debits_cents=st.none() | st.integers(0, 100_000),
    income_seen_on=st.none() | recent_day,
    vehicle_value_cents=maybe_cents,
)
cases = st.builds(
    case,
    owed_cents=st.integers(min_value=0, max_value=10_000_000),
    evidence=evidence,
    acts=history,
    debtor_kind=st.sampled_from(list(DebtorKind)),
    claim_kind=st.sampled_from(list(ClaimKind)),
    creditor_reclaims_vat=st.booleans(),
)


def with_dearer_act(act_code: str, extra_cents: int) -> Catalogue:
    """The packaged catalogue with one act's emolument raised in every period."""
    catalogue = load_catalogue()
    periods = []
    for period in catalogue.periods:
        fee = period.fees[act_code]
        if fee.items:  # a chain of items (wage garnishment since 1 Jul 2025): raise the first one
            first = fee.items[0]
            raised = first.model_copy(update={"emolument_cents": first.emolument_cents + extra_cents})
            dearer = fee.model_copy(update={"items": (raised, *fee.items[1:])})
        else:
            assert fee.emolument_cents is not None
            dearer = fee.model_copy(update={"emolument_cents": fee.emolument_cents + extra_cents})
        fees = {**period.fees, act_code: dearer}
        periods.append(period.model_copy(update={"fees": fees}))
    return catalogue.model_copy(update={"periods": tuple(periods)})


@settings(max_examples=150, deadline=None)
@given(cases, st.sampled_from(ACTS), st.integers(min_value=1, max_value=1_000_000))
def test_raising_an_acts_cost_never_unflags_it(facts: Any, act_code: str, extra: int) -> None:
    base = assess(facts, act_code, ON)
    dearer = assess(facts, act_code, ON, catalogue=with_dearer_act(act_code, extra))
    assert dearer.cost_cents >= base.cost_cents
    assert dearer.expected_net_cents <= base.expected_net_cents
    if base.flagged:
        assert dearer.flagged


ASSETS = {
    "BANK_GARNISHMENT": "bank_balance_cents",
    "WAGE_GARNISHMENT_REQUEST": "monthly_net_income_cents",
    "SEIZURE_SALE": "seizable_goods_value_cents",
    "VEHICLE_IMMOBILISATION": "vehicle_value_cents",
}


@settings(max_examples=150, deadline=None)
@given(cases, st.sampled_from(sorted(ASSETS)), cents, st.integers(min_value=1, max_value=5_000_000))
def test_a_larger_known_asset_never_flags_an_act(facts: Any, act_code: str, low: int, more: int) -> None:
    field = ASSETS[act_code]

    def with_asset(value: int) -> Any:
        return dataclasses.replace(facts, evidence=dataclasses.replace(facts.evidence, **{field: value}))

    poorer = assess(with_asset(low), act_code, ON)
    richer = assess(with_asset(low + more), act_code, ON)
    assert richer.expected_recovery_cents >= poorer.expected_recovery_cents
    assert richer.expected_net_cents >= poorer.expected_net_cents
    if not poorer.flagged:
        assert not richer.flagged


@settings(max_examples=150, deadline=None)
@given(cases, st.sampled_from(ACTS))
def test_never_a_float_and_the_net_never_above_the_balance(facts: Any, act_code: str) -> None:
    result = assess(facts, act_code, ON)
    assert_no_float(result)
    # What is caught covers the costs first, then at most the balance owed.
    assert 0 <= result.expected_recovery_cents <= facts.outstanding_cents + result.cost_cents
    assert result.expected_net_cents <= facts.outstanding_cents
    assert type(result.cost_cents) is int and type(result.expected_net_cents) is int
    never = {"LEGAL_DUTY", "OUTCOME_OF_A_VISIT"} & {r.code for r in result.reasons}
    assert result.flagged == (result.expected_net_cents < 0 and not never)


def assert_no_float(value: Any, path: str = "assessment") -> None:
    assert not isinstance(value, float), path
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            assert_no_float(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, tuple | list):
        for i, item in enumerate(value):
            assert_no_float(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_no_float(item, f"{path}[{key!r}]")
