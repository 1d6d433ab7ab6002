"""What an act can bring back: the asset it reaches when it is known, the evidence of insolvency when
it is not, and how both age.

- A **known asset** bounds recovery directly: a bank balance less the unseizable minimum and the
  debits pending on it, the seizable share of a known pay over the horizon, goods or a vehicle at
  what they fetch at auction less the sale's costs. It is evidence with a date: counted in full
  while fresh, then less and less, the rest of the weight going to what the act brings back where
  nothing is known.
- An **unknown asset** is never read as empty: the act is expected to bring back the share of the
  balance learned from past reports, lowered by the evidence of insolvency on file (a PV de carence,
  an unknown address, a failed garnishment), each effect fading smoothly with its age.

Each step returns a sentence for the explanation; every assumption made where a fact is unknown is
said too.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from hub.kit.money import Money
from hub.recovery.assumptions import Asset, Assumptions, EvidenceFactor, percent
from hub.recovery.dates import add_months
from hub.recovery.facts import ActRecord, CaseFacts, DebtorKind, OutcomeCode
from hub.tariff.pay_scale import pay_scale_on, seizable_monthly_cents


@dataclass(frozen=True)
class Reason:
    """One reason behind an assessment: a stable code and a sentence a case handler understands."""

    code: str
    message: str


@dataclass(frozen=True)
class KnownAsset:
    """What a known asset yields at most, and how much its age leaves it worth as evidence."""

    asset: Asset
    yield_cents: int
    """What the act would take from the asset if the evidence were true today."""
    weight: Fraction
    """How much the evidence still counts (1: fresh; less as it ages)."""
    reason: Reason
    assumptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvidenceEffect:
    """Evidence of insolvency that lowered the expected recovery, by a factor that fades with age."""

    code: str
    factor: Fraction
    message: str


@functools.lru_cache(maxsize=4096, typed=True)  # ~30 amounts an assessment, mostly the same few per case
def eur(cents: int, currency: str = "EUR") -> str:
    return Money(cents, currency).display()


def elapsed(since: date, on: date, months: int) -> Fraction:
    """How far ``on`` is into the ``months`` after ``since``: 0 on the day, 1 at the end and after."""
    end = add_months(since, months)
    if on <= since:
        return Fraction(0)
    if on >= end:
        return Fraction(1)
    return Fraction((on - since).days, (end - since).days)


def faded(fresh: Fraction, since: date, on: date, months: int) -> Fraction:
    """A factor ``fresh`` on the day of the evidence, back to 1 (no effect) linearly over ``months``."""
    return fresh + (1 - fresh) * elapsed(since, on, months)


def _age_weight(seen_on: date | None, on: date, what: str, a: Assumptions) -> tuple[Fraction, str]:
    terms = a.evidence_age
    if seen_on is None:
        weight = Fraction(terms.undated_bp, 10_000)
        return weight, f"{what} carries no date, so it counts at {percent(weight)} as evidence"
    if seen_on > on:
        return Fraction(1), f"{what} is dated {seen_on.isoformat()}"
    full_until = add_months(seen_on, terms.full_months)
    stale = Fraction(terms.stale_bp, 10_000)
    if on <= full_until:
        return Fraction(1), f"{what} was seen on {seen_on.isoformat()}, recent enough to count in full"
    decline = elapsed(full_until, on, terms.stale_months - terms.full_months)
    weight = 1 - (1 - stale) * decline
    return weight, f"{what} was seen on {seen_on.isoformat()}, so it counts at {percent(weight)} as evidence"


def known_asset(
    case: CaseFacts, asset: Asset, on: date, a: Assumptions, unseizable_cents: int
) -> KnownAsset | None:
    """What the asset yields when it is known (``None``: unknown, never read as empty)."""
    ev = case.evidence
    cur = case.currency
    notes: list[str] = []
    if asset is Asset.BANK_BALANCE:
        if ev.bank_balance_cents is None:
            return None
        pending = ev.pending_debits_cents
        if pending is None:
            pending = 0
            notes.append("Debits pending on the account unknown: none assumed.")
        kept = min(ev.bank_balance_cents, unseizable_cents) if case.debtor_kind is DebtorKind.PERSON else 0
        reachable = max(ev.bank_balance_cents - pending - kept, 0)
        how = f"the known account holds {eur(ev.bank_balance_cents, cur)}"
        if pending:
            how += f", of which {eur(pending, cur)} of pending debits may still be settled (L162-1 CPCE)"
        if kept:
            how += f", and the bank must leave {eur(kept, cur)} to the debtor (solde bancaire insaisissable)"
        weight, age = _age_weight(ev.bank_balance_seen_on, on, "The balance", a)
        code = "KNOWN_BANK_BALANCE"
    elif asset is Asset.PAY:
        if case.debtor_kind is DebtorKind.COMPANY:
            reason = Reason("NO_PAY", "A company earns no wages to garnish.")
            return KnownAsset(asset, 0, Fraction(1), reason)
        if ev.monthly_net_income_cents is None:
            return None
        dependents = ev.dependents
        if dependents is None:
            dependents = 0
            notes.append("Dependents unknown: none assumed, which gives the largest seizable share.")
        monthly = seizable_monthly_cents(ev.monthly_net_income_cents, dependents, on)
        reachable = monthly * a.horizon_months
        how = (
            f"{eur(monthly, cur)} a month is seizable from a net pay of "
            f"{eur(ev.monthly_net_income_cents, cur)} with {dependents} dependent(s) "
            f"({pay_scale_on(on).name} scale), over {a.horizon_months} months: {eur(reachable, cur)}"
        )
        weight, age = _age_weight(ev.income_seen_on, on, "The pay", a)
        code = "KNOWN_PAY"
    else:
        value, seen_on, what = (
            (ev.seizable_goods_value_cents, ev.goods_valued_on, "goods")
            if asset is Asset.GOODS
            else (ev.vehicle_value_cents, ev.vehicle_valued_on, "the vehicle")
        )
        if value is None:
            return None
        visited, _ = last_no_goods_report(case, on)
        if visited is not None and (seen_on is None or seen_on <= visited):
            # A visit that found nothing seizable is newer, direct evidence: the estimate no longer counts.
            return None
        fetched = math.floor(value * a.auction_share)
        reachable = math.floor(fetched * (1 - Fraction(a.sale_costs_bp, 10_000)))
        how = (
            f"{what} estimated at {eur(value, cur)} fetch about {percent(a.auction_share)} at auction "
            f"({eur(fetched, cur)}), less the sale's costs ({percent(Fraction(a.sale_costs_bp, 10_000))}): "
            f"{eur(reachable, cur)}"
        )
        weight, age = _age_weight(seen_on, on, "The estimate", a)
        code = "KNOWN_GOODS" if asset is Asset.GOODS else "KNOWN_VEHICLE"
    reason = Reason(code, f"{how[:1].upper()}{how[1:]}. {age}.")
    return KnownAsset(asset, reachable, weight, reason, tuple(notes))


def _latest(dates: list[date]) -> date | None:
    return max(dates) if dates else None


def last_no_goods_report(case: CaseFacts, on: date) -> tuple[date | None, ActRecord | None]:
    """The latest "PV de carence" (a visit found no seizable goods) on or before ``on``, on the case
    form or reported by an office, with the act report when one says it."""
    history = [r for r in case.acts_before(on) if r.outcome is not None]  # latest first
    report = next(
        (r for r in history if r.act_code == "NO_GOODS_REPORT" or r.outcome is OutcomeCode.NO_SEIZABLE_GOODS),
        None,
    )
    seen = case.evidence.last_no_goods_report_on
    when = _latest(
        [d for d in [seen if seen is not None and seen <= on else None, report.on if report else None] if d]
    )
    return when, report


def _named(record: ActRecord | None) -> str:
    """How a reason names the act report behind a piece of evidence: '' when it has no reference."""
    if record is None or record.reference is None:
        return ""
    by = f" of office {record.office}" if record.office else ""
    return f" (act report {record.reference}{by})"


def _effect(
    code: str, what: str, since: date, on: date, terms: EvidenceFactor, asset: Asset
) -> EvidenceEffect | None:
    fresh = terms.factor(asset)
    factor = faded(fresh, since, on, terms.fade_months)
    if factor >= 1:
        return None
    return EvidenceEffect(
        code,
        factor,
        f"{what}: expected recovery counted at {percent(factor)} (a fresh one counts {percent(fresh)}, "
        f"the effect fading to none over {terms.fade_months} months).",
    )


def evidence_effects(
    case: CaseFacts, asset: Asset, on: date, assumptions: Assumptions
) -> tuple[tuple[EvidenceEffect, ...], tuple[str, ...]]:
    """Evidence of insolvency that lowers the expected recovery from an unknown ``asset``, and what was
    unknown. Only acts reported with an outcome are evidence: an act ordered and not reported yet
    proves nothing."""
    terms = assumptions.evidence
    ev = case.evidence
    history = [r for r in case.acts_before(on) if r.outcome is not None]  # latest first
    effects: list[EvidenceEffect | None] = []
    notes: list[str] = []

    no_goods, report = last_no_goods_report(case, on)
    if no_goods is not None:
        named = _named(report) if report is not None and report.on == no_goods else ""
        what = f"A 'PV de carence' on {no_goods.isoformat()}{named} found no seizable goods"
        effects.append(_effect("NO_GOODS_REPORT", what, no_goods, on, terms.no_goods_report, asset))

    # Unknown address: known false, or a PV 659 when nothing newer is known.
    if ev.address_known is None:
        pv659 = next(
            (
                r
                for r in history
                if r.act_code == "ADDRESS_UNKNOWN_REPORT" or r.outcome is OutcomeCode.ADDRESS_UNKNOWN
            ),
            None,
        )
        if pv659 is not None:
            what = (
                f"A 'PV 659' on {pv659.on.isoformat()}{_named(pv659)} found the debtor gone from the "
                "address on file"
            )
            effects.append(_effect("ADDRESS_UNKNOWN", what, pv659.on, on, terms.address_unknown, asset))
        elif terms.address_unknown.factor(asset) < 1:
            notes.append("Whether the debtor's address is current is unknown: no adjustment made.")
    elif not ev.address_known:
        factor = terms.address_unknown.factor(asset)
        if factor < 1:
            effects.append(
                EvidenceEffect(
                    "ADDRESS_UNKNOWN",
                    factor,
                    "The debtor is known not to live at the address on file: expected recovery counted "
                    f"at {percent(factor)}.",
                )
            )

    # A failed bank garnishment: the latest reported one caught nothing.
    reported = [r for r in history if r.act_code == "BANK_GARNISHMENT"]
    if reported:
        last = reported[0]
        if last.outcome is OutcomeCode.GARNISHMENT_EMPTY and not last.brought_money:
            what = f"A bank garnishment on {last.on.isoformat()}{_named(last)} caught nothing"
            effects.append(_effect("FAILED_GARNISHMENT", what, last.on, on, terms.failed_garnishment, asset))
    return tuple(e for e in effects if e is not None), tuple(notes)
