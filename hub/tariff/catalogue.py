"""The act catalogue and the regulated tariff of the commissaires de justice, as pure functions.

The figures live in ``catalogue.toml`` beside this module: data, versioned and reviewed like code,
read through the one loader of ``hub.tariff.data``. A tariff period is the unit of an arrêté, split
where a figure changes (the wage-garnishment reform of 1 Jul 2025); each figure in it has its
``source`` and ``confirmed``. This module validates that file once and computes; it never holds an
amount of its own.

An act's fee is one or more priced items (the wage-garnishment chain since 1 Jul 2025 is several
acts, some with a surcharge until 29 Feb 2028), so ``act_cost`` returns one line per item.

Money is integer cents. Exact fractions of a cent only exist inside a computation and become cents
in one place, ``round_half_up``. The rounding points are:

1. each item's emolument times the claim coefficient, rounded to the cent;
2. the "droit d'engagement des poursuites" (DEP), summed exactly over its brackets, rounded once,
   then capped;
3. VAT on (rounded emoluments + rounded DEP + flat disbursements), rounded once.

Flat disbursements ("débours": travel, electronic service, witness, police) are in the VAT base;
only a true pass-through cost (``vat_base = false``) is outside it.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, Strict, model_validator

from hub.kit.errors import InvalidInput
from hub.tariff.data import (
    BASIS_POINTS,
    BasisPoints,
    Cents,
    Code,
    Data,
    Day,
    Flag,
    NoFigureInForce,
    Period,
    Provenance,
    Text,
    eur,
    in_force,
    load_packaged,
    percent,
    read,
    require_sequence,
    round_half_up,
    sequence_problems,
)

CATALOGUE_FILE = "catalogue.toml"
_TENTHS = 10

Tenths = Annotated[int, Strict(), Field(gt=0)]


# --- errors ------------------------------------------------------------------------------------


class UnknownAct(InvalidInput):
    """The act code is not in the catalogue: the sender must use one of the listed codes."""

    code = "unknown_act"

    def __init__(self, act_code: str, known: Sequence[str]) -> None:
        super().__init__(f"unknown act code {act_code!r}; the catalogue knows: {', '.join(sorted(known))}")
        self.act_code = act_code


class NoTariffInForce(NoFigureInForce):
    """No tariff period covers the act date: the date is wrong, or a period must be loaded."""

    code = "no_tariff_in_force"

    def __init__(self, on: date, periods: Sequence[Period]) -> None:
        super().__init__("tariff", on, periods)


class InvalidClaim(InvalidInput):
    """A claim amount the tariff cannot price (negative): the sender must send the balance due."""

    code = "invalid_claim"


# --- the catalogue, as validated from the data file --------------------------------------------


def _bracket_tops_ascend(tops: Sequence[int | None], what: str) -> None:
    """Brackets must rise strictly and end open, so every amount falls in exactly one."""
    if not tops:
        raise ValueError(f"{what}: at least one bracket is required")
    if tops[-1] is not None:
        raise ValueError(f"{what}: the last bracket must have no up_to_cents (open end)")
    closed = tops[:-1]
    if any(top is None for top in closed):
        raise ValueError(f"{what}: only the last bracket may omit up_to_cents")
    if any(b <= a for a, b in itertools.pairwise(closed) if a is not None and b is not None):
        raise ValueError(f"{what}: up_to_cents must rise strictly from one bracket to the next")


class CoefficientBracket(Data):
    up_to_cents: Cents | None = None
    factor_tenths: Tenths


class CoefficientTerms(Data):
    """The multiplier of the fixed emolument by claim size (0.5 / 1 / 2, A444-46)."""

    upper_bound: Literal["inclusive", "exclusive"]
    brackets: tuple[CoefficientBracket, ...]
    confirmed: Flag
    source: Text

    @model_validator(mode="after")
    def _consistent(self) -> CoefficientTerms:
        _bracket_tops_ascend([b.up_to_cents for b in self.brackets], "coefficient")
        factors = [b.factor_tenths for b in self.brackets]
        if factors != sorted(factors):
            raise ValueError("coefficient: factors must not decrease as the claim grows")
        return self

    def bracket_for(self, claim_cents: int) -> CoefficientBracket:
        for bracket in self.brackets:
            top = bracket.up_to_cents
            if top is None:
                return bracket
            if claim_cents < top or (claim_cents == top and self.upper_bound == "inclusive"):
                return bracket
        raise AssertionError("validated brackets end open")  # pragma: no cover

    def factor(self, claim_cents: int) -> Fraction:
        return Fraction(self.bracket_for(claim_cents).factor_tenths, _TENTHS)


class RateBracket(Data):
    up_to_cents: Cents | None = None
    rate_bp: BasisPoints


def bracket_slices(brackets: Sequence[RateBracket], base_cents: int) -> list[tuple[int, int]]:
    """(rate, slice of the base inside the bracket): each rate applies to its slice only, like a tax."""
    slices: list[tuple[int, int]] = []
    lower = 0
    for bracket in brackets:
        top = base_cents if bracket.up_to_cents is None else min(base_cents, bracket.up_to_cents)
        if top > lower:
            slices.append((bracket.rate_bp, top - lower))
        if bracket.up_to_cents is None or base_cents <= bracket.up_to_cents:
            break
        lower = bracket.up_to_cents
    return slices


def marginal_amount(brackets: Sequence[RateBracket], base_cents: int, factor: int = 1) -> Fraction:
    return sum(
        (Fraction(part * rate * factor, BASIS_POINTS) for rate, part in bracket_slices(brackets, base_cents)),
        Fraction(0),
    )


class ProportionalTerms(Data):
    """A fee proportional to an amount: a flat sum up to a limit, marginal brackets above, a cap."""

    flat_up_to_cents: Cents
    flat_cents: Cents
    cap_cents: Cents
    brackets: tuple[RateBracket, ...]
    confirmed: Flag
    source: Text

    @model_validator(mode="after")
    def _brackets(self) -> ProportionalTerms:
        _bracket_tops_ascend([b.up_to_cents for b in self.brackets], "brackets")
        if self.cap_cents < self.flat_cents:
            raise ValueError("cap_cents is below flat_cents")
        return self

    def amount_cents(self, base_cents: int, rate_factor: int = 1) -> int:
        if base_cents <= self.flat_up_to_cents:
            return self.flat_cents
        return min(round_half_up(marginal_amount(self.brackets, base_cents, rate_factor)), self.cap_cents)


class EngagementFeeTerms(ProportionalTerms):
    """ "Droit d'engagement des poursuites" (DEP, A444-15): charged once when enforcement starts."""

    @model_validator(mode="after")
    def _no_drop_above_the_flat_limit(self) -> EngagementFeeTerms:
        # Otherwise the fee would drop just above the flat limit and a bigger claim cost less.
        just_above = round_half_up(marginal_amount(self.brackets, self.flat_up_to_cents + 1))
        if just_above < self.flat_cents:
            raise ValueError("flat_cents exceeds the proportional fee just above flat_up_to_cents")
        return self


class RecoveryFeeTerms(ProportionalTerms):
    """A444-31 recovery fee (no. 128) borne by the debtor on what the office recovers."""

    maintenance_rate_factor: Annotated[int, Strict(), Field(ge=1)]


class CollectionFeeTerms(ProportionalTerms):
    """A444-32 "droit d'encaissement" (no. 129) borne by the creditor on money collected."""

    not_for_claims: tuple[Text, ...]


class Disbursement(Data):
    """A typical "débours". Flat reimbursements are in the VAT base; a true pass-through is not."""

    code: Code
    name_fr: Text
    label_en: Text
    cents: Cents
    vat_base: Flag
    confirmed: Flag
    source: Text


class FeeItem(Data):
    """One priced item of an act's fee; it may hold for part of the period only (a surcharge)."""

    name_fr: Text | None = None
    label_en: Text | None = None
    emolument_cents: Cents
    coefficient_applies: Flag
    valid_from: Day | None = None
    valid_to: Day | None = None
    confirmed: Flag
    source: Text

    def in_force(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_to is None or on <= self.valid_to
        )


