"""Guardrail settings: every figure is configurable, nonsense is refused."""

from __future__ import annotations

import pytest

from hub.policy.guardrails import check
from hub.policy.settings import PolicySettings
from hub.recovery.facts import ClaimKind
from tests.hub.policy.guardrail_cases import D, judgment
from tests.hub.policy.test_guardrails import codes
from tests.hub.recovery.cases import ON, act, case


def test_pacing_is_configurable() -> None:
    acts = (act("BANK_GARNISHMENT", D("2026-02-20")), act("PAYMENT_ORDER", D("2026-02-01")))
    three = PolicySettings(pacing_max_coercive_acts=3)
    assert "PACING_EXCEEDED" not in codes(check(case(acts=acts), "SEIZURE_SALE", ON, settings=three))
    week = PolicySettings(pacing_window_days=7)
    assert "PACING_EXCEEDED" not in codes(check(case(acts=acts), "SEIZURE_SALE", ON, settings=week))


def test_a_public_holiday_moves_a_deadline() -> None:
    facts = case(acts=(act("BANK_GARNISHMENT", D("2026-03-02")),))
    assert codes(check(facts, "GARNISHMENT_NOTICE", D("2026-03-11"))) == {"GARNISHMENT_NOTICE_LATE"}
    holiday = PolicySettings(public_holidays=frozenset({D("2026-03-10")}))
    assert check(facts, "GARNISHMENT_NOTICE", D("2026-03-11"), settings=holiday) == []


def test_limitation_periods_per_claim_kind_and_review_of_unserved_titles_are_settings() -> None:
    settings = PolicySettings()
    assert [settings.limitation_years(k) for k in ClaimKind] == [2, 5, 3, 5]
    relaxed = PolicySettings(require_title_served=False)
    assert check(case(title=judgment("2025-12-01")), "BANK_GARNISHMENT", ON, settings=relaxed) == []


@pytest.mark.parametrize("bad", [{"pacing_max_coercive_acts": 0}, {"garnishment_notice_days": -1}])
def test_nonsense_settings_are_refused(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        PolicySettings(**bad)  # type: ignore[arg-type]


def test_alsace_moselle_adds_good_friday_and_st_stephens_day() -> None:
    # Garnishment 2027-03-18 + 8 days = Good Friday 26 March: a working day in metropolitan France.
    facts = case(acts=(act("BANK_GARNISHMENT", D("2027-03-18")),))
    assert codes(check(facts, "GARNISHMENT_NOTICE", D("2027-03-29"))) == {"GARNISHMENT_NOTICE_LATE"}
    moselle = PolicySettings(holiday_subdivision="57")
    # Good Friday, the weekend and Easter Monday: the notice is due Tuesday 30 March.
    assert check(facts, "GARNISHMENT_NOTICE", D("2027-03-30"), settings=moselle) == []
    late = check(facts, "GARNISHMENT_NOTICE", D("2027-03-31"), settings=moselle)
    assert codes(late) == {"GARNISHMENT_NOTICE_LATE"} and "2027-03-30" in late[0].message
    assert moselle.procedural_deadline(D("2026-12-26")) == D("2026-12-28")
    assert PolicySettings(holiday_subdivision="6AE").procedural_deadline(D("2027-03-26")) == D("2027-03-30")


def test_the_calendar_moves_procedural_deadlines_only() -> None:
    settings = PolicySettings()
    assert settings.procedural_deadline(D("2026-12-25")) == D("2026-12-28")  # Friday, Christmas
    assert settings.procedural_deadline(D("2027-05-08")) == D("2027-05-10")  # Saturday, Victory Day
    assert settings.procedural_deadline(D("2027-03-29")) == D("2027-03-30")  # Easter Monday
    assert settings.procedural_deadline(D("2027-05-06")) == D("2027-05-07")  # Ascension Thursday
    assert settings.procedural_deadline(D("2027-03-26")) == D("2027-03-26")  # Good Friday, not here
    # The title's 10 years end on Christmas 2026 and are not moved: enforcement stops the next day.
    title = judgment("2016-12-25", "2017-01-10")
    assert "TITLE_EXPIRED" not in codes(check(case(title=title), "BANK_GARNISHMENT", D("2026-12-25")))
    assert "TITLE_EXPIRED" in codes(check(case(title=title), "BANK_GARNISHMENT", D("2026-12-28")))


def test_an_unknown_holiday_subdivision_is_refused() -> None:
    with pytest.raises(ValueError, match="holiday_subdivision"):
        PolicySettings(holiday_subdivision="Alsace-Lorraine")
