"""The simulated portfolio: debtors with a hidden truth, what the agency observes of them, offices.

Everything is drawn from one ``random.Random(seed)``: the same seed gives the same portfolio, on
any machine, with no clock. Each case gets its own generator seeded from the portfolio's, so a case
is the same whichever way the portfolio is run and however many cases come before it.

Money is integer cents. The truth is what the simulation knows and the rules never see; the
``CaseFacts`` of a case is what the agency knows on the day it opens the case.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from hub.backtest.figures import CaseFacts, ClaimKind, DebtorKind, Evidence, Title, TitleKind
from hub.recovery.dates import add_months

FIRST_OPENING = date(2025, 3, 1)
OPENING_DAYS = 300
"""Cases open over ten months from 1 March 2025, under the tariff in force then."""
MONTHS_OF_PAY = 12
"""A wage garnishment is counted over this many months, like the recovery rule's horizon."""


@dataclass(frozen=True)
class Office:
    """A bailiff office of the simulated network, with its own way of working."""

    code: str
    diligence_bp: int
    """Chance (basis points) that an act reaching an asset actually catches it (a bank answering
    in time, an employer found, a seizure carried out): the rest fail for reasons of the office."""
    auction_bp: int
    """Share of the goods' value its auctions fetch, net of sale and storage costs."""


@dataclass(frozen=True)
class Truth:
    """The debtor as they really are: hidden from every rule, known to the simulation."""

    has_account: bool
    bank_balance_cents: int
    employed: bool
    monthly_pay_cents: int
    dependents: int
    months_paid: int
    """Months of pay before the debtor loses their job (``MONTHS_OF_PAY``: none within the horizon)."""
    other_creditors: int
    """Creditors already garnishing the same pay, shared with pro rata."""
    goods_value_cents: int
    moved_away: bool
    """The debtor no longer lives at the address on file."""
    pays_under_order: bool
    """A payment order makes this debtor pay what their account can bear."""
    insolvency_from: date | None
    """Admissible over-indebtedness or collective proceedings from this day (known to the agency)."""
    title_lapsed: bool
    """The title can no longer be enforced (older than 10 years, or an injunction never served)."""
    luck: tuple[int, ...]
    """One draw (basis points) per act of the procedure, against the office's diligence."""


@dataclass(frozen=True)
class EvidenceDates:
    """When the evidence was seen (``None``: nothing seen); the hub's ``Evidence`` carries the same
    dates, so the rules weigh each figure by its age."""

    balance_seen_on: date | None = None
    income_seen_on: date | None = None
    goods_valued_on: date | None = None


@dataclass(frozen=True)
class SimCase:
    ref: str
    office: Office
    opened_on: date
    facts: CaseFacts
    """What the agency knows on the day it opens the case."""
    truth: Truth
    seen: EvidenceDates = EvidenceDates()
    """When each observed figure was seen."""


def _lognormal(rng: random.Random, median_cents: int, sigma: float, low: int, high: int) -> int:
    value = int(median_cents * math.exp(rng.gauss(0, sigma)))
    return min(max(value, low), high)


def offices(rng: random.Random, count: int = 6) -> tuple[Office, ...]:
    return tuple(
        Office(f"SIM{n:02d}", diligence_bp=rng.randrange(7500, 9800), auction_bp=rng.randrange(1500, 4000))
        for n in range(1, count + 1)
    )


_PROFILES = (("solvent", 25), ("struggling", 45), ("insolvent", 30))


def _truth(rng: random.Random, person: bool, opened_on: date) -> tuple[str, Truth]:
    profile = rng.choices([p for p, _ in _PROFILES], weights=[w for _, w in _PROFILES])[0]
    solvent, insolvent = profile == "solvent", profile == "insolvent"
    scale = 1 if person else 5
    if solvent:
        balance = _lognormal(rng, 250_000 * scale, 0.8, 0, 10_000_000)
    elif insolvent:
        balance = rng.randrange(0, 20_000)
    else:
        balance = _lognormal(rng, 60_000 * scale, 0.9, 0, 2_000_000)
    employed = person and rng.random() < (0.9 if solvent else 0.15 if insolvent else 0.6)
    pay_median = 260_000 if solvent else 100_000 if insolvent else 150_000
    pay = _lognormal(rng, pay_median, 0.3, 60_000, 1_500_000) if employed else 0
    goods_median = (300_000 if solvent else 20_000 if insolvent else 80_000) * scale
    goods = 0 if insolvent and rng.random() < 0.6 else _lognormal(rng, goods_median, 1.0, 0, 20_000_000)
    proceedings = rng.random() < (0.10 if insolvent else 0.03 if not solvent else 0.0)
    lapsed = rng.random() < 0.03
    return profile, Truth(
        has_account=rng.random() < (0.97 if not insolvent else 0.8),
        bank_balance_cents=balance,
        employed=employed,
        monthly_pay_cents=pay,
        dependents=rng.choice((0, 0, 1, 1, 2, 3)) if person else 0,
        months_paid=MONTHS_OF_PAY if rng.random() < 0.75 else rng.randrange(1, MONTHS_OF_PAY),
        other_creditors=rng.choice((0, 0, 0, 1, 1, 2)),
        goods_value_cents=goods,
        moved_away=rng.random() < (0.05 if solvent else 0.15),
        pays_under_order=rng.random() < (0.35 if solvent else 0.1),
        insolvency_from=opened_on + timedelta(days=rng.randrange(0, 240)) if proceedings else None,
        title_lapsed=lapsed,
        luck=tuple(rng.randrange(10_000) for _ in range(8)),
    )


