"""The seizable share of pay ("quotité saisissable des rémunérations"), from the scale in force.

The scales live in ``pay_scale.toml`` beside this module, one period per year (revised each
1 January), each with its source and ``confirmed``. The computation is exact (``Fraction``) and
becomes cents once, rounded down, so the result never exceeds what the scale allows:

1. annual net pay = 12 x monthly net pay;
2. each band's share applies to the slice of annual pay inside it, band tops raised per dependent;
3. monthly seizable = annual seizable / 12, rounded down to the cent;
4. the protected floor always stays with the debtor: the result never exceeds monthly pay minus
   the single-person RSA in force on the date (art. R3252-5 Code du travail, ``rsa.toml``).
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Annotated, Literal

from pydantic import Field, Strict, model_validator

from hub.kit.errors import InvalidInput
from hub.tariff.data import (
    Cents,
    Data,
    Flag,
    Period,
    Provenance,
    Text,
    eur,
    in_force,
    load_packaged,
    require_sequence,
)
from hub.tariff.rsa import RsaFile, pay_floor

PAY_SCALE_FILE = "pay_scale.toml"
MONTHS_PER_YEAR = 12
FIGURE = "wage-garnishment scale"

Positive = Annotated[int, Strict(), Field(gt=0)]


class InvalidPay(InvalidInput):
    """Pay or dependents the scale cannot read (negative): the sender must correct the facts."""

    code = "invalid_pay"


class PayBand(Data):
    up_to_cents: Cents | None = None
    numerator: Annotated[int, Strict(), Field(ge=0)]
    denominator: Positive

    @property
    def share(self) -> Fraction:
        return Fraction(self.numerator, self.denominator)


class PayScale(Period):
    """One year's scale: bands on annual net pay and the per-dependent raise."""

    per_dependent_cents: Cents
    bands: tuple[PayBand, ...]
    confirmed: Flag
    source: Text

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

    def provenance(self) -> Provenance:
        return Provenance(FIGURE, self.name, self.valid_from, self.valid_to, self.source, self.confirmed)

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


class PayScaleFile(Data):
    """The yearly scales, in order, as the packaged file and a new year's file both hold them."""

    kind: Literal["pay_scale"]
    periods: tuple[PayScale, ...]

    @model_validator(mode="after")
    def _in_sequence(self) -> PayScaleFile:
        require_sequence(self.periods, FIGURE)
        return self

    def scale_on(self, on: date) -> PayScale:
        return in_force(FIGURE, self.periods, on)


@functools.cache
def load_pay_scales() -> PayScaleFile:
    """The scales packaged with the hub, read once per process."""
    return load_packaged(PayScaleFile, PAY_SCALE_FILE)


def pay_scale_on(on: date, *, scales: PayScaleFile | None = None) -> PayScale:
    """The scale in force on ``on``, or ``NoFigureInForce`` naming the years covered."""
    return (scales or load_pay_scales()).scale_on(on)


def _require(monthly_net_income_cents: int, dependents: int) -> None:
    if type(monthly_net_income_cents) is not int:
        raise TypeError(f"pay is integer cents, got {type(monthly_net_income_cents).__name__}")
    if type(dependents) is not int:
        raise TypeError(f"dependents is an integer, got {type(dependents).__name__}")
    if monthly_net_income_cents < 0 or dependents < 0:
        raise InvalidPay("pay and dependents cannot be negative")


def scale_monthly_seizable(
    monthly_net_income_cents: int, dependents: int, on: date, *, scales: PayScaleFile | None = None
) -> Fraction:
    """What the scale in force alone allows each month, exactly (before rounding and the floor)."""
    _require(monthly_net_income_cents, dependents)
    scale = pay_scale_on(on, scales=scales)
    return scale.annual_seizable(monthly_net_income_cents * MONTHS_PER_YEAR, dependents) / MONTHS_PER_YEAR


def seizable_monthly_cents(
    monthly_net_income_cents: int,
    dependents: int,
    on: date,
    *,
    scales: PayScaleFile | None = None,
    rsa: RsaFile | None = None,
) -> int:
    """The share of a monthly net pay a wage garnishment may take on ``on``, in whole cents (down).

    Never more than the scale in force allows, and never so much that less than the single-person
    RSA in force on that date is left to the debtor.
    """
    by_scale = math.floor(scale_monthly_seizable(monthly_net_income_cents, dependents, on, scales=scales))
    above_floor = max(monthly_net_income_cents - pay_floor(on, rsa=rsa).cents, 0)
    return min(by_scale, above_floor)


@dataclass(frozen=True)
class SeizablePay:
    """What a wage garnishment may take each month, the words that justify it, and the figures used."""

    monthly_cents: int
    explanation: str
    scale: Provenance
    floor: Provenance


def seizable_pay(
    monthly_net_income_cents: int,
    dependents: int,
    on: date,
    *,
    scales: PayScaleFile | None = None,
    rsa: RsaFile | None = None,
) -> SeizablePay:
    """``seizable_monthly_cents`` with its explanation and the provenance of the scale and the floor."""
    seizable = seizable_monthly_cents(monthly_net_income_cents, dependents, on, scales=scales, rsa=rsa)
    scale = pay_scale_on(on, scales=scales)
    floor = pay_floor(on, rsa=rsa)
    by_scale = math.floor(scale_monthly_seizable(monthly_net_income_cents, dependents, on, scales=scales))
    binding = "the floor" if seizable < by_scale else "the scale"
    unconfirmed = "" if scale.confirmed else " (unconfirmed)"
    text = (
        f"{eur(seizable)} a month is seizable from a net pay of {eur(monthly_net_income_cents)} with "
        f"{dependents} dependent(s): the {scale.name} scale{unconfirmed} allows {eur(by_scale)}, and the "
        f"single-person RSA of {eur(floor.cents)} (period {floor.provenance.period}) always stays with the "
        f"debtor; {binding} binds."
    )
    return SeizablePay(seizable, text, scale.provenance(), floor.provenance)