_SINGLE_ITEM = ("emolument_cents", "coefficient_applies", "confirmed", "source")


class ActFee(Data):
    """What one act is billed under one tariff period: either a single emolument written in the fee
    itself (``emolument_cents``, ``coefficient_applies``, ``confirmed``, ``source``) or ``items``."""

    code: Code
    bears_engagement_fee: Flag
    disbursements: tuple[Code, ...]
    emolument_cents: Cents | None = None
    coefficient_applies: Flag | None = None
    confirmed: Flag | None = None
    source: Text | None = None
    items: tuple[FeeItem, ...] = ()

    @model_validator(mode="after")
    def _one_form(self) -> ActFee:
        written = [name for name in _SINGLE_ITEM if getattr(self, name) is not None]
        if self.items and written:
            raise ValueError(f"give either items or {', '.join(written)}, not both")
        if not self.items and len(written) < len(_SINGLE_ITEM):
            missing = [name for name in _SINGLE_ITEM if name not in written]
            raise ValueError(f"missing {', '.join(missing)} (or give items)")
        return self

    def priced_items(self) -> tuple[FeeItem, ...]:
        if self.items:
            return self.items
        assert self.emolument_cents is not None and self.coefficient_applies is not None
        assert self.confirmed is not None and self.source is not None
        return (
            FeeItem(
                emolument_cents=self.emolument_cents,
                coefficient_applies=self.coefficient_applies,
                confirmed=self.confirmed,
                source=self.source,
            ),
        )

    @property
    def all_confirmed(self) -> bool:
        return all(item.confirmed for item in self.priced_items())


