"""The seizable share of pay ("quotité saisissable des rémunérations"), from the yearly scale.

The scale lives in ``pay_scale.toml`` beside this module, as data marked with its year and source.
The computation is exact (``Fraction``) and becomes cents once, rounded down, so the result never
exceeds what the scale allows:

1. annual net pay = 12 x monthly net pay;
2. each band's share applies to the slice of annual pay inside it, band tops raised per dependent;
3. monthly seizable = annual seizable / 12, rounded down to the cent;
4. the protected floor (single-person RSA) always stays with the debtor: the result never exceeds
   monthly pay minus that floor (art. R3252-5 Code du travail).
"""

from __future__ import annotations

import functools
import importlib.resources
import itertools
import math
import tomllib
from collections.abc import Mapping
from fractions import Fraction
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints, ValidationError, model_validator

from hub.kit.errors import ErrorItem, HubError
from hub.recovery.facts import InvalidFacts

PAY_SCALE_FILE = "pay_scale.toml"
MONTHS_PER_YEAR = 12

Cents = Annotated[int, Strict(), Field(ge=0)]
Positive = Annotated[int, Strict(), Field(gt=0)]
Text = Annotated[str, Strict(), StringConstraints(min_length=1)]


class MalformedPayScale(HubError):
    """The pay scale data file is unreadable or inconsistent: a deployment fault."""

    status = 500
    code = "malformed_pay_scale"
    title = "The wage-garnishment scale is malformed"


class PayBand(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    up_to_cents: Cents | None = None
    numerator: Annotated[int, Strict(), Field(ge=0)]
    denominator: Positive

    @property
    def share(self) -> Fraction:
        return Fraction(self.numerator, self.denominator)


class PayScale(BaseModel):
    """One year's scale: bands on annual net pay, the per-dependent raise, the protected floor."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: Annotated[int, Strict(), Field(ge=2000)]
    source: Text
    per_dependent_cents: Cents
    protected_floor_monthly_cents: Cents
    bands: tuple[PayBand, ...]

    @model_validator(mode="after")
    def _consistent(self) -> PayScale:
        tops = [b.up_to_cents for b in self.bands]
        if not tops or tops[-1] is not None:
            raise ValueError("bands: the last band must have no up_to_cents (everything above)")
        closed = tops[:-1]
        if any(t is None for t in closed):
            raise ValueError("bands: only the last band may omit up_to_cents")
        if any(b <= a for a, b in itertools.pairwise(closed) if a is not None and b is not None):
            raise ValueError("bands: up_to_cents must rise strictly")
        shares = [b.share for b in self.bands]
        if shares != sorted(shares) or shares[-1] > 1:
            raise ValueError("bands: shares must not decrease and never exceed the whole slice")
        return self

    def band_tops(self, dependents: int) -> list[int | None]:
        """Annual band tops in cents, each raised by the per-dependent amount."""
        raise_by = dependents * self.per_dependent_cents
        return [None if b.up_to_cents is None else b.up_to_cents + raise_by for b in self.bands]

    def annual_seizable(self, annual_cents: int, dependents: int) -> Fraction:
        """Exact seizable share of an annual net pay, by marginal bands (no floor applied)."""
        total = Fraction(0)
        lower = 0
        for band, top in zip(self.bands, self.band_tops(dependents), strict=True):
            upper = annual_cents if top is None else min(annual_cents, top)
            if upper > lower:
                total += band.share * (upper - lower)
            if top is None or annual_cents <= top:
                break
            lower = top
        return total


def parse_pay_scale(raw: Mapping[str, Any], origin: str = "<pay scale>") -> PayScale:
    try:
        return PayScale.model_validate(raw)
    except ValidationError as exc:
        items = [
            ErrorItem(path=".".join(str(p) for p in e["loc"]) or "(file)", code=e["type"], message=e["msg"])
            for e in exc.errors()
        ]
        listing = "; ".join(f"{i.path}: {i.message}" for i in items)
        raise MalformedPayScale(f"{origin}: {listing}", errors=items) from exc


@functools.cache
def load_pay_scale() -> PayScale:
    """The scale packaged with the hub, read once per process."""
    text = importlib.resources.files("hub.recovery").joinpath(PAY_SCALE_FILE).read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MalformedPayScale(f"hub/recovery/{PAY_SCALE_FILE}: not valid TOML: {exc}") from exc
    return parse_pay_scale(raw, f"hub/recovery/{PAY_SCALE_FILE}")


def _require(monthly_net_income_cents: int, dependents: int) -> None:
    if type(monthly_net_income_cents) is not int:
        raise TypeError(f"pay is integer cents, got {type(monthly_net_income_cents).__name__}")
    if type(dependents) is not int:
        raise TypeError(f"dependents is an integer, got {type(dependents).__name__}")
    if monthly_net_income_cents < 0 or dependents < 0:
        raise InvalidFacts("pay and dependents cannot be negative")


def scale_monthly_seizable(
    monthly_net_income_cents: int, dependents: int, *, scale: PayScale | None = None
) -> Fraction:
    """What the scale alone allows each month, exactly (before rounding and the protected floor)."""
    _require(monthly_net_income_cents, dependents)
    terms = scale or load_pay_scale()
    annual = terms.annual_seizable(monthly_net_income_cents * MONTHS_PER_YEAR, dependents)
    return annual / MONTHS_PER_YEAR


def seizable_monthly_cents(
    monthly_net_income_cents: int, dependents: int, *, scale: PayScale | None = None
) -> int:
    """The share of a monthly net pay a wage garnishment may take, in whole cents (rounded down).

    Never more than the scale allows, and never so much that less than the protected floor
    (single-person RSA) is left to the debtor.
    """
    terms = scale or load_pay_scale()
    by_scale = math.floor(scale_monthly_seizable(monthly_net_income_cents, dependents, scale=terms))
    above_floor = max(monthly_net_income_cents - terms.protected_floor_monthly_cents, 0)
    return min(by_scale, above_floor)
