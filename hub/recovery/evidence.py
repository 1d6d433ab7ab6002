"""What bounds an act's recovery: the asset it reaches, and the evidence of insolvency that lowers it.

Unknown evidence (``None``) is never read as zero. An unknown asset does not bound recovery (the
balance owed does, and the success rate learned from past reports carries the uncertainty); an
unknown flag moves nothing. Each such assumption is returned as a sentence for the explanation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from hub.kit.money import Money
from hub.recovery.assumptions import Asset, Assumptions, EvidenceFactor, percent
from hub.recovery.dates import add_months
from hub.recovery.facts import ActRecord, CaseFacts, DebtorKind, OutcomeCode
from hub.tariff.pay_scale import pay_scale_on, seizable_monthly_cents
from hub.tariff.rsa import unseizable_bank_minimum


@dataclass(frozen=True)
class Reason:
    """One reason behind an assessment: a stable code and a sentence a case handler understands."""

    code: str
    message: str


@dataclass(frozen=True)
class RecoveryBound:
    """The most an act could bring back if it succeeded: the balance owed, capped by the asset."""

    asset: Asset
    outstanding_cents: int
    asset_cents: int | None
    """What the asset yields at most (``None``: unknown, so it does not bound)."""
    bound_cents: int
    reason: Reason
    assumptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvidenceEffect:
    """Evidence of insolvency that lowered recovery, by a factor taken from the assumptions."""

    code: str
    factor: Fraction
    message: str


def eur(cents: int, currency: str = "EUR") -> str:
    return Money(cents, currency).display()


def _asset_yield(
    case: CaseFacts, asset: Asset, a: Assumptions, on: date
) -> tuple[int | None, str, list[str]]:
    """(what the asset yields at most or None, how it was computed, assumptions made), with the legal
    figures in force on ``on``."""
    ev = case.evidence
    cur = case.currency
    if asset is Asset.BANK_BALANCE:
        if ev.bank_balance_cents is None:
            return (
                None,
                "no account balance is known",
                ["Bank balance unknown: not read as an empty account."],
            )
        if case.debtor_kind is DebtorKind.PERSON:
            minimum = unseizable_bank_minimum(on)
            kept = min(ev.bank_balance_cents, minimum.cents)
            reachable = ev.bank_balance_cents - kept
            how = (
                f"the known account holds {eur(ev.bank_balance_cents, cur)}, of which the bank must leave "
                f"{eur(kept, cur)} to the debtor (solde bancaire insaisissable: the single-person RSA, "
                f"period {minimum.provenance.period})"
            )
            return reachable, how, []
        return ev.bank_balance_cents, f"the known account holds {eur(ev.bank_balance_cents, cur)}", []
    if asset is Asset.PAY:
        if case.debtor_kind is DebtorKind.COMPANY:
            return 0, "a company earns no wages to garnish", []
        if ev.monthly_net_income_cents is None:
            return None, "the debtor's pay is unknown", ["Pay unknown: not read as no income."]
        notes = []
        dependents = ev.dependents
        if dependents is None:
            dependents = 0
            notes.append("Dependents unknown: none assumed, which gives the largest seizable share.")
        monthly = seizable_monthly_cents(ev.monthly_net_income_cents, dependents, on)
        scale = pay_scale_on(on)
        how = (
            f"{eur(monthly, cur)} a month is seizable from a net pay of "
            f"{eur(ev.monthly_net_income_cents, cur)} with {dependents} dependent(s) "
            f"({scale.name} scale{'' if scale.confirmed else ', unconfirmed'}), "
            f"over {a.horizon_months} months"
        )
        return monthly * a.horizon_months, how, notes
    if ev.seizable_goods_value_cents is None:
        return None, "the value of seizable goods is unknown", ["Goods value unknown: not read as no goods."]
    fetched = math.floor(ev.seizable_goods_value_cents * a.auction_share)
    how = (
        f"goods estimated at {eur(ev.seizable_goods_value_cents, cur)} fetch about "
        f"{percent(a.auction_share)} at auction"
    )
    return fetched, how, []


_BOUND_CODES = {
    Asset.BANK_BALANCE: "BOUND_BY_BANK_BALANCE",
    Asset.PAY: "BOUND_BY_SEIZABLE_PAY",
    Asset.GOODS: "BOUND_BY_AUCTION_VALUE",
}


def recovery_bound(case: CaseFacts, asset: Asset, assumptions: Assumptions, on: date) -> RecoveryBound:
    """min(balance owed, what the asset yields on ``on``); an unknown asset leaves the balance owed."""
    owed = case.outstanding_cents
    cur = case.currency
    yielded, how, notes = _asset_yield(case, asset, assumptions, on)
    if yielded is None:
        reason = Reason(
            "ASSET_UNKNOWN",
            f"Recovery is bounded by the balance owed, {eur(owed, cur)}: {how}, so the success rate "
            "learned from past reports stands for that uncertainty.",
        )
        return RecoveryBound(asset, owed, None, owed, reason, tuple(notes))
    if yielded >= owed:
        reason = Reason(
            "BOUND_BY_BALANCE_OWED",
            f"Recovery is bounded by the balance owed, {eur(owed, cur)} ({how}: {eur(yielded, cur)}).",
        )
        return RecoveryBound(asset, owed, yielded, owed, reason, tuple(notes))
    reason = Reason(
        _BOUND_CODES[asset],
        f"Recovery is bounded by {eur(yielded, cur)}, less than the {eur(owed, cur)} owed: {how}.",
    )
    return RecoveryBound(asset, owed, yielded, yielded, reason, tuple(notes))


def _recent(when: date, on: date, terms: EvidenceFactor) -> bool:
    return when <= on <= add_months(when, terms.recent_months)


def _latest(dates: list[date]) -> date | None:
    return max(dates) if dates else None


def _named(record: ActRecord | None) -> str:
    """How a reason names the act report behind a piece of evidence: '' when it has no reference."""
    if record is None or record.reference is None:
        return ""
    by = f" of office {record.office}" if record.office else ""
    return f" (act report {record.reference}{by})"


def evidence_effects(
    case: CaseFacts, asset: Asset, on: date, assumptions: Assumptions
) -> tuple[tuple[EvidenceEffect, ...], tuple[str, ...]]:
    """Evidence of insolvency that lowers recovery from ``asset``, and what was unknown. Only acts
    reported with an outcome are evidence: an act ordered and not reported yet proves nothing."""
    terms = assumptions.evidence
    ev = case.evidence
    history = [r for r in case.acts_before(on) if r.outcome is not None]  # latest first
    effects: list[EvidenceEffect] = []
    notes: list[str] = []

    # "PV de carence": a visit found no seizable goods (on the case form, or reported by an office).
    report = next(
        (r for r in history if r.act_code == "NO_GOODS_REPORT" or r.outcome is OutcomeCode.NO_SEIZABLE_GOODS),
        None,
    )
    no_goods = _latest(
        [d for d in [ev.last_no_goods_report_on, report.on if report is not None else None] if d is not None]
    )
    if no_goods is not None and _recent(no_goods, on, terms.no_goods_report):
        factor = terms.no_goods_report.factor(asset)
        named = _named(report) if report is not None and report.on == no_goods else ""
        if factor < 1:
            effects.append(
                EvidenceEffect(
                    "RECENT_NO_GOODS_REPORT",
                    factor,
                    f"A 'PV de carence' on {no_goods.isoformat()}{named} found no seizable goods: "
                    f"recovery counted at {percent(factor)}.",
                )
            )

    # Unknown address: known false, or a recent PV 659 when nothing newer is known.
    if ev.address_known is None:
        pv659 = next(
            (
                r
                for r in history
                if r.act_code == "ADDRESS_UNKNOWN_REPORT" or r.outcome is OutcomeCode.ADDRESS_UNKNOWN
            ),
            None,
        )
        if pv659 is not None and _recent(pv659.on, on, terms.address_unknown):
            what = (
                f"A 'PV 659' on {pv659.on.isoformat()}{_named(pv659)} found the debtor gone from the "
                "address on file"
            )
        else:
            what = None
            if terms.address_unknown.factor(asset) < 1:
                notes.append("Whether the debtor's address is current is unknown: no adjustment made.")
    else:
        what = None if ev.address_known else "The debtor is known not to live at the address on file"
    if what is not None:
        factor = terms.address_unknown.factor(asset)
        if factor < 1:
            effects.append(
                EvidenceEffect("ADDRESS_UNKNOWN", factor, f"{what}: recovery counted at {percent(factor)}.")
            )

    # A failed bank garnishment: the latest reported one caught nothing.
    reported = [r for r in history if r.act_code == "BANK_GARNISHMENT"]
    if reported:
        last = reported[0]
        failed = last.outcome is OutcomeCode.GARNISHMENT_EMPTY and not last.brought_money
        if failed and _recent(last.on, on, terms.failed_garnishment):
            factor = terms.failed_garnishment.factor(asset)
            if factor < 1:
                effects.append(
                    EvidenceEffect(
                        "RECENT_FAILED_GARNISHMENT",
                        factor,
                        f"A bank garnishment on {last.on.isoformat()}{_named(last)} caught nothing: "
                        f"recovery counted at {percent(factor)}.",
                    )
                )
    return tuple(effects), tuple(notes)
