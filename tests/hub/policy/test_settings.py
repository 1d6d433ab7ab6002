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
