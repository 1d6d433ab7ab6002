"""Plausible recovery of an act and the cost flag: does this act cost more than it can bring back?

For a case, an act and a date:

- **cost** = the tariff of the act plus the acts it brings along (``requires`` and ``implies`` in
  ``assumptions.toml``: a bank garnishment implies its notice to the debtor; a seizure-and-sale
  requires a payment order unless one is on file);
- **plausible recovery** = min(balance owed, what the asset the act reaches yields) x the act's
  success rate x the factors of the evidence of insolvency on file, rounded down to the cent;
- an act that collects nothing itself (serving a title, a payment order, an information search) is
  judged with the best enforcement path it opens: that path's recovery against its whole cost;
- **flagged** when cost > plausible recovery. A flag is not a ban: it asks a person to decide.

Pure: no I/O and no clock; the catalogue and assumptions are packaged data read once.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import date
from enum import Enum
from fractions import Fraction
from typing import Any

from hub.recovery.assumptions import Assumptions, load_assumptions, percent
from hub.recovery.dates import add_months
from hub.recovery.evidence import (
    EvidenceEffect,
    Reason,
    RecoveryBound,
    eur,
    evidence_effects,
    recovery_bound,
)
from hub.recovery.facts import CaseFacts, InvalidFacts
from hub.recovery.success_rates import SuccessRate, SuccessRates, prior_rates
from hub.tariff.catalogue import ActCost, Catalogue, act_cost, load_catalogue
from hub.tariff.data import NoFigureInForce
from hub.tariff.pay_scale import pay_scale_on

RULE_VERSION = "plausible-recovery/1"


@dataclass(frozen=True)
class PathOption:
    """One enforcement path considered for an act that collects nothing itself."""

    target_act: str
    path: tuple[str, ...]
    cost_cents: int
    plausible_recovery_cents: int


@dataclass(frozen=True)
class Explanation:
    """Everything behind an assessment, for the case handler and for an audit later."""

    rule_version: str
    path: tuple[str, ...]
    """The acts priced, in order (the act itself and what it brings along or opens)."""
    costs: tuple[ActCost, ...]
    """Tariff cost of each act of the path, with its lines."""
    recovery_act: str | None
    """The collecting act whose recovery is counted (``None``: nothing is collected)."""
    bound: RecoveryBound | None
    success_rate: SuccessRate | None
    evidence: tuple[EvidenceEffect, ...]
    evidence_factor: Fraction
    assumptions: tuple[str, ...]
    """Neutral assumptions made where evidence is unknown (``None``), in plain words."""
    alternatives: tuple[PathOption, ...] = ()

    def lines(self) -> list[str]:
        text = [f"Rule {self.rule_version}."]
        for cost in self.costs:
            text += [f"- {line.explanation}" for line in cost.lines]
            text.append(f"  = {eur(cost.total_cents)} for {cost.act_code} (tariff {cost.tariff_version}).")
        if self.bound is not None:
            text.append(self.bound.reason.message)
        if self.success_rate is not None:
            described = self.success_rate.describe()
            text.append(described[:1].upper() + described[1:] + ".")
        text += [effect.message for effect in self.evidence]
        text += list(self.assumptions)
        return text


@dataclass(frozen=True)
class Assessment:
    """The verdict on one act: its cost, what it can plausibly bring back, and why."""

    act_code: str
    on: date
    office: str | None
    cost_cents: int
    plausible_recovery_cents: int
    flagged: bool
    reasons: tuple[Reason, ...]
    explanation: Explanation

    @property
    def provisional(self) -> bool:
        """True when a tariff figure used is an unconfirmed placeholder."""
        return any(cost.provisional for cost in self.explanation.costs)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: fractions as ``"n/d"`` strings, dates ISO, enums by value."""
        result = _jsonable(self)
        assert isinstance(result, dict)
        result["provisional"] = self.provisional
        return result


_LEAVES = frozenset({str, int, bool, float, type(None)})  # exact types: an enum is not one
_FIELDS: dict[type, tuple[str, ...]] = {}
# The tariff costs priced for a batch repeat (``act_cost`` keeps them): each is serialised once.
# Shared between the assessments that quote it, so never changed in place. Bounded: cleared when full.
_COSTS: dict[ActCost, dict[str, Any]] = {}
_COSTS_KEPT = 4096


