"""Guardrails: one table row per rule, both sides of every threshold, review vs hard block."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.policy.guardrails import Violation, check, hard_blocks, reviewable
from hub.recovery.dates import add_years
from hub.recovery.facts import Evidence, Title, TitleKind
from hub.tariff.catalogue import UnknownAct
from tests.hub.policy.guardrail_cases import ROWS, SERVED_ORDER, D
from tests.hub.recovery.cases import ON, act, case


def codes(found: list[Violation]) -> set[str]:
    return {v.code for v in found}


@pytest.mark.parametrize(
    ("label", "facts", "act_code", "on", "code", "needs_review"), ROWS, ids=[r[0] for r in ROWS]
)
def test_every_rule(
    label: str, facts: Any, act_code: str, on: date, code: str, needs_review: bool | None
) -> None:
    found = [v for v in check(facts, act_code, on) if v.code == code]
    if needs_review is None:
        assert not found, found
    else:
        assert len(found) == 1
        assert found[0].needs_review is needs_review
        assert found[0].message and found[0].source


def test_a_sound_act_trips_nothing() -> None:
    assert check(case(), "BANK_GARNISHMENT", ON) == []
    assert check(case(acts=SERVED_ORDER), "SEIZURE_SALE", ON) == []


def test_sentences_name_the_dates_a_case_handler_checks() -> None:
    found = check(case(acts=(act("BANK_GARNISHMENT", ON),)), "GARNISHMENT_NOTICE", D("2026-03-11"))
    assert "2026-03-02" in found[0].message and "2026-03-10" in found[0].message
    found = check(case(title=None, claim_started_on=D("2024-03-01")), "SUMMONS", ON)
    assert "2024-03-01" in found[0].message and "2026-03-01" in found[0].message


def test_every_violation_is_found_not_just_the_first() -> None:
    facts = case(
        title=None, claim_started_on=D("2020-01-01"), evidence=Evidence(vulnerable=True, disputed=True)
    )
    found = check(facts, "SEIZURE_SALE", ON)
    assert codes(found) == {
        "NO_ENFORCEABLE_TITLE",
        "TIME_BARRED",
        "NO_PRIOR_PAYMENT_ORDER",
        "VULNERABLE_DEBTOR",
        "CLAIM_DISPUTED",
    }
    assert codes(hard_blocks(found)) == {"NO_ENFORCEABLE_TITLE", "TIME_BARRED", "NO_PRIOR_PAYMENT_ORDER"}
    assert codes(reviewable(found)) == {"VULNERABLE_DEBTOR", "CLAIM_DISPUTED"}


def test_an_unknown_act_is_refused() -> None:
    with pytest.raises(UnknownAct):
        check(case(), "TELEPATHY", ON)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)), st.integers(-400, 400))
def test_title_expiry_flips_once_after_ten_years(issued: date, offset_days: int) -> None:
    title = Title(kind=TitleKind.JUDGMENT, issued_on=issued, served_on=issued)
    on = add_years(issued, 10) + timedelta(days=offset_days)
    expired = "TITLE_EXPIRED" in codes(check(case(title=title), "BANK_GARNISHMENT", on))
    assert expired is (offset_days > 0)
