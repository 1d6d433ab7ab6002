"""The three ways a portfolio is run, and what each one yields.

- **every act**: every act the procedure reaches is ordered;
- **naive rule**: an act is skipped when its own cost is above the balance owed;
- **hub's rule**: an act is skipped when the hub's guardrails stop it (a hard legal block, or a
  review a person must make: the back-test orders nothing that waits for a person) or when the
  cost flag (``assess(...).flagged``) warns that it destroys value.

For the hub's rule each cost-flag answer is checked against the truth: the same case is worked
again with that one decision reversed, everything else left to the rule, and the difference in the
creditor's net is the act's true worth. A **false flag** is a flagged act worth more than nothing;
a **missed flag** an act not flagged that lost the creditor money.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hub.backtest import figures as f
from hub.backtest.accounts import CreditorShare, postings, share_of
from hub.backtest.figures import Posting
from hub.backtest.procedure import Ask, CaseRun, Rule, Verdict, run_case
from hub.backtest.world import SimCase


def every_act(ask: Ask) -> Verdict:
    """Order whatever the procedure reaches."""
    return Verdict(True, "ordered")


def naive_rule(ask: Ask) -> Verdict:
    """Skip an act whose own cost is above the balance owed."""
    if ask.cost.total_cents > ask.facts.outstanding_cents:
        return Verdict(False, "cost_above_balance")
    return Verdict(True, "ordered")


def hubs_rule(ask: Ask, rates: f.Rates | None = None) -> Verdict:
    """The guardrails first, then the cost flag with ``rates`` learned from past reports (``None``:
    its priors)."""
    violations = f.check(ask.facts, ask.act_code, ask.on)
    if f.hard_blocks(violations):
        return Verdict(False, "blocked")
    if violations:
        return Verdict(False, "held")
    flagged = f.assess(ask.facts, ask.act_code, ask.on, office=ask.case.office.code, rates=rates).flagged
    return Verdict(not flagged, "flagged" if flagged else "ordered", flagged)


@dataclass(frozen=True)
class Way:
    """One way of running the portfolio: its key (JSON), its title (table) and its rule."""

    key: str
    title: str
    rule: Rule
    checks_flags: bool = False


def ways(rates: f.Rates | None = None) -> tuple[Way, ...]:
    """The three ways; the hub's rule with ``rates`` learned from past reports."""
    return (
        Way("every_act", "every act", every_act),
        Way("naive", "naive rule", naive_rule),
        Way("hub", "hub's rule", functools.partial(hubs_rule, rates=rates), checks_flags=True),
    )


WAYS = ways()
"""The ways' keys and titles, in order (the hub's rule on its priors)."""


def learned_rates(history: Iterable[SimCase]) -> f.Rates:
    """What the hub learns from a history of cases worked act by act (every act ordered), once."""
    return f.learn_rates(report for case in history for report in run_case(case, every_act).reports())


@dataclass
class Totals:
    """One way's figures over the portfolio, in cents and counts."""

    cases: int = 0
    recovered_cents: int = 0
    act_costs_cents: int = 0
    collection_fees_cents: int = 0
    borne_cents: int = 0
    net_cents: int = 0
    ordered: int = 0
    avoided: Counter[str] = field(default_factory=Counter)
    barred_ordered: int = 0
    """Acts ordered that the law bars (the simulation knows): they cost and bring nothing."""
    flags_checked: int = 0
    false_flags: int = 0
    missed_flags: int = 0
    false_flags_forgone_cents: int = 0
    """What the false flags cost the creditor: the net the flagged acts would have added."""
    missed_flags_lost_cents: int = 0
    """What the missed flags cost the creditor: the net the acts not flagged took away."""
    false_by_act: Counter[str] = field(default_factory=Counter)
    missed_by_act: Counter[str] = field(default_factory=Counter)
    balances: dict[str, int] = field(default_factory=dict)
    """The ledger's balance per account (EUR) after every posting of the way."""

    def add(self, run: CaseRun, share: CreditorShare) -> None:
        self.cases += 1
        self.recovered_cents += share.recovered_cents
        self.act_costs_cents += share.act_costs_cents
        self.collection_fees_cents += share.collection_fee.total_cents
        self.borne_cents += share.borne_cents
        self.net_cents += share.net_cents
        for decision in run.decisions:
            if decision.verdict.order:
                self.ordered += 1
                self.barred_ordered += decision.barred
            else:
                self.avoided[decision.verdict.why] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "recovered_cents": self.recovered_cents,
            "act_costs_cents": self.act_costs_cents,
            "collection_fees_cents": self.collection_fees_cents,
            "borne_by_creditor_cents": self.borne_cents,
            "net_to_creditor_cents": self.net_cents,
            "acts_ordered": self.ordered,
            "acts_avoided": sum(self.avoided.values()),
            "avoided_by_reason": dict(sorted(self.avoided.items())),
            "barred_acts_ordered": self.barred_ordered,
            "flags_checked": self.flags_checked,
            "false_flags": self.false_flags,
            "missed_flags": self.missed_flags,
            "false_flags_forgone_cents": self.false_flags_forgone_cents,
            "missed_flags_lost_cents": self.missed_flags_lost_cents,
            "false_flags_by_act": dict(sorted(self.false_by_act.items())),
            "missed_flags_by_act": dict(sorted(self.missed_by_act.items())),
            "ledger_balances_cents": dict(sorted(self.balances.items())),
        }


def _net(case: SimCase, rule: Rule, forced: dict[int, bool]) -> int:
    return share_of(run_case(case, rule, forced)).net_cents


def _check_flags(totals: Totals, run: CaseRun, net: int, rule: Rule) -> None:
    """Each cost-flag answer against the truth: the case again with that decision reversed."""
    taken = {i: d.verdict.order for i, d in enumerate(run.decisions)}
    for index, decision in enumerate(run.decisions):
        if decision.verdict.flagged is None:
            continue
        forced = {i: order for i, order in taken.items() if i < index}
        forced[index] = not decision.verdict.order
        other = _net(run.case, rule, forced)
        worth = net - other if decision.verdict.order else other - net
        totals.flags_checked += 1
        if decision.verdict.flagged and worth > 0:
            totals.false_flags += 1
            totals.false_flags_forgone_cents += worth
            totals.false_by_act[decision.act_code] += 1
        elif not decision.verdict.flagged and worth < 0:
            totals.missed_flags += 1
            totals.missed_flags_lost_cents -= worth
            totals.missed_by_act[decision.act_code] += 1


def run_way(way: Way, cases: Iterable[SimCase], ledger: list[list[Posting]] | None = None) -> Totals:
    """Work every case under the way's rule; the postings go to ``ledger`` when given."""
    totals = Totals()
    balances: Counter[str] = Counter()
    for case in cases:
        run = run_case(case, way.rule)
        share = share_of(run)
        totals.add(run, share)
        for transaction in postings(run, share):
            for posting in transaction:
                balances[posting.account] += posting.amount_cents
            if ledger is not None:
                ledger.append(transaction)
        if way.checks_flags:
            _check_flags(totals, run, share.net_cents, way.rule)
    totals.balances = {account: cents for account, cents in balances.items() if cents}
    return totals
