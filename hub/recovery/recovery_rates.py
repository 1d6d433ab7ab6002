"""What share of the balance an act brings back, learned from past act reports, overall and per office.

Success is money: a report counts by the money seized and collected as a share of the case's
balance at the time (capped at the whole balance), never by its outcome ("served in person" brings
nothing back). The learned figure is the **expected share of the balance recovered** by the act,
what the cost flag uses where the asset the act reaches is unknown.

A prior keeps the figure sensible while data is thin, and fades as reports accumulate (additive
smoothing with pseudo-reports):

- an act's **overall** share = (sum of report shares + prior share x w) / (reports + w), where the
  prior share per act and the weight w come from ``assumptions.toml``;
- an **office's** share for the act = (sum of its report shares + overall share x w') /
  (its reports + w'): an office with few reports is judged close to the network, one with many by
  its own record.

Shares are exact ``Fraction``s. Only reported acts count (``outcome`` not ``None``). The hub reads
the sums from tallies a database trigger keeps as reports are stored, so learning costs the same
at 60 reports and at 60 million.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from hub.recovery.assumptions import BASIS_POINTS, Assumptions, RecoveryTerms, load_assumptions, percent
from hub.recovery.facts import ActRecord

Basis = Literal["prior", "overall", "office"]


@dataclass(frozen=True)
class Tally:
    """Reported acts, and the sum of the shares of the balance they brought back (basis points)."""

    recovered_bp: int = 0
    reports: int = 0

    @property
    def mean(self) -> Fraction:
        return Fraction(self.recovered_bp, BASIS_POINTS * self.reports) if self.reports else Fraction(0)


@dataclass(frozen=True)
class RecoveryRate:
    """The expected share of the balance one act (by one office) brings back, with what it rests on."""

    act_code: str
    office: str | None
    value: Fraction
    basis: Basis
    """``prior``: no report of this act yet; ``overall``: the network's reports; ``office``: the
    office's own reports, shrunk toward the network's figure."""
    prior_mean: Fraction
    prior_weight: int
    overall: Tally
    office_tally: Tally | None

    @property
    def sample_size(self) -> int:
        """Reports this figure rests on at its own level (office, else overall)."""
        return self.office_tally.reports if self.office_tally is not None else self.overall.reports

    def describe(self) -> str:
        pct = percent(self.value)
        if self.basis == "prior":
            return (
                f"expected recovery {pct} of the balance: no report of this act yet, so the assumed "
                f"prior ({percent(self.prior_mean)}) is used"
            )
        overall = (
            f"{self.overall.reports} reports across all offices, which brought back "
            f"{percent(self.overall.mean)} of the balance on average"
        )
        if self.basis == "overall":
            return (
                f"expected recovery {pct} of the balance, learned from {overall} "
                f"(the prior {percent(self.prior_mean)} weighs like {self.prior_weight} reports)"
            )
        assert self.office_tally is not None
        mine = self.office_tally
        return (
            f"expected recovery {pct} of the balance for office {self.office}: {mine.reports} of its "
            f"reports brought back {percent(mine.mean)} on average, weighed with {overall}"
        )


@dataclass(frozen=True)
class RecoveryRates:
    """Tallies of past reports per act and per (act, office); ask for a figure with :meth:`rate`."""

    overall: dict[str, Tally]
    by_office: dict[tuple[str, str], Tally]
    terms: RecoveryTerms
    # Each figure asked for, worked out once: an assessment asks for several, a batch chunk for the
    # same ones again and again. The tallies are never changed once learned.
    _rates: dict[tuple[str, str | None], RecoveryRate] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def rate(self, act_code: str, office: str | None = None) -> RecoveryRate:
        known = self._rates.get((act_code, office))
        if known is None:
            known = self._rates[(act_code, office)] = self._learned_rate(act_code, office)
        return known

    def _learned_rate(self, act_code: str, office: str | None) -> RecoveryRate:
        prior_mean = self.terms.prior_mean(act_code)
        weight = self.terms.prior_weight
        overall = self.overall.get(act_code, Tally())
        network = (Fraction(overall.recovered_bp, BASIS_POINTS) + prior_mean * weight) / (
            overall.reports + weight
        )
        mine = self.by_office.get((act_code, office)) if office is not None else None
        if mine is not None and mine.reports > 0:
            office_weight = self.terms.office_prior_weight
            value = (Fraction(mine.recovered_bp, BASIS_POINTS) + network * office_weight) / (
                mine.reports + office_weight
            )
            return RecoveryRate(act_code, office, value, "office", prior_mean, weight, overall, mine)
        basis: Basis = "overall" if overall.reports > 0 else "prior"
        return RecoveryRate(act_code, office, network, basis, prior_mean, weight, overall, None)


def recovered_share_bp(record: ActRecord, balance_cents: int) -> int:
    """The share of ``balance_cents`` a reported act brought back, in basis points (whole balance: 10000).
    The same figure the database trigger sums (migration 20261204_0017)."""
    if balance_cents <= 0:
        return 0
    return min(record.seized_cents + record.collected_cents, balance_cents) * BASIS_POINTS // balance_cents


def learn_recovery_rates(
    reports: Iterable[tuple[ActRecord, int]], *, assumptions: Assumptions | None = None
) -> RecoveryRates:
    """Tally past act reports (any cases, any offices), each with the case's balance at the time,
    into learned expected recovery."""
    terms = (assumptions or load_assumptions()).recovery
    shares: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    office_shares: Counter[tuple[str, str]] = Counter()
    office_totals: Counter[tuple[str, str]] = Counter()
    for record, balance_cents in reports:
        if record.outcome is None:
            continue
        bp = recovered_share_bp(record, balance_cents)
        totals[record.act_code] += 1
        shares[record.act_code] += bp
        if record.office is not None:
            key = (record.act_code, record.office)
            office_totals[key] += 1
            office_shares[key] += bp
    return RecoveryRates(
        overall={code: Tally(shares[code], n) for code, n in totals.items()},
        by_office={key: Tally(office_shares[key], n) for key, n in office_totals.items()},
        terms=terms,
    )


def tallied_rates(
    tallies: Iterable[tuple[str, str, int, int]], *, assumptions: Assumptions | None = None
) -> RecoveryRates:
    """Learned expected recovery from stored tallies: (act code, office code, reports, sum of the
    shares in basis points)."""
    terms = (assumptions or load_assumptions()).recovery
    overall_bp: Counter[str] = Counter()
    overall_n: Counter[str] = Counter()
    by_office: dict[tuple[str, str], Tally] = {}
    for act_code, office, reports, recovered_bp in tallies:
        overall_n[act_code] += reports
        overall_bp[act_code] += recovered_bp
        by_office[(act_code, office)] = Tally(recovered_bp, reports)
    return RecoveryRates(
        overall={act: Tally(overall_bp[act], n) for act, n in overall_n.items()},
        by_office=by_office,
        terms=terms,
    )


def prior_rates(*, assumptions: Assumptions | None = None) -> RecoveryRates:
    """Expected recovery before any report is known: every act at its prior share."""
    return learn_recovery_rates((), assumptions=assumptions)
