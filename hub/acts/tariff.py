"""The act catalogue and the regulated tariff of the commissaires de justice, as pure functions.

The figures live in ``catalogue.toml`` beside this module: data, versioned and reviewed like code,
because the tariff is revised every two years and several figures are still unconfirmed. This
module validates that file once and computes; it never holds an amount of its own.

Money is integer cents. Exact fractions of a cent only exist inside a computation and become cents
in one place, ``_round_half_up`` (``Decimal``, ROUND_HALF_UP). The rounding points are:

1. the emolument times the claim coefficient, rounded to the cent;
2. the "droit d'engagement des poursuites" (DEP), summed exactly over its brackets, rounded once,
   then capped;
3. VAT on (rounded emolument + rounded DEP), rounded once.

Disbursements ("débours") are whole cents, passed through outside the VAT base.
"""

from __future__ import annotations

import functools
import importlib.resources
import itertools
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, Inexact, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    StringConstraints,
    ValidationError,
    model_validator,
)

from hub.kit.errors import ErrorItem, HubError, InvalidInput
from hub.kit.money import Money

CATALOGUE_FILE = "catalogue.toml"
_BASIS_POINTS = 10_000  # a rate of 566 basis points is 5.66 %
_TENTHS = 10

Cents = Annotated[int, Strict(), Field(ge=0)]
BasisPoints = Annotated[int, Strict(), Field(ge=0, le=_BASIS_POINTS)]
Tenths = Annotated[int, Strict(), Field(gt=0)]
Flag = Annotated[bool, Strict()]
Text = Annotated[str, Strict(), StringConstraints(min_length=1)]
Code = Annotated[str, Strict(), StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")]
Day = Annotated[date, Strict()]


# --- errors ------------------------------------------------------------------------------------


class UnknownAct(InvalidInput):
    """The act code is not in the catalogue: the sender must use one of the listed codes."""

    code = "unknown_act"

    def __init__(self, act_code: str, known: Sequence[str]) -> None:
        super().__init__(f"unknown act code {act_code!r}; the catalogue knows: {', '.join(sorted(known))}")
        self.act_code = act_code


class NoTariffInForce(InvalidInput):
    """No tariff period covers the act date: the date is wrong, or a period must be loaded."""

    code = "no_tariff_in_force"

    def __init__(self, on: date, periods: Sequence[TariffPeriod]) -> None:
        spans = ", ".join(f"{p.name} ({p.span()})" for p in periods)
        super().__init__(
            f"no tariff in force on {on.isoformat()}; the catalogue covers: {spans}. "
            "Check the act date, or load the tariff period that covers it into the catalogue."
        )
        self.on = on


class MalformedCatalogue(HubError):
    """The catalogue data file is unreadable or inconsistent: a deployment fault, not the sender's."""

    status = 500
    code = "malformed_catalogue"
    title = "The act catalogue is malformed"


class InvalidClaim(InvalidInput):
    """A claim amount the tariff cannot price (negative): the sender must send the balance due."""

    code = "invalid_claim"


# --- the catalogue, as validated from the data file --------------------------------------------


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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


class CoefficientBracket(_Data):
    up_to_cents: Cents | None = None
    factor_tenths: Tenths


class CoefficientTerms(_Data):
    """The multiplier of the fixed emolument by claim size (0.5 / 1 / 2)."""

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


class RateBracket(_Data):
    up_to_cents: Cents | None = None
    rate_bp: BasisPoints


def _bracket_slices(brackets: Sequence[RateBracket], base_cents: int) -> list[tuple[int, int]]:
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


def _marginal_amount(brackets: Sequence[RateBracket], base_cents: int) -> Fraction:
    return sum(
        (Fraction(part * rate, _BASIS_POINTS) for rate, part in _bracket_slices(brackets, base_cents)),
        Fraction(0),
    )


class EngagementFeeTerms(_Data):
    """ "Droit d'engagement des poursuites": proportional fee charged when enforcement starts."""

    flat_up_to_cents: Cents
    flat_cents: Cents
    cap_cents: Cents
    brackets: tuple[RateBracket, ...]
    confirmed: Flag
    source: Text

    @model_validator(mode="after")
    def _consistent(self) -> EngagementFeeTerms:
        _bracket_tops_ascend([b.up_to_cents for b in self.brackets], "engagement_fee")
        if self.cap_cents < self.flat_cents:
            raise ValueError("engagement_fee: cap_cents is below flat_cents")
        # Otherwise the fee would drop just above the flat limit and a bigger claim cost less.
        just_above = _round_half_up(_marginal_amount(self.brackets, self.flat_up_to_cents + 1))
        if just_above < self.flat_cents:
            raise ValueError(
                "engagement_fee: flat_cents exceeds the proportional fee just above flat_up_to_cents"
            )
        return self

    def amount_cents(self, claim_cents: int) -> int:
        if claim_cents <= self.flat_up_to_cents:
            return self.flat_cents
        return min(_round_half_up(_marginal_amount(self.brackets, claim_cents)), self.cap_cents)


class RecoveryFeeTerms(_Data):
    """Art. A444-31 recovery fee borne by the debtor; only the cap is known so far."""

    cap_cents: Cents
    confirmed: Flag
    source: Text


class CollectionFeeTerms(_Data):
    """Art. A444-32 "droit d'encaissement", borne by the creditor on money collected."""

    minimum_up_to_cents: Cents
    minimum_cents: Cents
    cap_cents: Cents
    brackets: tuple[RateBracket, ...]
    not_for_claims: tuple[Text, ...]
    confirmed: Flag
    source: Text

    @model_validator(mode="after")
    def _consistent(self) -> CollectionFeeTerms:
        _bracket_tops_ascend([b.up_to_cents for b in self.brackets], "collection_fee")
        return self


class Disbursement(_Data):
    """A typical "débours": passed through at cost, outside the VAT base."""

    code: Code
    name_fr: Text
    label_en: Text
    cents: Cents
    confirmed: Flag
    source: Text


class ActFee(_Data):
    """What one act is billed under one tariff period."""

    code: Code
    emolument_cents: Cents
    coefficient_applies: Flag
    bears_engagement_fee: Flag
    disbursements: tuple[Code, ...]
    confirmed: Flag
    source: Text


class ActDefinition(_Data):
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


class TariffPeriod(_Data):
    """One tariff in force from ``valid_from`` to ``valid_to``, both inclusive; no end means open."""

    name: Text
    valid_from: Day
    valid_to: Day | None = None
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
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(f"period {self.name}: valid_to is before valid_from")
        unknown = sorted(
            {code for fee in self.fees.values() for code in fee.disbursements} - set(self.disbursements)
        )
        if unknown:
            raise ValueError(f"period {self.name}: fees refer to undefined disbursements {unknown}")
        return self

    def span(self) -> str:
        end = self.valid_to.isoformat() if self.valid_to else "open end"
        return f"{self.valid_from.isoformat()} to {end}"

    def covers(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    def fee(self, act_code: str) -> ActFee:
        try:
            return self.fees[act_code]
        except KeyError:
            raise UnknownAct(act_code, list(self.fees)) from None


class Catalogue(_Data):
    """The act catalogue and its tariff periods, in chronological order."""

    version: Text
    currency: Literal["EUR"]
    acts: dict[Code, ActDefinition]
    periods: tuple[TariffPeriod, ...]
    # act_cost's answers: a pure function of its arguments and of this (frozen) catalogue, asked the
    # same question again and again by the cost checks of a batch. Bounded: cleared when full.
    _costs: dict[tuple[str, int, date, bool], ActCost] = PrivateAttr(default_factory=dict)

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
        for period in self.periods:
            missing = sorted(set(self.acts) - set(period.fees))
            extra = sorted(set(period.fees) - set(self.acts))
            if missing:
                problems.append(f"period {period.name} has no fee for acts {missing}")
            if extra:
                problems.append(f"period {period.name} prices acts not in [acts]: {extra}")
        for earlier, later in itertools.pairwise(self.periods):
            if earlier.valid_to is None or earlier.valid_to >= later.valid_from:
                problems.append(
                    f"period {earlier.name} ({earlier.span()}) must end before {later.name} "
                    f"starts on {later.valid_from.isoformat()}: list periods in order, without overlap"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def act(self, act_code: str) -> ActDefinition:
        try:
            return self.acts[act_code]
        except KeyError:
            raise UnknownAct(act_code, list(self.acts)) from None

    def period_on(self, on: date) -> TariffPeriod:
        for period in self.periods:
            if period.covers(on):
                return period
        raise NoTariffInForce(on, self.periods)

    def latest_period(self) -> TariffPeriod:
        return self.periods[-1]

    def unconfirmed_figures(self) -> list[str]:
        """Where the data still holds placeholders, for review screens and release checklists."""
        found: list[str] = []
        for period in self.periods:
            terms: dict[str, CoefficientTerms | EngagementFeeTerms | RecoveryFeeTerms | CollectionFeeTerms]
            terms = {
                "coefficient": period.coefficient,
                "engagement_fee": period.engagement_fee,
                "recovery_fee": period.recovery_fee,
                "collection_fee": period.collection_fee,
            }
            found += [f"{period.name}.{name}" for name, t in terms.items() if not t.confirmed]
            found += [
                f"{period.name}.disbursements.{d.code}"
                for d in period.disbursements.values()
                if not d.confirmed
            ]
            found += [f"{period.name}.fees.{f.code}" for f in period.fees.values() if not f.confirmed]
        return found


# --- loading -----------------------------------------------------------------------------------


def _problem(error: Mapping[str, Any]) -> ErrorItem:
    path = ".".join(str(part) for part in error["loc"]) or "(file)"
    message = str(error["msg"])
    if error["type"] == "int_type" and isinstance(error.get("input"), float):
        message = "write amounts as integer cents (2579 for EUR 25.79), never as a decimal number"
    return ErrorItem(path=path, code=str(error["type"]), message=message)


def parse_catalogue(raw: Mapping[str, Any], origin: str = "<catalogue>") -> Catalogue:
    """Validate decoded catalogue data; every fault is reported with its path in the file."""
    try:
        return Catalogue.model_validate(raw)
    except ValidationError as exc:
        problems = [_problem(e) for e in exc.errors()]
        listing = "; ".join(f"{p.path}: {p.message}" for p in problems)
        raise MalformedCatalogue(f"{origin}: {len(problems)} problem(s): {listing}", errors=problems) from exc


def _parse_text(text: str, origin: str) -> Catalogue:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MalformedCatalogue(f"{origin}: not valid TOML: {exc}") from exc
    return parse_catalogue(raw, origin)


def read_catalogue(path: Path) -> Catalogue:
    """Read and validate a catalogue file; for tests, tools and reviewing a new tariff before release."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MalformedCatalogue(f"{path}: cannot be read: {exc}") from exc
    return _parse_text(text, str(path))


@functools.cache
def load_catalogue() -> Catalogue:
    """The catalogue packaged with the hub, read once per process."""
    resource = importlib.resources.files(__package__ or "hub.acts").joinpath(CATALOGUE_FILE)
    return _parse_text(resource.read_text(encoding="utf-8"), f"hub/acts/{CATALOGUE_FILE}")


# --- computation -------------------------------------------------------------------------------


def _round_half_up(amount: Fraction) -> int:
    """Exact cents-and-fractions -> whole cents, halves up; the only place a fraction of a cent ends."""
    with localcontext() as ctx:
        # Rates are basis points and coefficients tenths, so the quotient is a finite decimal;
        # trapping Inexact turns any other case into an error instead of a silent misrounding.
        ctx.prec = 50
        ctx.traps[Inexact] = True
        exact = Decimal(amount.numerator) / Decimal(amount.denominator)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _require_claim(claim_cents: int) -> None:
    if type(claim_cents) is not int:
        raise TypeError(f"a claim is integer cents, got {type(claim_cents).__name__}")
    if claim_cents < 0:
        raise InvalidClaim(f"a claim cannot be negative, got {claim_cents} cents")


def _period(on: date | None, catalogue: Catalogue | None) -> TariffPeriod:
    cat = catalogue or load_catalogue()
    return cat.latest_period() if on is None else cat.period_on(on)


def claim_coefficient(
    claim_cents: int, on: date | None = None, *, catalogue: Catalogue | None = None
) -> Fraction:
    """The multiplier of fixed emoluments for this claim (``on=None``: the latest tariff period)."""
    _require_claim(claim_cents)
    return _period(on, catalogue).coefficient.factor(claim_cents)


def engagement_fee_cents(
    claim_cents: int, on: date | None = None, *, catalogue: Catalogue | None = None
) -> int:
    """The "droit d'engagement des poursuites" on this claim, excl. VAT (``on=None``: latest period)."""
    _require_claim(claim_cents)
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
        text.append(f"Total: {_eur(self.total_cents)} (tariff {self.tariff_version}).")
        if self.provisional:
            text.append("Provisional: some figures are placeholders not yet confirmed against the tariff.")
        return "\n".join(text)


def _eur(cents: int) -> str:
    return Money(cents).display()


def _percent(basis_points: int) -> str:
    whole, hundredths = divmod(basis_points, 100)
    return f"{whole} %" if hundredths == 0 else f"{whole}.{hundredths:02d} %"


def _factor_words(tenths: int) -> str:
    whole, rest = divmod(tenths, _TENTHS)
    return str(whole) if rest == 0 else f"{whole}.{rest}"


def _coefficient_reason(terms: CoefficientTerms, bracket: CoefficientBracket) -> str:
    index = terms.brackets.index(bracket)
    inclusive = terms.upper_bound == "inclusive"
    floor = terms.brackets[index - 1].up_to_cents if index > 0 else None
    parts = []
    if floor is not None:
        parts.append(f"{'above' if inclusive else 'from'} {_eur(floor)}")
    if bracket.up_to_cents is not None:
        parts.append(f"{'up to' if inclusive else 'under'} {_eur(bracket.up_to_cents)}")
    return "claim " + " and ".join(parts)


def _emolument_line(act: ActDefinition, fee: ActFee, period: TariffPeriod, claim_cents: int) -> CostLine:
    name = f"{act.label_en} ({act.name_fr})"
    base = _eur(fee.emolument_cents)
    if not fee.coefficient_applies:
        return CostLine(
            "emolument",
            fee.emolument_cents,
            f"Emolument for {name}: {base}; the tariff applies no claim coefficient to this act.",
            fee.confirmed,
        )
    bracket = period.coefficient.bracket_for(claim_cents)
    amount = _round_half_up(fee.emolument_cents * Fraction(bracket.factor_tenths, _TENTHS))
    reason = _coefficient_reason(period.coefficient, bracket)
    return CostLine(
        "emolument",
        amount,
        f"Emolument for {name}: {base} × {_factor_words(bracket.factor_tenths)} ({reason}) = {_eur(amount)}.",
        fee.confirmed and period.coefficient.confirmed,
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
        how = f"flat amount for a claim up to {_eur(terms.flat_up_to_cents)}"
    elif amount == terms.cap_cents:
        how = f"the cap: the brackets reach it on a claim of {_eur(claim_cents)}"
    else:
        how = f"by brackets of the claim of {_eur(claim_cents)}: " + " + ".join(
            f"{_percent(rate)} of {_eur(part)}" for rate, part in _bracket_slices(terms.brackets, claim_cents)
        )
    return CostLine("engagement_fee", amount, f"{label}: {_eur(amount)}, {how}.", terms.confirmed)


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
    _require_claim(claim_cents)
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

    lines = [_emolument_line(act, fee, period, claim_cents)]
    engagement = _engagement_line(fee, period, claim_cents, engagement_fee_already_charged)
    if engagement is not None:
        lines.append(engagement)
    for code in fee.disbursements:
        item = period.disbursements[code]
        lines.append(
            CostLine(
                "disbursement",
                item.cents,
                f"{item.label_en} ({item.name_fr}), typical disbursement passed on at cost, "
                f"without VAT: {_eur(item.cents)}.",
                item.confirmed,
            )
        )

    emolument = sum(line.amount_cents for line in lines if line.kind == "emolument")
    engagement_fee = sum(line.amount_cents for line in lines if line.kind == "engagement_fee")
    disbursements = sum(line.amount_cents for line in lines if line.kind == "disbursement")
    vat_base = emolument + engagement_fee
    vat = _round_half_up(Fraction(vat_base * period.vat_rate_bp, _BASIS_POINTS))
    lines.append(
        CostLine(
            "vat",
            vat,
            f"VAT {_percent(period.vat_rate_bp)} on emoluments and proportional fees "
            f"({_eur(vat_base)}): {_eur(vat)}.",
        )
    )
    return ActCost(
        act_code=act.code,
        claim_cents=claim_cents,
        on=on,
        tariff_version=period.name,
        catalogue_version=cat.version,
        emolument_cents=emolument,
        engagement_fee_cents=engagement_fee,
        disbursements_cents=disbursements,
        vat_cents=vat,
        total_cents=vat_base + disbursements + vat,
        lines=tuple(lines),
    )