def _jsonable(value: Any) -> Any:
    if type(value) in _LEAVES:
        return value
    if isinstance(value, ActCost):
        if (known := _COSTS.get(value)) is None:
            if len(_COSTS) >= _COSTS_KEPT:
                _COSTS.clear()
            known = _COSTS[value] = _fields(value)
        return known
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _fields(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _fields(value: Any) -> dict[str, Any]:
    names = _FIELDS.get(type(value))
    if names is None:
        names = _FIELDS[type(value)] = tuple(f.name for f in dataclasses.fields(value))
    return {name: _jsonable(getattr(value, name)) for name in names}


@dataclass(frozen=True)
class _Option:
    path: tuple[str, ...]
    costs: tuple[ActCost, ...]
    recovery_act: str | None
    plausible_cents: int
    reasons: tuple[Reason, ...]
    bound: RecoveryBound | None = None
    rate: SuccessRate | None = None
    effects: tuple[EvidenceEffect, ...] = ()
    factor: Fraction = Fraction(1)
    notes: tuple[str, ...] = ()
    never_flag: bool = False

    @property
    def cost_cents(self) -> int:
        return sum(cost.total_cents for cost in self.costs)


@dataclass(frozen=True)
class _Context:
    case: CaseFacts
    on: date
    office: str | None
    rates: SuccessRates
    assumptions: Assumptions
    catalogue: Catalogue

    def label(self, act_code: str) -> str:
        act = self.catalogue.act(act_code)
        return f"{act.label_en} ({act.name_fr})"

    def on_file(self, act_code: str) -> bool:
        """An act of this code is on the case recently enough to count as done."""
        months = self.assumptions.prior_act_valid_months
        # Any one will do: no need for acts_before's sorted list (this runs for every report).
        return any(
            record.act_code == act_code and record.on <= self.on and add_months(record.on, months) >= self.on
            for record in self.case.acts
        )

    def expand(self, act_code: str, planned: tuple[str, ...] = ()) -> tuple[str, ...]:
        """The act with the acts it requires (unless done or planned) and the acts it implies."""
        role = self.assumptions.role(act_code)
        before = tuple(r for r in role.requires if r not in planned and not self.on_file(r))
        return (*before, act_code, *role.implies)

    def price(self, path: tuple[str, ...]) -> tuple[ActCost, ...]:
        """Tariff cost of each act; the engagement fee is charged once per case."""
        period = self.catalogue.period_on(self.on)

        def bears(code: str) -> bool:
            return code in period.fees and period.fees[code].bears_engagement_fee

        charged = any(bears(r.act_code) for r in self.case.acts if r.on <= self.on)
        costs = []
        for code in path:
            costs.append(
                act_cost(
                    code,
                    self.case.outstanding_cents,
                    self.on,
                    engagement_fee_already_charged=charged,
                    catalogue=self.catalogue,
                )
            )
            charged = charged or bears(code)
        return tuple(costs)

    def collecting(self, target: str, path: tuple[str, ...], reasons: tuple[Reason, ...]) -> _Option:
        asset = self.assumptions.role(target).asset
        assert asset is not None
        bound = recovery_bound(self.case, asset, self.assumptions, self.on)
        rate = self.rates.rate(target, self.office)
        effects, notes = evidence_effects(self.case, asset, self.on, self.assumptions)
        factor = math.prod((e.factor for e in effects), start=Fraction(1))
        plausible = math.floor(bound.bound_cents * rate.value * factor)
        return _Option(
            path,
            self.price(path),
            target,
            plausible,
            reasons,
            bound,
            rate,
            effects,
            factor,
            bound.assumptions + notes,
        )


def _brought_along(ctx: _Context, act_code: str, path: tuple[str, ...]) -> tuple[Reason, ...]:
    extra = [code for code in path if code != act_code]
    if not extra:
        return ()
    labels = ", ".join(ctx.label(code) for code in extra)
    return (Reason("PRICED_WITH_REQUIRED_ACTS", f"Priced together with the acts it brings along: {labels}."),)


def _options(ctx: _Context, act_code: str) -> list[_Option]:
    role = ctx.assumptions.role(act_code)
    label = ctx.label(act_code)
    if role.asset is not None:
        path = ctx.expand(act_code)
        return [ctx.collecting(act_code, path, _brought_along(ctx, act_code, path))]
    if role.opens:
        options = []
        for target in role.opens:
            head = (act_code, *role.via)
            path = head + ctx.expand(target, planned=head)
            cost = sum(c.total_cents for c in ctx.price(path))
            reason = Reason(
                "JUDGED_WITH_PATH",
                f"{label} brings nothing back by itself: it is judged with the enforcement it opens, "
                f"{ctx.label(target)}, against the cost of that whole path ({len(path)} acts, {eur(cost)}).",
            )
            options.append(ctx.collecting(target, path, (reason,)))
        return options
    if role.secures is not None:
        return [_securing(ctx, act_code, role.secures)]
    if role.duty is not None:
        reason = Reason("LEGAL_DUTY", role.duty)
        return [_Option((act_code,), ctx.price((act_code,)), None, 0, (reason,), never_flag=True)]
    reason = Reason("COLLECTS_NOTHING", f"{label} brings nothing back and opens no enforcement that could.")
    return [_Option((act_code,), ctx.price((act_code,)), None, 0, (reason,))]


def _securing(ctx: _Context, act_code: str, secured: str) -> _Option:
    """A follow-up (the garnishment notice) is worth what the act it keeps alive caught."""
    path = (act_code,)
    earlier = ctx.case.acts_before(ctx.on, codes=frozenset({secured}))
    if not earlier:
        reason = Reason(
            "NOTHING_TO_SECURE",
            f"No {ctx.label(secured)} is on file for this {ctx.label(act_code)} to follow.",
        )
        return _Option(path, ctx.price(path), None, 0, (reason,))
    last = earlier[0]
    if last.outcome is None:
        reason = Reason(
            "SECURES_PENDING_ACT",
            f"It keeps alive the {ctx.label(secured)} of {last.on.isoformat()}, not reported yet: "
            "judged by what that act can plausibly catch.",
        )
        option = ctx.collecting(secured, path, (reason,))
        return option
    kept = min(last.seized_cents, ctx.case.outstanding_cents)
    reason = Reason(
        "SECURES_SEIZED_MONEY",
        f"It keeps the {eur(kept, ctx.case.currency)} caught by the {ctx.label(secured)} of "
        f"{last.on.isoformat()}, which lapses without it.",
    )
    return _Option(path, ctx.price(path), secured, kept, (reason,))


def _verdict(cost: int, plausible: int, flagged: bool, currency: str) -> Reason:
    if flagged:
        return Reason(
            "COST_ABOVE_RECOVERY",
            f"Flagged: this act would cost {eur(cost, currency)} but can plausibly bring back only "
            f"{eur(plausible, currency)}.",
        )
    return Reason(
        "COST_WITHIN_RECOVERY",
        f"This act should cost {eur(cost, currency)} and can plausibly bring back "
        f"{eur(plausible, currency)}.",
    )


def _pay_scale_name(on: date) -> str:
    try:
        return pay_scale_on(on).name
    except NoFigureInForce:
        return f"none in force on {on.isoformat()}"


def rule_version(assumptions: Assumptions, catalogue: Catalogue, on: date) -> str:
    return (
        f"{RULE_VERSION}; assumptions {assumptions.version}; tariff {catalogue.period_on(on).name} "
        f"(catalogue {catalogue.version}); pay scale {_pay_scale_name(on)}"
    )


def is_flagged(cost_cents: int, plausible_recovery_cents: int) -> bool:
    """The cost flag: the act costs more than it can plausibly bring back."""
    return cost_cents > plausible_recovery_cents


def assess(
    case: CaseFacts,
    act_code: str,
    on: date,
    *,
    office: str | None = None,
    rates: SuccessRates | None = None,
    assumptions: Assumptions | None = None,
    catalogue: Catalogue | None = None,
) -> Assessment:
    """Assess ``act_code`` on ``case`` as of ``on``, by ``office`` when known.

    ``rates``: success rates learned from past act reports (``learn_success_rates``); without them
    the priors of ``assumptions.toml`` are used. ``case.acts`` must not contain the assessed act
    itself, but may contain acts planned alongside it (outcome ``None``).
    """
    cat = catalogue or load_catalogue()
    terms = assumptions or load_assumptions()
    if case.currency != cat.currency:
        raise InvalidFacts(f"the tariff is in {cat.currency}; this case is in {case.currency}")
    cat.act(act_code)  # an unknown code fails here, with the list of known ones
    ctx = _Context(case, on, office, rates or prior_rates(assumptions=terms), terms, cat)
    options = _options(ctx, act_code)
    # First best net recovery wins: the data file lists paths in order of preference.
    best = max(options, key=lambda o: o.plausible_cents - o.cost_cents)
    cost = best.cost_cents
    flagged = not best.never_flag and is_flagged(cost, best.plausible_cents)
    reasons = [_verdict(cost, best.plausible_cents, flagged, case.currency)]
    reasons += [Reason(e.code, e.message) for e in best.effects]
    if best.bound is not None:
        reasons.append(best.bound.reason)
    reasons += best.reasons
    alternatives = tuple(
        PathOption(o.recovery_act or "", o.path, o.cost_cents, o.plausible_cents)
        for o in options
        if o is not best and o.recovery_act is not None
    )
    explanation = Explanation(
        rule_version=rule_version(terms, cat, on),
        path=best.path,
        costs=best.costs,
        recovery_act=best.recovery_act,
        bound=best.bound,
        success_rate=best.rate,
        evidence=best.effects,
        evidence_factor=best.factor,
        assumptions=best.notes,
        alternatives=alternatives,
    )
    return Assessment(
        act_code=act_code,
        on=on,
        office=office,
        cost_cents=cost,
        plausible_recovery_cents=best.plausible_cents,
        flagged=flagged,
        reasons=tuple(reasons),
        explanation=explanation,
    )


__all__ = [
    "RULE_VERSION",
    "Assessment",
    "EvidenceEffect",
    "Explanation",
    "PathOption",
    "Reason",
    "RecoveryBound",
    "assess",
    "is_flagged",
    "percent",
    "rule_version",
]
