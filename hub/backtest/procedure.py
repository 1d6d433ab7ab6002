"""One case worked through its procedure under a rule that decides, act by act, whether to order it.

The procedure is the usual sequence: serve the title, search for an account and an employer, garnish
the bank account (and notify the debtor, or the garnishment lapses), garnish the wages, serve a
payment order, then seize and sell goods. It stops when the balance owed is paid. An act the
procedure cannot reach (no bank known, no employer, no title served) is not an option, whatever the
rule. Outcomes come from the hidden truth; what the rule sees is the ``CaseFacts`` the agency
would have on the act's date: the evidence observed when the case opened, and every act reported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from hub.backtest import figures as f
from hub.backtest.figures import ActCost, ActRecord, CaseFacts, DebtorKind, OutcomeCode
from hub.backtest.world import MONTHS_OF_PAY, SimCase

STEP_DAYS = 40
"""Days between two steps: past the one-month opposition window of an injunction, and more than the
charter's 30-day pacing window, so a rule is never asked about an act the calendar forbids."""
NOTICE_DAYS = 5
"""The garnishment notice follows within the 8 days the law allows (art. R211-3 CPCE)."""
MIN_SALE_CENTS = 15_000
"""Goods fetching less than this at auction are not worth a sale: the visit ends in a PV de carence."""


@dataclass(frozen=True)
class Ask:
    """What a rule is asked: may ``act_code`` be ordered on this case, dated ``on``?"""

    case: SimCase
    act_code: str
    on: date
    facts: CaseFacts
    cost: ActCost
    """The act's own tariff cost on the balance owed."""


@dataclass(frozen=True)
class Verdict:
    order: bool
    why: str
    """``ordered``, or why not: ``cost_above_balance``, ``flagged``, ``blocked``, ``held``."""
    flagged: bool | None = None
    """The cost flag's answer when the rule asked it (``None``: not asked)."""


Rule = Callable[[Ask], Verdict]


@dataclass(frozen=True)
class Decision:
    act_code: str
    on: date
    verdict: Verdict
    barred: bool
    """The simulation knows the act is barred by law (lapsed title, insolvency proceedings, a home
    seizure on a small claim without the judge's leave)."""


@dataclass
class CaseRun:
    """What came of one case under one rule."""

    case: SimCase
    decisions: list[Decision] = field(default_factory=list)
    acts: list[ActRecord] = field(default_factory=list)
    fees: list[ActCost] = field(default_factory=list)
    collections: list[int] = field(default_factory=list)
    """Money collected from the debtor, in the order it came."""
    balances: list[int] = field(default_factory=list)
    """The balance owed when each act of ``acts`` was done (its own cost included)."""
    engagement_charged: bool = False
    served_on: date | None = None
    _seen: tuple[tuple[object, ...], CaseFacts] | None = None
    """The last facts built, asked again and again on the same day: rebuilt only when a thing changed."""

    @property
    def costs_cents(self) -> int:
        return sum(cost.total_cents for cost in self.fees)

    @property
    def recovered_cents(self) -> int:
        return sum(self.collections)

    def reports(self) -> list[tuple[ActRecord, int]]:
        """Each act reported, with the balance owed when it was done: what the hub learns from."""
        return list(zip(self.acts, self.balances, strict=True))

    def facts(self, on: date) -> CaseFacts:
        key = (on, len(self.acts), len(self.fees), len(self.collections), self.served_on)
        if self._seen is not None and self._seen[0] == key:
            return self._seen[1]
        facts = self._facts(on)
        self._seen = (key, facts)
        return facts

    def _facts(self, on: date) -> CaseFacts:
        start = self.case.facts
        evidence = start.evidence
        truth = self.case.truth
        if truth.insolvency_from is not None and on >= truth.insolvency_from:
            evidence = dataclasses.replace(evidence, insolvency_proceedings=True)
        title = start.title
        if title is not None and title.served_on is None and self.served_on is not None:
            title = dataclasses.replace(title, served_on=self.served_on)
        return dataclasses.replace(
            start,
            costs_cents=self.costs_cents,
            paid_cents=self.recovered_cents,
            title=title,
            evidence=evidence,
            acts=tuple(self.acts),
        )


