"""Guardrails: one table row per rule, both sides of every threshold, review vs hard block."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.policy.guardrails import Violation, check, hard_blocks, reviewable, title_period
from hub.recovery.dates import add_years
from hub.recovery.facts import (
    ClaimKind,
    DebtorKind,
    Evidence,
    InsolvencyKind,
    InvalidFacts,
    OutcomeCode,
    Title,
    TitleKind,
)
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


def test_a_restarted_title_names_the_act_and_its_new_end() -> None:
    garnishment = act(
        "BANK_GARNISHMENT", D("2016-03-01"), OutcomeCode.GARNISHMENT_EMPTY, reference="SA-2016-0042"
    )
    facts = case(title=Title(kind=TitleKind.JUDGMENT, issued_on=D("2014-03-02")), acts=(garnishment,))
    [expired] = [v for v in check(facts, "BANK_GARNISHMENT", ON) if v.code == "TITLE_EXPIRED"]
    assert "2014-03-02" in expired.message and "2026-03-01" in expired.message
    assert "bank account garnishment (SA-2016-0042) of 2016-03-01" in expired.message
    assert "2244" in expired.source and "L111-4" in expired.source

    period = title_period(facts, D("2026-02-27"))
    assert period is not None and period.restarted_by == garnishment and period.last_day == D("2026-03-01")
    assert "2016-03-01" in period.explanation and "until 2026-03-01" in period.explanation
    unrestarted = title_period(case(title=Title(kind=TitleKind.JUDGMENT, issued_on=D("2014-03-02"))), ON)
    assert unrestarted is not None and unrestarted.restarted_by is None
    assert "until 2024-03-02" in unrestarted.explanation and "no enforcement act" in unrestarted.explanation
    assert title_period(case(title=None), ON) is None


def test_an_enforcement_act_after_the_day_checked_restarts_nothing() -> None:
    later = act("BANK_GARNISHMENT", D("2026-03-05"), OutcomeCode.GARNISHMENT_EMPTY)
    facts = case(title=Title(kind=TitleKind.JUDGMENT, issued_on=D("2016-03-01")), acts=(later,))
    assert "TITLE_EXPIRED" in codes(check(facts, "BANK_GARNISHMENT", ON))


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2020, 12, 31)),
    st.integers(0, 3650),
    st.integers(-400, 400),
)
def test_a_restarted_title_expires_once_ten_years_after_the_act(
    issued: date, act_after_days: int, offset_days: int
) -> None:
    acted = issued + timedelta(days=act_after_days)
    title = Title(kind=TitleKind.JUDGMENT, issued_on=issued, served_on=issued)
    seizure = act("SEIZURE_SALE", acted, OutcomeCode.NO_SEIZABLE_GOODS)
    on = add_years(acted, 10) + timedelta(days=offset_days)
    expired = "TITLE_EXPIRED" in codes(check(case(title=title, acts=(seizure,)), "BANK_GARNISHMENT", on))
    assert expired is (offset_days > 0)


def _insolvent(**changes: Any) -> Violation:
    facts = case(evidence=Evidence(insolvency_proceedings=True), **changes)
    [found] = [v for v in check(facts, "BANK_GARNISHMENT", ON) if v.code == "INSOLVENCY_PROCEEDINGS"]
    assert found.needs_review is False
    return found


def test_admissible_over_indebtedness_is_a_hard_block_under_l722_2() -> None:
    found = _insolvent()
    assert found.source == "Art. L722-2 Code de la consommation"
    assert "over-indebtedness" in found.message and "L722-2 Code de la consommation" in found.message
    assert "L622-21" not in found.message


def test_opened_collective_proceedings_are_a_hard_block_under_l622_21() -> None:
    found = _insolvent(debtor_kind=DebtorKind.COMPANY, claim_kind=ClaimKind.COMMERCIAL)
    assert found.source == "Art. L622-21 Code de commerce"
    assert "collective proceedings" in found.message and "L622-21 Code de commerce" in found.message
    assert "L722-2" not in found.message


def test_a_person_on_a_business_claim_may_be_in_either_proceedings() -> None:
    found = _insolvent(claim_kind=ClaimKind.COMMERCIAL)
    assert "L722-2" in found.source and "L622-21" in found.source


def test_the_kind_of_proceedings_when_known_sets_the_legal_basis() -> None:
    known = Evidence(insolvency_proceedings=True, insolvency_kind=InsolvencyKind.COLLECTIVE_PROCEEDINGS)
    [found] = [
        v for v in check(case(evidence=known), "PAYMENT_ORDER", ON) if v.code == "INSOLVENCY_PROCEEDINGS"
    ]
    assert found.source == "Art. L622-21 Code de commerce" and found.needs_review is False
    with pytest.raises(InvalidFacts):
        Evidence(insolvency_kind=InsolvencyKind.OVER_INDEBTEDNESS)
    with pytest.raises(InvalidFacts):
        Evidence(insolvency_proceedings=False, insolvency_kind=InsolvencyKind.OVER_INDEBTEDNESS)


def test_insolvency_reported_by_an_office_names_the_report() -> None:
    report = act(
        "BANK_GARNISHMENT", D("2025-11-03"), OutcomeCode.INSOLVENCY_PROCEEDINGS, reference="PV-2025-118"
    )
    [found] = [
        v for v in check(case(acts=(report,)), "SEIZURE_SALE", ON) if v.code == "INSOLVENCY_PROCEEDINGS"
    ]
    assert found.needs_review is False
    assert "reported on 2025-11-03 (PV-2025-118)" in found.message and "L722-2" in found.message
    assert "INSOLVENCY_PROCEEDINGS" not in codes(check(case(acts=(report,)), "SEIZURE_SALE", D("2025-11-02")))
