"""Case facts: integer cents, unknown is None (never zero), inconsistent data refused."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from hub.recovery.facts import (
    ActRecord,
    CaseFacts,
    ClaimKind,
    DebtorKind,
    Evidence,
    InvalidFacts,
    Title,
    TitleKind,
)
from tests.hub.recovery.cases import case


def test_outstanding_is_principal_interest_costs_less_paid() -> None:
    facts = case(owed_cents=10_000, interest_cents=500, costs_cents=250, paid_cents=3_000)
    assert facts.outstanding_cents == 7_750


def test_an_overpaid_case_owes_nothing() -> None:
    assert case(owed_cents=1_000, paid_cents=1_500).outstanding_cents == 0


def test_unknown_evidence_is_none_by_default() -> None:
    evidence = Evidence()
    assert evidence.bank_balance_cents is None
    assert evidence.address_known is None
    assert Evidence(bank_balance_cents=0).bank_balance_cents == 0


@pytest.mark.parametrize(
    "build",
    [
        lambda: Evidence(bank_balance_cents=12.5),  # type: ignore[arg-type]
        lambda: Evidence(vulnerable=1),  # type: ignore[arg-type]
        lambda: Evidence(dependents=True),
        lambda: ActRecord(act_code="BANK_GARNISHMENT", on=date(2026, 1, 1), seized_cents=1.0),  # type: ignore[arg-type]
        lambda: CaseFacts(principal_cents=10.0, claim_kind=ClaimKind.CONSUMER, debtor_kind=DebtorKind.PERSON),  # type: ignore[arg-type]
    ],
)
def test_floats_and_wrong_types_are_refused(build: Any) -> None:
    with pytest.raises(TypeError):
        build()


@pytest.mark.parametrize(
    "build",
    [
        lambda: Evidence(bank_balance_cents=-1),
        lambda: Evidence(dependents=-1),
        lambda: case(paid_cents=-5),
        lambda: case(currency="euro"),
        lambda: Title(kind=TitleKind.JUDGMENT, issued_on=date(2026, 1, 2), served_on=date(2026, 1, 1)),
    ],
)
def test_inconsistent_facts_are_refused(build: Any) -> None:
    with pytest.raises(InvalidFacts):
        build()


def test_acts_before_are_latest_first_and_exclude_later_ones() -> None:
    acts = tuple(
        ActRecord(act_code=code, on=on)
        for code, on in [
            ("PAYMENT_ORDER", date(2026, 1, 5)),
            ("BANK_GARNISHMENT", date(2026, 2, 1)),
            ("PAYMENT_ORDER", date(2026, 2, 10)),
            ("PAYMENT_ORDER", date(2026, 4, 1)),
        ]
    )
    facts = case(acts=acts)
    found = facts.acts_before(date(2026, 3, 1), codes=frozenset({"PAYMENT_ORDER"}))
    assert [a.on for a in found] == [date(2026, 2, 10), date(2026, 1, 5)]