def _claim(rng: random.Random, person: bool) -> tuple[ClaimKind, int, int]:
    if person and rng.random() < 0.9:
        principal = _lognormal(rng, 80_000, 1.0, 10_000, 1_000_000)
        kind = ClaimKind.CONSUMER
    else:
        principal = _lognormal(rng, 600_000, 1.1, 50_000, 10_000_000)
        kind = ClaimKind.COMMERCIAL
    return kind, principal, principal * rng.randrange(0, 15) // 100


def _noisy(rng: random.Random, cents: int, sigma: float) -> int:
    return max(int(cents * math.exp(rng.gauss(0, sigma))), 0)


def _evidence(
    rng: random.Random, truth: Truth, profile: str, person: bool, opened_on: date
) -> tuple[Evidence, EvidenceDates]:
    """What the agency saw of the debtor, some of it months ago: noisy (the older, the noisier),
    partly stale, mostly unknown; and when each figure was seen."""
    balance = balance_on = income_on = goods_on = None
    if rng.random() < 0.35:
        months = rng.randrange(1, 25)
        balance_on = add_months(opened_on, -months)
        balance = _noisy(rng, truth.bank_balance_cents if truth.has_account else 0, 0.1 + 0.05 * months)
    income = dependents = None
    if person and rng.random() < 0.5:
        # An income estimate: noisy, and sometimes from a job the debtor has since lost.
        months = rng.randrange(1, 19)
        income_on = add_months(opened_on, -months)
        seen = truth.monthly_pay_cents or (
            _lognormal(rng, 150_000, 0.3, 60_000, 500_000) if rng.random() < 0.02 * months else 0
        )
        income = _noisy(rng, seen, 0.1 + 0.02 * months)
    if person and rng.random() < 0.6:
        dependents = truth.dependents
    goods = None
    if rng.random() < 0.2:
        goods_on = add_months(opened_on, -rng.randrange(1, 37))
        goods = _noisy(rng, truth.goods_value_cents, 0.6)
    no_goods_on = None
    if rng.random() < (0.4 if profile == "insolvent" else 0.05):
        no_goods_on = add_months(opened_on, -rng.randrange(1, 31))  # a "PV de carence" on file
    address_known = None
    if truth.moved_away and rng.random() < 0.4:
        address_known = False
    elif not truth.moved_away and rng.random() < 0.3:
        address_known = True
    evidence = Evidence(
        bank_balance_cents=balance,
        monthly_net_income_cents=income,
        dependents=dependents,
        seizable_goods_value_cents=goods,
        address_known=address_known,
        last_no_goods_report_on=no_goods_on,
        bank_balance_seen_on=balance_on,
        income_seen_on=income_on,
        goods_valued_on=goods_on,
    )
    return evidence, EvidenceDates(balance_on, income_on, goods_on)


def _title(rng: random.Random, truth: Truth, opened_on: date) -> Title:
    if truth.title_lapsed:
        if rng.random() < 0.5:  # an old judgment bought with the portfolio, never enforced
            issued = opened_on - timedelta(days=rng.randrange(11 * 365, 14 * 365))
            return Title(kind=TitleKind.JUDGMENT, issued_on=issued, served_on=issued + timedelta(days=30))
        issued = opened_on - timedelta(days=rng.randrange(220, 330))  # an injunction not served in time
        return Title(kind=TitleKind.PAYMENT_ORDER, issued_on=issued)
    kind = rng.choice((TitleKind.PAYMENT_ORDER, TitleKind.JUDGMENT, TitleKind.JUDGMENT))
    # Issued 2 to 5 months before: an injunction not yet served is still valid (6 months), and one
    # served has its one-month opposition window closed before the case opens.
    issued = opened_on - timedelta(days=rng.randrange(60, 150))
    served = issued + timedelta(days=rng.randrange(5, 15)) if rng.random() < 0.4 else None
    return Title(kind=kind, issued_on=issued, served_on=served)


def draw_case(rng: random.Random, ref: str, network: tuple[Office, ...]) -> SimCase:
    person = rng.random() < 0.85
    opened_on = FIRST_OPENING + timedelta(days=rng.randrange(OPENING_DAYS))
    profile, truth = _truth(rng, person, opened_on)
    kind, principal, interest = _claim(rng, person)
    evidence, seen = _evidence(rng, truth, profile, person, opened_on)
    facts = CaseFacts(
        principal_cents=principal,
        interest_cents=interest,
        claim_kind=kind,
        debtor_kind=DebtorKind.PERSON if person else DebtorKind.COMPANY,
        title=_title(rng, truth, opened_on),
        evidence=evidence,
    )
    return SimCase(ref, rng.choice(network), opened_on, facts, truth, seen)


def portfolio(seed: int, cases: int, *, history: bool = False) -> tuple[SimCase, ...]:
    """``cases`` cases drawn from ``seed``; case *n* is the same whatever ``cases`` is. ``history``:
    another portfolio of the same seed, the past cases the hub learned from (none of them in the
    portfolio itself)."""
    # A simulation, reproducible by design; no secret (S311).
    rng = random.Random(f"{seed}/history") if history else random.Random(seed)  # noqa: S311
    network = offices(random.Random(seed))  # noqa: S311 (the same offices in both)
    seeds = [rng.getrandbits(64) for _ in range(cases)]
    prefix = "BH" if history else "BT"
    return tuple(
        draw_case(random.Random(s), f"{prefix}-{seed}-{n:05d}", network)  # noqa: S311
        for n, s in enumerate(seeds)
    )
