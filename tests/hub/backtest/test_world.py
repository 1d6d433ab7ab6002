"""The simulated portfolio: the same seed draws the same cases, another seed others."""

from __future__ import annotations

from hub.backtest.world import portfolio


def test_the_same_seed_draws_the_same_portfolio() -> None:
    assert portfolio(7, 40) == portfolio(7, 40)


def test_a_case_is_the_same_however_many_cases_are_drawn() -> None:
    assert portfolio(7, 40)[:15] == portfolio(7, 15)


def test_different_seeds_draw_different_portfolios() -> None:
    one, two = portfolio(1, 40), portfolio(2, 40)
    assert [c.facts for c in one] != [c.facts for c in two]
    assert [c.truth for c in one] != [c.truth for c in two]
    assert sum(a.facts.principal_cents != b.facts.principal_cents for a, b in zip(one, two, strict=True)) > 30


def test_the_portfolio_mixes_debtors_claims_and_evidence() -> None:
    cases = portfolio(3, 300)
    kinds = {c.facts.debtor_kind.value for c in cases}
    assert kinds == {"person", "company"}
    consumer = [c.facts.principal_cents for c in cases if c.facts.claim_kind.value == "consumer"]
    assert min(consumer) >= 10_000 and max(consumer) <= 1_000_000
    commercial = [c.facts.principal_cents for c in cases if c.facts.claim_kind.value == "commercial"]
    assert max(commercial) > 1_000_000 and max(commercial) <= 10_000_000
    # Observed evidence is partial and noisy: known balances differ from the hidden ones.
    seen = [c for c in cases if c.facts.evidence.bank_balance_cents is not None]
    assert 0 < len(seen) < len(cases)
    assert any(c.facts.evidence.bank_balance_cents != c.truth.bank_balance_cents for c in seen)
    assert len({c.office.code for c in cases}) > 1
    assert any(c.truth.title_lapsed for c in cases) and any(c.truth.insolvency_from for c in cases)


def test_observed_figures_carry_the_day_they_were_seen_before_the_case_opened() -> None:
    for sim in portfolio(4, 200):
        ev, seen = sim.facts.evidence, sim.seen
        assert (ev.bank_balance_cents is None) == (seen.balance_seen_on is None)
        assert (ev.monthly_net_income_cents is None) == (seen.income_seen_on is None)
        assert (ev.seizable_goods_value_cents is None) == (seen.goods_valued_on is None)
        for day in (seen.balance_seen_on, seen.income_seen_on, seen.goods_valued_on):
            assert day is None or day < sim.opened_on


def test_the_history_the_hub_learns_from_is_other_cases_at_the_same_offices() -> None:
    cases, past = portfolio(7, 50), portfolio(7, 50, history=True)
    assert not {c.facts for c in cases} & {c.facts for c in past}
    assert {c.office for c in past} == {c.office for c in cases}
