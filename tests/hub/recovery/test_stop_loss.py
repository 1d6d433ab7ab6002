"""The stop-loss (``hub.recovery.stop_loss``) and how the mandate assessment applies it: fees above a
share of the balance with nothing recovered hold every further act spent on recovery, explained."""

from __future__ import annotations

import pytest

from hub.mandates.assessment import assess_per_act, assess_whole_file
from hub.policy.settings import DEFAULT_SETTINGS
from hub.recovery import stop_loss
from tests.hub.recovery.cases import ON, case

# 5,000 EUR owed: the default 20 % line is 1,000 EUR.


@pytest.mark.parametrize(
    ("fees", "recovered", "share", "stops"),
    [
        (100_000, 0, 20, False),  # on the line: not above it
        (100_001, 0, 20, True),
        (100_001, 1, 20, False),  # anything recovered lifts it
        (500_000, 0, 0, False),  # 0 switches it off
        (50_001, 0, 10, True),
        (49_999, 0, 10, False),
    ],
)
def test_the_line_is_a_share_of_the_balance_with_nothing_recovered(
    fees: int, recovered: int, share: int, stops: bool
) -> None:
    facts = case(fees_borne_cents=fees, recovered_cents=recovered)
    reason = stop_loss.check(facts, share)
    assert (reason is not None) is stops
    if reason is not None:
        assert reason.code == "STOP_LOSS"
        assert "nothing recovered" in reason.message and f"{share} %" in reason.message


def test_the_balance_is_what_is_still_owed() -> None:
    # 5,000 EUR owed less 4,000 EUR paid: the line is 20 % of 1,000 EUR.
    facts = case(paid_cents=400_000, fees_borne_cents=20_001)
    reason = stop_loss.check(facts)
    assert reason is not None and "200,00" in reason.message.replace(".", ",")
    assert stop_loss.check(case(fees_borne_cents=20_001)) is None


def test_the_net_is_what_came_in_less_the_fees() -> None:
    net = stop_loss.of(case(fees_borne_cents=12_345, recovered_cents=10_000))
    assert net.net_cents == -2_345
    assert net.as_dict() == {
        "recovered_cents": 10_000,
        "fees_borne_cents": 12_345,
        "net_cents": -2_345,
        "currency": "EUR",
    }


def test_every_act_spent_on_recovery_is_held_past_the_line() -> None:
    facts = case(fees_borne_cents=150_000, evidence=None)
    verdict = assess_per_act(facts, ["PAYMENT_ORDER", "INFO_SEARCH"], ON)
    stops = [f for f in verdict.holds if f.reason_code == "cost.stop_loss"]
    assert [f.act_code for f in stops] == ["PAYMENT_ORDER", "INFO_SEARCH"]
    assert all(act["stop_loss"] for act in verdict.acts)
    assert not verdict.blocks


def test_below_the_line_or_after_a_recovery_the_acts_are_judged_one_by_one() -> None:
    for facts in (case(fees_borne_cents=90_000), case(fees_borne_cents=150_000, recovered_cents=5_000)):
        verdict = assess_per_act(facts, ["PAYMENT_ORDER"], ON)
        assert all(f.reason_code != "cost.stop_loss" for f in verdict.holds)
        assert verdict.acts[0]["stop_loss"] is False


def test_a_legal_duty_is_never_held_by_the_stop_loss() -> None:
    facts = case(fees_borne_cents=150_000)
    verdict = assess_per_act(facts, ["RELEASE"], ON)
    assert verdict.acts[0]["assessment"]["reasons"][0]["code"] == "NOT_A_RECOVERY_DECISION"
    assert all(f.reason_code != "cost.stop_loss" for f in verdict.holds)


def test_a_whole_file_mandate_is_held_past_the_line_and_the_setting_switches_it_off() -> None:
    facts = case(fees_borne_cents=150_000)
    [finding] = [f for f in assess_whole_file(facts, 10_000, ON).holds if f.code == "STOP_LOSS"]
    assert finding.act_code == "*" and "stop-loss" in finding.message.lower()
    off = DEFAULT_SETTINGS.__class__(stop_loss_share_percent=0)
    assert not assess_whole_file(facts, 10_000, ON, settings=off).holds