class ActDefinition(Data):
    """What an act is, independent of any tariff period."""

    code: Code
    name_fr: Text
    label_en: Text
    coercive: Flag
    collects: Flag


def _with_codes(table: Any) -> Any:
    """The TOML table key is the code; copy it into each entry so an entry knows its own code."""
    if not isinstance(table, Mapping):
        return table
    keyed: dict[Any, Any] = {}
    for key, entry in table.items():
        if isinstance(entry, Mapping):
            if "code" in entry:
                raise ValueError(f"{key}: write the code only as the table key, not as a 'code' field")
            entry = {**entry, "code": key}
        keyed[key] = entry
    return keyed


class TariffPeriod(Period):
    """One tariff in force from ``valid_from`` to ``valid_to``, both inclusive; no end means open."""

    vat_rate_bp: BasisPoints
    source: Text
    coefficient: CoefficientTerms
    engagement_fee: EngagementFeeTerms
    recovery_fee: RecoveryFeeTerms
    collection_fee: CollectionFeeTerms
    disbursements: dict[Code, Disbursement]
    fees: dict[Code, ActFee]

    @model_validator(mode="before")
    @classmethod
    def _key_codes(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            data = {**data}
            for table in ("disbursements", "fees"):
                if table in data:
                    data[table] = _with_codes(data[table])
        return data

    @model_validator(mode="after")
    def _consistent(self) -> TariffPeriod:
        unknown = sorted(
            {code for fee in self.fees.values() for code in fee.disbursements} - set(self.disbursements)
        )
        if unknown:
            raise ValueError(f"period {self.name}: fees refer to undefined disbursements {unknown}")
        outside = [
            f"{code}.items.{index}"
            for code, fee in self.fees.items()
            for index, item in enumerate(fee.items)
            if (item.valid_from is not None and item.valid_from < self.valid_from)
            or (item.valid_to is not None and item.valid_to < self.valid_from)
            or (item.valid_from is not None and item.valid_to is not None and item.valid_to < item.valid_from)
        ]
        if outside:
            # An item may end after its period (a surcharge outliving a tariff closed early): the
            # period's end bounds it anyway. It may not start before the period nor end before it starts.
            raise ValueError(f"period {self.name}: items dated outside the period: {outside}")
        return self

    def vat_cents(self, base_cents: int) -> int:
        """VAT at this period's rate on ``base_cents``, rounded once, halves up."""
        return round_half_up(Fraction(base_cents * self.vat_rate_bp, BASIS_POINTS))

    def fee(self, act_code: str) -> ActFee:
        try:
            return self.fees[act_code]
        except KeyError:
            raise UnknownAct(act_code, list(self.fees)) from None

    def provenance(self, figure: str, source: str, confirmed: bool) -> Provenance:
        return Provenance(figure, self.name, self.valid_from, self.valid_to, source, confirmed)


def pricing_problems(acts: Mapping[str, ActDefinition], periods: Sequence[TariffPeriod]) -> list[str]:
    """Every period must price every act of [acts], and no other."""
    problems = []
    for period in periods:
        missing = sorted(set(acts) - set(period.fees))
        extra = sorted(set(period.fees) - set(acts))
        if missing:
            problems.append(f"period {period.name} has no fee for acts {missing}")
        if extra:
            problems.append(f"period {period.name} prices acts not in [acts]: {extra}")
    return problems


class TariffFile(Data):
    """New tariff periods on their own, as ``hub tariff check`` reads them before they are loaded."""

    kind: Literal["tariff"]
    periods: tuple[TariffPeriod, ...]

    @model_validator(mode="after")
    def _in_sequence(self) -> TariffFile:
        require_sequence(self.periods, "tariff")
        return self


class Catalogue(Data):
    """The act catalogue and its tariff periods, in chronological order."""

    kind: Literal["tariff"]
    version: Text
    currency: Literal["EUR"]
    acts: dict[Code, ActDefinition]
    periods: tuple[TariffPeriod, ...]
    # act_cost's answers: a pure function of its arguments and of this (frozen) catalogue, asked the
    # same question again and again by the cost checks of a batch. Bounded: cleared when full.
    _costs: dict[tuple[str, int, date, bool], ActCost] = PrivateAttr(default_factory=dict)
    # The lines of those answers that depend on the claim only through its coefficient bracket (the
    # same for every claim of a bracket), keyed by the ids of this catalogue's own objects: a cost check
    # prices the acts of every case again, each case's claim its own. Bounded by the catalogue's size.
    _lines: dict[tuple[int, ...], CostLine] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _key_codes(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "acts" in data:
            data = {**data, "acts": _with_codes(data["acts"])}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        problems: list[str] = []
        if not self.acts:
            problems.append("the catalogue defines no act")
        if not self.periods:
            problems.append("the catalogue defines no tariff period")
        problems += pricing_problems(self.acts, self.periods)
        problems += sequence_problems(self.periods, "tariff")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def act(self, act_code: str) -> ActDefinition:
        try:
            return self.acts[act_code]
        except KeyError:
            raise UnknownAct(act_code, list(self.acts)) from None

    def period_on(self, on: date) -> TariffPeriod:
        try:
            return in_force("tariff", self.periods, on)
        except NoFigureInForce:
            raise NoTariffInForce(on, self.periods) from None

    def latest_period(self) -> TariffPeriod:
        return self.periods[-1]

    def unconfirmed_figures(self) -> list[str]:
        """Where the data still holds placeholders, for review screens and release checklists."""
        return [name for period in self.periods for name in period_unconfirmed(period)]


def period_unconfirmed(period: TariffPeriod) -> list[str]:
    terms: dict[str, CoefficientTerms | ProportionalTerms] = {
        "coefficient": period.coefficient,
        "engagement_fee": period.engagement_fee,
        "recovery_fee": period.recovery_fee,
        "collection_fee": period.collection_fee,
    }
    found = [f"{period.name}.{name}" for name, t in terms.items() if not t.confirmed]
    found += [
        f"{period.name}.disbursements.{d.code}" for d in period.disbursements.values() if not d.confirmed
    ]
    for fee in period.fees.values():
        if fee.items:
            found += [
                f"{period.name}.fees.{fee.code}.items.{i}"
                for i, it in enumerate(fee.items)
                if not it.confirmed
            ]
        elif not fee.confirmed:
            found.append(f"{period.name}.fees.{fee.code}")
    return found


# --- loading -----------------------------------------------------------------------------------


def read_catalogue(path: Path) -> Catalogue:
    """Read and validate a catalogue file; for tests, tools and reviewing a new tariff before release."""
    return read(Catalogue, path)


@functools.cache
def load_catalogue() -> Catalogue:
    """The catalogue packaged with the hub, read once per process."""
    return load_packaged(Catalogue, CATALOGUE_FILE)


# --- computation -------------------------------------------------------------------------------


def require_amount(cents: int, what: str = "a claim") -> None:
    if type(cents) is not int:
        raise TypeError(f"{what} is integer cents, got {type(cents).__name__}")
    if cents < 0:
        raise InvalidClaim(f"{what} cannot be negative, got {cents} cents")


def _period(on: date | None, catalogue: Catalogue | None) -> TariffPeriod:
    cat = catalogue or load_catalogue()
    return cat.latest_period() if on is None else cat.period_on(on)


def claim_coefficient(
    claim_cents: int, on: date | None = None, *, catalogue: Catalogue | None = None
) -> Fraction:
    """The multiplier of fixed emoluments for this claim (``on=None``: the latest tariff period)."""
    require_amount(claim_cents)
    return _period(on, catalogue).coefficient.factor(claim_cents)


def engagement_fee_cents(
    claim_cents: int, on: date | None = None, *, catalogue: Catalogue | None = None
) -> int:
    """The "droit d'engagement des poursuites" on this claim, excl. VAT (``on=None``: latest period)."""
    require_amount(claim_cents)
    return _period(on, catalogue).engagement_fee.amount_cents(claim_cents)


CostKind = Literal["emolument", "engagement_fee", "disbursement", "vat"]


@dataclass(frozen=True)
class CostLine:
    """One part of an act's cost, with the words a case handler needs to check it."""

    kind: CostKind
    amount_cents: int
    explanation: str
    confirmed: bool = True


@dataclass(frozen=True)
class ActCost:
    """The expected cost of one act, in cents, with the tariff it was priced under."""

    act_code: str
    claim_cents: int
    on: date
    tariff_version: str
    catalogue_version: str
    emolument_cents: int
    engagement_fee_cents: int
    disbursements_cents: int
    vat_cents: int
    total_cents: int
    lines: tuple[CostLine, ...]
    provenance: Provenance | None = None
    """The tariff period priced under: its name, span and source (``confirmed``: every line is)."""

    @property
    def excl_vat_cents(self) -> int:
        return self.emolument_cents + self.engagement_fee_cents + self.disbursements_cents

    @property
    def provisional(self) -> bool:
        """True when any figure used is an unconfirmed placeholder."""
        return any(not line.confirmed for line in self.lines)

    def explain(self) -> str:
        """Plain words for a case handler: each part, then the total."""
        text = [f"- {line.explanation}" for line in self.lines]
        period = f"tariff {self.tariff_version}"
        if self.provenance is not None:
            period += f", {self.provenance.span()}"
        text.append(f"Total: {eur(self.total_cents)} ({period}).")
        if self.provisional:
            text.append("Provisional: some figures are placeholders not yet confirmed against the tariff.")
        return "\n".join(text)


def _factor_words(tenths: int) -> str:
    whole, rest = divmod(tenths, _TENTHS)
    return str(whole) if rest == 0 else f"{whole}.{rest}"


def _coefficient_reason(terms: CoefficientTerms, bracket: CoefficientBracket) -> str:
    index = terms.brackets.index(bracket)
    inclusive = terms.upper_bound == "inclusive"
    floor = terms.brackets[index - 1].up_to_cents if index > 0 else None
    parts = []
    if floor is not None:
        parts.append(f"{'above' if inclusive else 'from'} {eur(floor)}")
    if bracket.up_to_cents is not None:
        parts.append(f"{'up to' if inclusive else 'under'} {eur(bracket.up_to_cents)}")
    return "claim " + " and ".join(parts)


def _item_name(act: ActDefinition, item: FeeItem) -> str:
    return f"{item.label_en or act.label_en} ({item.name_fr or act.name_fr})"


def _until(item: FeeItem) -> str:
    return f" until {item.valid_to.isoformat()}" if item.valid_to is not None else ""


def _emolument_line(act: ActDefinition, item: FeeItem, period: TariffPeriod, claim_cents: int) -> CostLine:
    name = _item_name(act, item)
    base = eur(item.emolument_cents)
    if not item.coefficient_applies:
        return CostLine(
            "emolument",
            item.emolument_cents,
            f"Emolument for {name}{_until(item)}: {base}; the tariff applies no claim coefficient to it.",
            item.confirmed,
        )
    bracket = period.coefficient.bracket_for(claim_cents)
    amount = round_half_up(item.emolument_cents * Fraction(bracket.factor_tenths, _TENTHS))
    reason = _coefficient_reason(period.coefficient, bracket)
    return CostLine(
        "emolument",
        amount,
        f"Emolument for {name}{_until(item)}: {base} × {_factor_words(bracket.factor_tenths)} ({reason}) "
        f"= {eur(amount)}.",
        item.confirmed and period.coefficient.confirmed,
    )


def _engagement_line(
    fee: ActFee, period: TariffPeriod, claim_cents: int, already_charged: bool
) -> CostLine | None:
    if not fee.bears_engagement_fee:
        return None
    label = "Fee for engaging enforcement (droit d'engagement des poursuites)"
    terms = period.engagement_fee
    if already_charged:
        return CostLine(
            "engagement_fee", 0, f"{label}: none, already charged on an earlier act of this case."
        )
    amount = terms.amount_cents(claim_cents)
    if claim_cents <= terms.flat_up_to_cents:
        how = f"flat amount for a claim up to {eur(terms.flat_up_to_cents)}"
    elif amount == terms.cap_cents:
        how = f"the cap: the brackets reach it on a claim of {eur(claim_cents)}"
    else:
        how = f"by brackets of the claim of {eur(claim_cents)}: " + " + ".join(
            f"{percent(rate)} of {eur(part)}" for rate, part in bracket_slices(terms.brackets, claim_cents)
        )
    return CostLine("engagement_fee", amount, f"{label}: {eur(amount)}, {how}.", terms.confirmed)


def _disbursement_line(item: Disbursement) -> CostLine:
    if item.vat_base:
        how = "a flat reimbursement, in the VAT base"
    else:
        how = "passed on at cost, outside the VAT base"
    return CostLine(
        "disbursement",
        item.cents,
        f"{item.label_en} ({item.name_fr}), typical disbursement, {how}: {eur(item.cents)}.",
        item.confirmed,
    )


def act_cost(
    act_code: str,
    claim_cents: int,
    on: date,
    *,
    engagement_fee_already_charged: bool = False,
    catalogue: Catalogue | None = None,
) -> ActCost:
    """What an act dated ``on`` should cost on a claim, excl. and incl. VAT, explained line by line.

    The DEP is charged once when enforcement is engaged: pass ``engagement_fee_already_charged``
    when an earlier act of the case bore it. Disbursements are the act's typical ones; the real
    ones come from the office's act report.
    """
    require_amount(claim_cents)
    cat = catalogue or load_catalogue()
    key = (act_code, claim_cents, on, engagement_fee_already_charged)
    if (known := cat._costs.get(key)) is not None:
        return known
    if len(cat._costs) >= _COSTS_KEPT:
        cat._costs.clear()
    cost = cat._costs[key] = _act_cost(cat, act_code, claim_cents, on, engagement_fee_already_charged)
    return cost


_COSTS_KEPT = 20_000


def _act_cost(
    cat: Catalogue, act_code: str, claim_cents: int, on: date, engagement_fee_already_charged: bool
) -> ActCost:
    act = cat.act(act_code)
    period = cat.period_on(on)
    fee = period.fee(act_code)

    known = cat._lines
    lines: list[CostLine] = []
    for index, item in enumerate(fee.priced_items()):  # made anew when the fee has no items: by place
        if item.in_force(on):
            bracket = period.coefficient.bracket_for(claim_cents) if item.coefficient_applies else None
            priced: tuple[int, ...] = (id(act), id(fee), index, id(bracket))
            if (line := known.get(priced)) is None:
                line = known[priced] = _emolument_line(act, item, period, claim_cents)
            lines.append(line)
    engagement = _engagement_line(fee, period, claim_cents, engagement_fee_already_charged)
    if engagement is not None:
        lines.append(engagement)
    disbursements = [period.disbursements[code] for code in fee.disbursements]
    for disbursement in disbursements:
        if (line := known.get(passed_on := (id(disbursement),))) is None:
            line = known[passed_on] = _disbursement_line(disbursement)
        lines.append(line)

    emolument = sum(line.amount_cents for line in lines if line.kind == "emolument")
    engagement_fee = sum(line.amount_cents for line in lines if line.kind == "engagement_fee")
    disbursed = sum(item.cents for item in disbursements)
    flat = sum(item.cents for item in disbursements if item.vat_base)
    vat_base = emolument + engagement_fee + flat
    vat = period.vat_cents(vat_base)
    words = (
        "emoluments, proportional fees and flat disbursements" if flat else "emoluments and proportional fees"
    )
    lines.append(
        CostLine("vat", vat, f"VAT {percent(period.vat_rate_bp)} on {words} ({eur(vat_base)}): {eur(vat)}.")
    )
    confirmed = all(line.confirmed for line in lines)
    return ActCost(
        act_code=act.code,
        claim_cents=claim_cents,
        on=on,
        tariff_version=period.name,
        catalogue_version=cat.version,
        emolument_cents=emolument,
        engagement_fee_cents=engagement_fee,
        disbursements_cents=disbursed,
        vat_cents=vat,
        total_cents=emolument + engagement_fee + disbursed + vat,
        lines=tuple(lines),
        provenance=period.provenance(f"tariff of {act.label_en}", period.source, confirmed),
    )