def barred(case: SimCase, act_code: str, on: date) -> bool:
    """The simulation's own reading of the law: no act on a lapsed title, no enforcement once
    insolvency proceedings are under way, no home seizure on a claim under 535 EUR of principal
    (not maintenance) without the judge's leave, which the simulated agency never asks for (R221-2)."""
    truth = case.truth
    if truth.title_lapsed:
        return True
    facts = case.facts
    if (
        act_code == f.SEIZURE_SALE
        and facts.principal_cents < f.SMALL_CLAIM_HOME_SEIZURE_CENTS
        and facts.claim_kind is not f.ClaimKind.MAINTENANCE
    ):
        return True
    return (
        act_code in f.ENFORCEMENT_ACTS and truth.insolvency_from is not None and on >= truth.insolvency_from
    )


class _Run:
    """One case being worked: the rule asked at each step, the outcome read from the truth."""

    def __init__(self, case: SimCase, rule: Rule, forced: Mapping[int, bool]) -> None:
        self.case = case
        self.truth = case.truth
        self.rule = rule
        self.forced = forced
        self.out = CaseRun(case)

    def owed(self, on: date) -> int:
        return self.out.facts(on).outstanding_cents

    def price(self, act_code: str, on: date) -> ActCost:
        return f.act_cost(
            act_code, self.owed(on), on, engagement_fee_already_charged=self.out.engagement_charged
        )

    def decide(self, act_code: str, on: date) -> bool:
        facts = self.out.facts(on)
        index = len(self.out.decisions)
        cost = self.price(act_code, on)
        if index in self.forced:
            verdict = Verdict(self.forced[index], "forced")
        else:
            verdict = self.rule(Ask(self.case, act_code, on, facts, cost))
        self.out.decisions.append(Decision(act_code, on, verdict, barred(self.case, act_code, on)))
        if verdict.order:
            self.out.fees.append(cost)
            self.out.engagement_charged = self.out.engagement_charged or cost.engagement_fee_cents > 0
        return verdict.order

    def record(
        self, act_code: str, on: date, outcome: OutcomeCode, *, seized: int = 0, collected: int = 0
    ) -> None:
        office = self.case.office.code
        self.out.balances.append(self.owed(on))
        self.out.acts.append(
            ActRecord(
                act_code=act_code,
                on=on,
                outcome=outcome,
                office=office,
                seized_cents=seized,
                collected_cents=collected,
            )
        )
        if collected:
            self.out.collections.append(collected)

    def lucky(self, step: int) -> bool:
        return self.truth.luck[step] < self.case.office.diligence_bp

    def bank_reachable(self, on: date) -> int:
        truth = self.truth
        if not truth.has_account:
            return 0
        kept = f.bank_minimum_cents(on) if self.case.facts.debtor_kind is DebtorKind.PERSON else 0
        return max(truth.bank_balance_cents - kept, 0)

    def blocked(self, act_code: str, on: date) -> None:
        outcome = (
            OutcomeCode.INSOLVENCY_PROCEEDINGS if not self.truth.title_lapsed else OutcomeCode.REFUSED_OTHER
        )
        self.record(act_code, on, outcome)


def run_case(case: SimCase, rule: Rule, forced: Mapping[int, bool] | None = None) -> CaseRun:
    """Work ``case`` under ``rule``; ``forced`` overrides the rule's verdict by decision index (the
    counterfactuals behind false and missed flags)."""
    run = _Run(case, rule, forced or {})
    truth = case.truth
    facts = case.facts
    person = facts.debtor_kind is DebtorKind.PERSON
    on = case.opened_on
    title = facts.title
    assert title is not None

    if title.served_on is None:
        if not run.decide(f.SERVE_TITLE, on):
            return run.out
        # A debtor gone from the address is served by a PV 659, which is still a service.
        outcome = OutcomeCode.ADDRESS_UNKNOWN if truth.moved_away else OutcomeCode.SERVED_AT_HOME
        if barred(case, f.SERVE_TITLE, on):
            run.blocked(f.SERVE_TITLE, on)
        else:
            run.record(f.SERVE_TITLE, on, outcome)
        run.out.served_on = on
        on += timedelta(days=STEP_DAYS)

    ev = facts.evidence
    bank_known = ev.bank_balance_cents is not None
    employer_known = person and bool(ev.monthly_net_income_cents)  # an income seen: an employer known
    if not bank_known or (person and ev.monthly_net_income_cents is None):
        if run.decide(f.INFO_SEARCH, on):
            if barred(case, f.INFO_SEARCH, on):
                run.blocked(f.INFO_SEARCH, on)
            else:
                run.record(f.INFO_SEARCH, on, OutcomeCode.SERVED_ELECTRONICALLY)
                bank_known, employer_known = truth.has_account, truth.employed
            on += timedelta(days=STEP_DAYS)

    if bank_known and run.owed(on) > 0 and run.decide(f.BANK_GARNISHMENT, on):
        _bank_garnishment(run, on)
        on += timedelta(days=STEP_DAYS)

    if person and employer_known and run.owed(on) > 0 and run.decide(f.WAGE_GARNISHMENT, on):
        _wage_garnishment(run, on)
        on += timedelta(days=STEP_DAYS)

    if run.owed(on) > 0 and run.decide(f.PAYMENT_ORDER, on):
        _payment_order(run, on)
        on += timedelta(days=STEP_DAYS)
        if run.owed(on) > 0 and run.decide(f.SEIZURE_SALE, on):
            _seizure_sale(run, on)
    return run.out


