"""How often an act succeeds, learned from past act reports, overall and per office.

A Beta prior keeps the rate sensible while data is thin (additive smoothing with pseudo-counts):

- an act's **overall** rate = (successes + prior mean x w) / (reports + w), where the prior mean per
  act and the weight w come from ``assumptions.toml``;
- an **office's** rate for the act = (office successes + overall rate x w') / (office reports + w'):
  an office with few reports is judged close to the network, one with many by its own record.

Rates are exact ``Fraction``s. Only reported acts count (``outcome`` not ``None``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from hub.recovery.assumptions import Assumptions, SuccessTerms, load_assumptions, percent
from hub.recovery.facts import ActRecord

Basis = Literal["prior", "overall", "office"]


@dataclass(frozen=True)
class Tally:
    """Reported acts and how many of them succeeded."""

    successes: int = 0
    reports: int = 0


@dataclass(frozen=True)
class SuccessRate:
    """The success rate used for one act (and office), with what it rests on."""

    act_code: str
    office: str | None
    value: Fraction
    basis: Basis
    """``prior``: no report of this act yet; ``overall``: the network's reports; ``office``: the
    office's own reports, shrunk toward the network rate."""
    prior_mean: Fraction
    prior_weight: int
    overall: Tally
    office_tally: Tally | None

    @property
    def sample_size(self) -> int:
        """Reports this rate rests on at its own level (office, else overall)."""
        return self.office_tally.reports if self.office_tally is not None else self.overall.reports

    def describe(self) -> str:
        pct = percent(self.value)
        if self.basis == "prior":
            return (
                f"success rate {pct}: no report of this act yet, so the assumed prior "
                f"({percent(self.prior_mean)}) is used"
            )
        overall = f"{self.overall.successes} of {self.overall.reports} reports across all offices"
        if self.basis == "overall":
            return (
                f"success rate {pct}, learned from {overall} "
                f"(prior {percent(self.prior_mean)} weighs like {self.prior_weight} reports)"
            )
        assert self.office_tally is not None
        mine = self.office_tally
        return (
            f"success rate {pct} for office {self.office}: {mine.successes} of {mine.reports} "
            f"of its reports, weighed with {overall}"
        )


@dataclass(frozen=True)
class SuccessRates:
    """Tallies of past reports per act and per (act, office); ask it for a rate with :meth:`rate`."""

    overall: dict[str, Tally]
    by_office: dict[tuple[str, str], Tally]
    terms: SuccessTerms

    def rate(self, act_code: str, office: str | None = None) -> SuccessRate:
        prior_mean = self.terms.prior_mean(act_code)
        weight = self.terms.prior_weight
        overall = self.overall.get(act_code, Tally())
        network = (overall.successes + prior_mean * weight) / (overall.reports + weight)
        mine = self.by_office.get((act_code, office)) if office is not None else None
        if mine is not None and mine.reports > 0:
            office_weight = self.terms.office_prior_weight
            value = (mine.successes + network * office_weight) / (mine.reports + office_weight)
            return SuccessRate(act_code, office, value, "office", prior_mean, weight, overall, mine)
        basis: Basis = "overall" if overall.reports > 0 else "prior"
        return SuccessRate(act_code, office, network, basis, prior_mean, weight, overall, None)


def succeeded(record: ActRecord, terms: SuccessTerms) -> bool:
    """A reported act succeeded when it brought money or ended with a success outcome."""
    return record.brought_money or record.outcome in terms.success_outcomes


def learn_success_rates(
    reports: Iterable[ActRecord], *, assumptions: Assumptions | None = None
) -> SuccessRates:
    """Tally past act reports (any cases, any offices) into learned success rates."""
    terms = (assumptions or load_assumptions()).success
    successes: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    office_successes: Counter[tuple[str, str]] = Counter()
    office_totals: Counter[tuple[str, str]] = Counter()
    for record in reports:
        if record.outcome is None:
            continue
        won = succeeded(record, terms)
        totals[record.act_code] += 1
        successes[record.act_code] += won
        if record.office is not None:
            key = (record.act_code, record.office)
            office_totals[key] += 1
            office_successes[key] += won
    return SuccessRates(
        overall={code: Tally(successes[code], n) for code, n in totals.items()},
        by_office={key: Tally(office_successes[key], n) for key, n in office_totals.items()},
        terms=terms,
    )


def prior_rates(*, assumptions: Assumptions | None = None) -> SuccessRates:
    """Rates before any report is known: every act at its prior mean."""
    return learn_success_rates((), assumptions=assumptions)
