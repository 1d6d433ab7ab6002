"""The cost flag: does this act leave the creditor worse off than not ordering it?

For a case, an act and a date, the rule works out what the creditor can expect:

- **cost** = the tariff of the act plus the acts it brings along (``requires`` and ``implies`` in
  ``assumptions.toml``: a bank garnishment implies its notice to the debtor; a seizure-and-sale
  requires a payment order unless one is on file);
- **expected recovery** = what the act is expected to bring in. A known asset bounds it directly
  (a garnishment catches the balance owed and the costs, up to what the asset yields), weighed by
  how fresh that evidence is; where nothing is known, the share of the balance such acts brought
  back in past reports, lowered by the evidence of insolvency on file (``hub.recovery.evidence``);
- **the creditor's expected net** (``hub.recovery.economics``): the money reaching the creditor,
  minus what it bears: the part of the costs not covered by what is seized (costs are taken first
  from it), the collection fee on the money collected, the VAT it cannot reclaim;
- an act that collects nothing itself (serving a title, a payment order, an information search) is
  judged with the best enforcement path it opens: that path's expected net;
- **flagged** when the expected net is negative: the act destroys value. A flag is not a ban: it
  asks a person to decide. A legal duty (a release) and the outcome of a visit (a PV de carence, a
  PV 659, an attempted execution: nobody orders them) are assessed but never flagged.

Pure: no I/O and no clock; the catalogue and assumptions are packaged data read once.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from fractions import Fraction
from typing import Any, ClassVar

from hub.recovery import economics
from hub.recovery.assumptions import Asset, Assumptions, load_assumptions, percent
from hub.recovery.dates import add_months
from hub.recovery.economics import CreditorNet
from hub.recovery.evidence import EvidenceEffect, KnownAsset, Reason, eur, evidence_effects, known_asset
from hub.recovery.facts import ActRecord, CaseFacts, InvalidFacts
from hub.recovery.recovery_rates import RecoveryRate, RecoveryRates, prior_rates
from hub.tariff.catalogue import (
    ActCost,
    Catalogue,
    TariffPeriod,
    act_cost,
    engagement_fee_cents,
    load_catalogue,
)
from hub.tariff.data import NoFigureInForce
from hub.tariff.fees import collection_fee as tariff_collection_fee
from hub.tariff.pay_scale import pay_scale_on
from hub.tariff.rsa import unseizable_bank_minimum

RULE_VERSION = "creditor-net/2"
NOT_WEIGHED = "NOT_A_RECOVERY_DECISION"
"""The reason code of an act assessed but never weighed against recovery (a duty, a visit's outcome)."""


@dataclass(frozen=True)
class PathOption:
    """One enforcement path considered for an act that collects nothing itself."""

    target_act: str
    path: tuple[str, ...]
    cost_cents: int
    expected_recovery_cents: int
    expected_net_cents: int


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
    known_asset: KnownAsset | None
    recovery_rate: RecoveryRate | None
    evidence: tuple[EvidenceEffect, ...]
    evidence_factor: Fraction
    economics: CreditorNet
    assumptions: tuple[str, ...]
    """Neutral assumptions made where evidence is unknown (``None``), in plain words."""
    figures: tuple[str, ...]
    """The legal figures used, each with its period and source."""
    alternatives: tuple[PathOption, ...] = ()

    def lines(self, currency: str = "EUR") -> list[str]:
        text = [f"Rule {self.rule_version}."]
        for cost in self.costs:
            text += [f"- {line.explanation}" for line in cost.lines]
            text.append(f"  = {eur(cost.total_cents)} for {cost.act_code} (tariff {cost.tariff_version}).")
        if self.known_asset is not None:
            text.append(self.known_asset.reason.message)
        if self.recovery_rate is not None:
            described = self.recovery_rate.describe()
            text.append(described[:1].upper() + described[1:] + ".")
        text += [effect.message for effect in self.evidence]
        text += self.economics.lines(currency)
        text += list(self.assumptions)
        text += [f"Figure used: {figure}" for figure in self.figures]
        return text


@dataclass(frozen=True)
class Assessment:
    """The verdict on one act: its cost, what it can be expected to bring in, the creditor's net, and why."""

    act_code: str
    on: date
    office: str | None
    cost_cents: int
    expected_recovery_cents: int
    expected_net_cents: int
    flagged: bool
    reasons: tuple[Reason, ...]
    explanation: Explanation

    @property
    def provisional(self) -> bool:
        """True when a tariff figure used is an unconfirmed placeholder."""
        return any(cost.provisional for cost in self.explanation.costs)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: fractions as ``"n/d"`` strings, dates ISO, enums by value. A new dict each
        call, to which the caller may add keys; what it holds is shared between calls (an assessment
        an ``Assessor`` remembers is stored with many reports), so never changed in place."""
        return dict(self._json)

    @property
    def json_form(self) -> Mapping[str, Any]:
        """What ``as_dict`` copies: the same object each call, shared, never changed."""
        return self._json

    @functools.cached_property
    def json_text(self) -> str:
        """``json.dumps(self.as_dict())``, encoded once: a remembered verdict is stored with many reports."""
        return json.dumps(self._json)

    @functools.cached_property
    def _json(self) -> dict[str, Any]:
        result = _jsonable(self)
        assert isinstance(result, dict)
        result["provisional"] = self.provisional
        return result


_LEAVES = frozenset({str, int, bool, float, type(None)})  # exact types: an enum is not one
_FIELDS: dict[type, tuple[str, ...]] = {}
# What a batch's assessments repeat (the tariff costs ``act_cost`` keeps, the learned rates a chunk's
# rates keep) is serialised once. Shared between the assessments that quote it, so never changed in
# place. Bounded: cleared when full.
_REPEATED = frozenset({ActCost, RecoveryRate})
_SERIALISED: dict[ActCost | RecoveryRate, dict[str, Any]] = {}
_SERIALISED_KEPT = 4096


def _jsonable(value: Any) -> Any:
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind in _REPEATED:
        if (known := _SERIALISED.get(value)) is None:
            if len(_SERIALISED) >= _SERIALISED_KEPT:
                _SERIALISED.clear()
            known = _SERIALISED[value] = _fields(value)
        return known
    if kind is tuple or kind is list:
        return [_jsonable(v) for v in value]
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
    expected_cents: int
    net: CreditorNet
    reasons: tuple[Reason, ...]
    known: KnownAsset | None = None
    rate: RecoveryRate | None = None
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
    rates: RecoveryRates
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

    @functools.cached_property
    def _period(self) -> TariffPeriod:
        return self.catalogue.period_on(self.on)

    def _bears(self, code: str) -> bool:
        fees = self._period.fees
        return code in fees and fees[code].bears_engagement_fee

    @functools.cached_property
    def _charged_before(self) -> bool:
        # Asked for every act priced and every collection fee: the case's history is read once.
        return any(self._bears(r.act_code) for r in self.case.acts if r.on <= self.on)

    def engagement_charged_before(self) -> bool:
        return self._charged_before

    @functools.cached_property
    def _priced(self) -> dict[tuple[str, ...], tuple[ActCost, ...]]:
        return {}

    def price(self, path: tuple[str, ...]) -> tuple[ActCost, ...]:
        """Tariff cost of each act; the engagement fee is charged once per case. A path is priced
        once (a path an act opens is priced for its reason, then for its option)."""
        if (known := self._priced.get(path)) is None:
            known = self._priced[path] = self._price(path)
        return known

    def _price(self, path: tuple[str, ...]) -> tuple[ActCost, ...]:
        charged = self.engagement_charged_before()
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
            charged = charged or self._bears(code)
        return tuple(costs)

    def unseizable_cents(self) -> int:
        return unseizable_bank_minimum(self.on).cents

    def collection_fee(self, collected_cents: int, costs: tuple[ActCost, ...]) -> economics.CollectionFee:
        """The A444-32 fee the creditor owes on ``collected_cents``, less the engagement fee paid."""
        cur = self.case.currency
        if collected_cents <= 0:
            return economics.CollectionFee(
                0, 0, "Collection fee: none, no money is expected to be collected."
            )
        dep = sum(c.engagement_fee_cents for c in costs)
        if dep == 0 and self.engagement_charged_before():
            dep = engagement_fee_cents(self.case.outstanding_cents, self.on, catalogue=self.catalogue)
        fee = tariff_collection_fee(
            collected_cents,
            self.on,
            claim_kind=self.case.claim_kind.value,
            engagement_fee_deducted_cents=dep,
            catalogue=self.catalogue,
        )
        period = self._period
        rate_bp = period.vat_rate_bp
        due, vat = fee.cents, period.vat_cents(fee.cents)
        text = fee.explanation
        if due + vat > collected_cents:
            # Assumed: the fee never takes more than the money it is charged on (the minimum fee
            # would otherwise make a few cents collected worse than none).
            due = collected_cents * 10_000 // (10_000 + rate_bp)
            vat = collected_cents - due
            text += f" Counted at most at the money collected: {eur(due, cur)} excl. VAT."
        return economics.CollectionFee(due, vat, text, fee.provenance.describe())

    def net(self, expected: int, costs: tuple[ActCost, ...]) -> CreditorNet:
        owed = self.case.outstanding_cents
        cost = sum(c.total_cents for c in costs)
        to_creditor = economics.to_creditor_cents(expected, cost, owed)
        return economics.creditor_net(
            expected_recovery_cents=expected,
            cost_cents=cost,
            cost_vat_cents=sum(c.vat_cents for c in costs),
            owed_cents=owed,
            collection_fee=self.collection_fee(to_creditor, costs),
            reclaims_vat=self.case.creditor_reclaims_vat,
            currency=self.case.currency,
        )

    def collecting(self, target: str, path: tuple[str, ...], reasons: tuple[Reason, ...]) -> _Option:
        asset = self.assumptions.role(target).asset
        assert asset is not None
        costs = self.price(path)
        owed = self.case.outstanding_cents
        rate = self.rates.rate(target, self.office)
        effects, notes = evidence_effects(self.case, asset, self.on, self.assumptions)
        factor = math.prod((e.factor for e in effects), start=Fraction(1))
        unknown = owed * rate.value * factor
        known = known_asset(self.case, asset, self.on, self.assumptions, self.unseizable_cents())
        if known is None:
            expected = math.floor(unknown)
            return _Option(path, costs, target, expected, self.net(expected, costs), reasons, None, rate,
                           effects, factor, notes)  # fmt: skip
        # A garnishment catches the balance owed and the costs of the act, up to what the asset yields.
        caught = min(known.yield_cents, owed + sum(c.total_cents for c in costs))
        expected = math.floor(known.weight * caught + (1 - known.weight) * unknown)
        if known.weight == 1:  # fresh evidence stands alone: nothing learned is mixed in
            return _Option(path, costs, target, expected, self.net(expected, costs), reasons, known,
                           notes=known.assumptions + notes)  # fmt: skip
        rest = (
            f"The rest of the weight ({percent(1 - known.weight)}) goes to what the act brings back "
            "where nothing is known."
        )
        return _Option(path, costs, target, expected, self.net(expected, costs), reasons, known, rate,
                       effects, factor, (*known.assumptions, *notes, rest))  # fmt: skip

    def nothing(
        self, path: tuple[str, ...], reasons: tuple[Reason, ...], *, never_flag: bool = False
    ) -> _Option:
        costs = self.price(path)
        return _Option(path, costs, None, 0, self.net(0, costs), reasons, never_flag=never_flag)


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
        own = ctx.rates.rate(act_code, ctx.office)
        if own.value > 0:
            # Success is money: a debtor may pay once served or ordered to, and reports teach how much.
            costs = ctx.price((act_code,))
            expected = math.floor(ctx.case.outstanding_cents * own.value)
            reason = Reason(
                "BRINGS_MONEY_ITSELF",
                f"{label} is judged on its own too: past reports show debtors paying after it.",
            )
            options.append(
                _Option((act_code,), costs, act_code, expected, ctx.net(expected, costs), (reason,), rate=own)
            )
        itself = "" if own.value > 0 else " brings nothing back by itself: it"
        for target in role.opens:
            head = (act_code, *role.via)
            path = head + ctx.expand(target, planned=head)
            cost = sum(c.total_cents for c in ctx.price(path))
            reason = Reason(
                "JUDGED_WITH_PATH",
                f"{label}{itself} is judged with the enforcement it opens, {ctx.label(target)}, against "
                f"the cost of that whole path ({len(path)} acts, {eur(cost)}).",
            )
            options.append(ctx.collecting(target, path, (reason,)))
        return options
    if role.secures is not None:
        return [_securing(ctx, act_code, role.secures)]
    if role.duty is not None:
        return [ctx.nothing((act_code,), (Reason("LEGAL_DUTY", role.duty),), never_flag=True)]
    if role.outcome_of is not None:
        reason = Reason(
            "OUTCOME_OF_A_VISIT",
            f"{role.outcome_of} Nobody orders it, so it is never flagged after the fact.",
        )
        return [ctx.nothing((act_code,), (reason,), never_flag=True)]
    reason = Reason("COLLECTS_NOTHING", f"{label} brings nothing back and opens no enforcement that could.")
    return [ctx.nothing((act_code,), (reason,))]


def _securing(ctx: _Context, act_code: str, secured: str) -> _Option:
    """A follow-up (the garnishment notice) is worth what the act it keeps alive caught."""
    path = (act_code,)
    earlier = ctx.case.acts_before(ctx.on, codes=frozenset({secured}))
    if not earlier:
        reason = Reason(
            "NOTHING_TO_SECURE",
            f"No {ctx.label(secured)} is on file for this {ctx.label(act_code)} to follow.",
        )
        return ctx.nothing(path, (reason,))
    last = earlier[0]
    if last.outcome is None:
        reason = Reason(
            "SECURES_PENDING_ACT",
            f"It keeps alive the {ctx.label(secured)} of {last.on.isoformat()}, not reported yet: "
            "judged by what that act can be expected to catch.",
        )
        return ctx.collecting(secured, path, (reason,))
    kept = min(last.seized_cents, ctx.case.outstanding_cents)
    reason = Reason(
        "SECURES_SEIZED_MONEY",
        f"It keeps the {eur(kept, ctx.case.currency)} caught by the {ctx.label(secured)} of "
        f"{last.on.isoformat()}, which lapses without it.",
    )
    costs = ctx.price(path)
    return _Option(path, costs, secured, kept, ctx.net(kept, costs), (reason,))


def _verdict(option: _Option, flagged: bool, currency: str) -> Reason:
    net = option.net
    if flagged:
        return Reason(
            "CREDITOR_LOSES",
            f"Flagged: this act would cost {eur(option.cost_cents, currency)} and is expected to bring in "
            f"{eur(option.expected_cents, currency)}; the creditor can expect to lose "
            f"{eur(-net.net_cents, currency)} by ordering it.",
        )
    if option.never_flag:
        return Reason(
            NOT_WEIGHED,
            f"This act should cost {eur(option.cost_cents, currency)}; it is not weighed against recovery.",
        )
    return Reason(
        "CREDITOR_GAINS",
        f"This act should cost {eur(option.cost_cents, currency)} and is expected to bring in "
        f"{eur(option.expected_cents, currency)}: {eur(net.net_cents, currency)} expected net to the "
        "creditor.",
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


def _figures(ctx: _Context, option: _Option) -> tuple[str, ...]:
    period = ctx.catalogue.period_on(ctx.on)
    used = [f"tariff {period.name} ({period.span()}): {period.source}"]
    if option.known is not None and option.known.asset is Asset.BANK_BALANCE:
        minimum = unseizable_bank_minimum(ctx.on)
        origin = minimum.provenance
        used.append(
            f"unseizable bank minimum {eur(minimum.cents)} (the single-person RSA), period {origin.period} "
            f"({origin.span()}): {origin.source}"
        )
    if option.known is not None and option.known.asset is Asset.PAY:
        scale = pay_scale_on(ctx.on)
        used.append(scale.provenance().describe())
    if option.net.collection_fee_provenance is not None:
        used.append(option.net.collection_fee_provenance)
    return tuple(used)


def assess(
    case: CaseFacts,
    act_code: str,
    on: date,
    *,
    office: str | None = None,
    rates: RecoveryRates | None = None,
    assumptions: Assumptions | None = None,
    catalogue: Catalogue | None = None,
) -> Assessment:
    """Assess ``act_code`` on ``case`` as of ``on``, by ``office`` when known.

    ``rates``: expected recovery learned from past act reports (``learn_recovery_rates``); without
    them the priors of ``assumptions.toml`` are used. ``case.acts`` must not contain the assessed act
    itself, but may contain acts planned alongside it (outcome ``None``).
    """
    cat = catalogue or load_catalogue()
    terms = assumptions or load_assumptions()
    if case.currency != cat.currency:
        raise InvalidFacts(f"the tariff is in {cat.currency}; this case is in {case.currency}")
    cat.act(act_code)  # an unknown code fails here, with the list of known ones
    ctx = _Context(case, on, office, rates or prior_rates(assumptions=terms), terms, cat)
    options = _options(ctx, act_code)
    # First best net wins: the data file lists paths in order of preference.
    best = max(options, key=lambda o: o.net.net_cents)
    flagged = not best.never_flag and best.net.destroys_value
    reasons = [_verdict(best, flagged, case.currency)]
    reasons += [Reason(e.code, e.message) for e in best.effects]
    if best.known is not None:
        reasons.append(best.known.reason)
    reasons += best.reasons
    alternatives = tuple(
        PathOption(o.recovery_act or "", o.path, o.cost_cents, o.expected_cents, o.net.net_cents)
        for o in options
        if o is not best and o.recovery_act is not None
    )
    explanation = Explanation(
        rule_version=rule_version(terms, cat, on),
        path=best.path,
        costs=best.costs,
        recovery_act=best.recovery_act,
        known_asset=best.known,
        recovery_rate=best.rate,
        evidence=best.effects,
        evidence_factor=best.factor,
        economics=best.net,
        assumptions=best.notes,
        figures=_figures(ctx, best),
        alternatives=alternatives,
    )
    return Assessment(
        act_code=act_code,
        on=on,
        office=office,
        cost_cents=best.cost_cents,
        expected_recovery_cents=best.expected_cents,
        expected_net_cents=best.net.net_cents,
        flagged=flagged,
        reasons=tuple(reasons),
        explanation=explanation,
    )


def history_read(case: CaseFacts, on: date) -> tuple[ActRecord, ...]:
    """The acts of ``case`` an assessment on ``on`` reads: those dated on or before it, each distinct
    one once, in their order. The rules ask whether an act of a code is on file and which is the
    latest one (the first in order among those of the latest date), never how many there are: two
    histories that differ only by acts after ``on`` or by repeats are assessed alike."""
    return tuple(dict.fromkeys(record for record in case.acts if record.on <= on))


# Every field of a case's facts but its acts, which a verdict's key holds as the rules read them
# (``history_read``): the facts' equality without building a copy of them for each key.
_facts_but_acts = operator.attrgetter(*(f.name for f in dataclasses.fields(CaseFacts) if f.name != "acts"))


class Assessor:
    """``assess`` for many acts against the same learned rates and tariff (a batch chunk, the
    messages checked with one snapshot of the learned rates), each verdict worked out once per case
    as the rules read it (``history_read``), act, date and office. Reports on one case mostly differ
    only in what the rules do not read (the same act reported again, a repeat of one already on
    file), so most are looked up, not worked out; the ``Assessment`` returned is then the one already
    returned, frozen and shared. The ``kept`` verdicts used last are remembered (least recently used
    forgotten first), so its memory is bounded however many messages it serves."""

    KEPT = 1024  # more than a batch chunk's records: a chunk forgets none of its own verdicts
    # The assessor ``of`` gave last: kept while the learned rates it was given are the same object.
    _last: ClassVar[Assessor | None] = None

    def __init__(
        self,
        *,
        rates: RecoveryRates | None = None,
        assumptions: Assumptions | None = None,
        catalogue: Catalogue | None = None,
        kept: int = KEPT,
    ) -> None:
        self.assumptions = assumptions or load_assumptions()
        self.rates = rates or prior_rates(assumptions=self.assumptions)
        self.catalogue = catalogue or load_catalogue()
        self.kept = kept
        # (the case's facts but its acts, its acts as read, act, date, office) -> verdict
        self._known: dict[tuple[Any, ...], Assessment] = {}

    @classmethod
    def of(cls, rates: RecoveryRates, catalogue: Catalogue) -> Assessor:
        """The assessor of ``rates``, ``catalogue`` and the packaged assumptions: the one given last
        when they are the same objects, so its verdicts serve every message and batch chunk checked
        with one snapshot of the learned rates (``HUB_LEARNED_RATES_SECONDS``); a new one when the
        rates were read again (they may have moved)."""
        last = cls._last
        assumptions = load_assumptions()
        if (
            last is None
            or last.rates is not rates
            or last.catalogue is not catalogue
            or last.assumptions is not assumptions
        ):
            last = cls._last = cls(rates=rates, catalogue=catalogue, assumptions=assumptions)
        return last

    def assess(self, case: CaseFacts, act_code: str, on: date, *, office: str | None = None) -> Assessment:
        """What ``assess(case, act_code, on, office=office)`` with this assessor's rates, assumptions
        and tariff answers."""
        key = (_facts_but_acts(case), history_read(case, on), act_code, on, office)
        known = self._known.pop(key, None)
        if known is None:
            if len(self._known) >= self.kept:
                del self._known[next(iter(self._known))]  # the least recently used
            known = assess(
                case,
                act_code,
                on,
                office=office,
                rates=self.rates,
                assumptions=self.assumptions,
                catalogue=self.catalogue,
            )
        self._known[key] = known  # the most recently used last
        return known


__all__ = [
    "RULE_VERSION",
    "Assessment",
    "Assessor",
    "EvidenceEffect",
    "Explanation",
    "PathOption",
    "Reason",
    "assess",
    "history_read",
    "percent",
    "rule_version",
]