def _bank_garnishment(run: _Run, on: date) -> None:
    if barred(run.case, f.BANK_GARNISHMENT, on):
        run.blocked(f.BANK_GARNISHMENT, on)
        return
    notice_on = on + timedelta(days=NOTICE_DAYS)
    # The garnishment catches the balance owed with its own costs and its notice's.
    owed = (
        run.owed(on)
        + f.act_cost(
            f.GARNISHMENT_NOTICE, run.owed(on), notice_on, engagement_fee_already_charged=True
        ).total_cents
    )
    caught = min(run.bank_reachable(on), owed) if run.lucky(0) else 0
    outcome = (
        OutcomeCode.GARNISHMENT_EMPTY
        if caught == 0
        else OutcomeCode.GARNISHMENT_FRUITFUL
        if caught == owed
        else OutcomeCode.GARNISHMENT_PARTIAL
    )
    run.record(f.BANK_GARNISHMENT, on, outcome, seized=caught)
    if caught and run.decide(f.GARNISHMENT_NOTICE, notice_on):
        # Notified in time: the bank pays the office what it holds.
        run.record(f.GARNISHMENT_NOTICE, notice_on, OutcomeCode.SERVED_AT_HOME, collected=caught)
    # Not notified: the garnishment lapses (caducité) and the money goes back to the debtor.


def _wage_garnishment(run: _Run, on: date) -> None:
    if barred(run.case, f.WAGE_GARNISHMENT, on):
        run.blocked(f.WAGE_GARNISHMENT, on)
        return
    truth = run.truth
    caught = 0
    if truth.employed and run.lucky(1):
        monthly = f.seizable_pay_cents(truth.monthly_pay_cents, truth.dependents, on)
        share = monthly * min(truth.months_paid, MONTHS_OF_PAY) // (1 + truth.other_creditors)
        caught = min(share, run.owed(on))
    outcome = OutcomeCode.GARNISHMENT_PARTIAL if caught else OutcomeCode.GARNISHMENT_EMPTY
    if caught and caught == run.owed(on):
        outcome = OutcomeCode.GARNISHMENT_FRUITFUL
    run.record(f.WAGE_GARNISHMENT, on, outcome, collected=caught)


def _payment_order(run: _Run, on: date) -> None:
    if barred(run.case, f.PAYMENT_ORDER, on):
        run.blocked(f.PAYMENT_ORDER, on)
        return
    truth = run.truth
    if truth.moved_away:
        run.record(f.PAYMENT_ORDER, on, OutcomeCode.ADDRESS_UNKNOWN)
        return
    paid = min(run.bank_reachable(on), run.owed(on)) if truth.pays_under_order else 0
    if paid == 0:
        run.record(f.PAYMENT_ORDER, on, OutcomeCode.SERVED_AT_HOME)
        return
    outcome = OutcomeCode.PAID_IN_FULL if paid == run.owed(on) else OutcomeCode.PARTIAL_PAYMENT
    run.record(f.PAYMENT_ORDER, on, outcome, collected=paid)


def _seizure_sale(run: _Run, on: date) -> None:
    if barred(run.case, f.SEIZURE_SALE, on):
        run.blocked(f.SEIZURE_SALE, on)
        return
    truth = run.truth
    if truth.moved_away:
        run.record(f.SEIZURE_SALE, on, OutcomeCode.ADDRESS_UNKNOWN)
        return
    fetched = truth.goods_value_cents * run.case.office.auction_bp // 10_000 if run.lucky(2) else 0
    if fetched < MIN_SALE_CENTS:
        run.record(f.SEIZURE_SALE, on, OutcomeCode.NO_SEIZABLE_GOODS)  # a "PV de carence"
        return
    run.record(f.SEIZURE_SALE, on, OutcomeCode.GOODS_SEIZED, collected=min(fetched, run.owed(on)))
