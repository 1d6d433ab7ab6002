"""The single-person RSA in force on a date: the unseizable bank minimum and the floor of pay.

The figures live in ``rsa.toml`` beside this module, one period per yearly revaluation (1 April).
The same amount is what a bank must leave on a person's account (L162-2 / R162-2 CPCE, "solde
bancaire insaisissable") and what a wage garnishment always leaves of the monthly pay (R3252-5
Code du travail). A date before the first period is an error, never the nearest figure.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import model_validator

from hub.tariff.data import (
    Cents,
    Data,
    Flag,
    Period,
    Provenance,
    Text,
    in_force,
    load_packaged,
    require_sequence,
)

RSA_FILE = "rsa.toml"
FIGURE = "single-person RSA"


class RsaPeriod(Period):
    single_person_monthly_cents: Cents
    confirmed: Flag
    source: Text

    def provenance(self, figure: str = FIGURE) -> Provenance:
        return Provenance(figure, self.name, self.valid_from, self.valid_to, self.source, self.confirmed)


class RsaFile(Data):
    """The RSA's periods, in order, as the packaged file and a new period's file both hold them."""

    kind: Literal["rsa"]
    periods: tuple[RsaPeriod, ...]

    @model_validator(mode="after")
    def _in_sequence(self) -> RsaFile:
        require_sequence(self.periods, "RSA")
        return self

    def period_on(self, on: date) -> RsaPeriod:
        return in_force(FIGURE, self.periods, on)


@dataclass(frozen=True)
class DatedAmount:
    """A legal amount in cents, with where it comes from."""

    cents: int
    provenance: Provenance


@functools.cache
def load_rsa() -> RsaFile:
    """The RSA periods packaged with the hub, read once per process."""
    return load_packaged(RsaFile, RSA_FILE)


def unseizable_bank_minimum(on: date, *, rsa: RsaFile | None = None) -> DatedAmount:
    """What a bank must leave on a person's account on ``on`` (the single-person RSA in force)."""
    period = (rsa or load_rsa()).period_on(on)
    figure = "unseizable bank minimum (L162-2 / R162-2 CPCE: the single-person RSA)"
    return DatedAmount(period.single_person_monthly_cents, period.provenance(figure))


def pay_floor(on: date, *, rsa: RsaFile | None = None) -> DatedAmount:
    """What a wage garnishment always leaves of the monthly pay on ``on`` (R3252-5: the RSA in force)."""
    period = (rsa or load_rsa()).period_on(on)
    figure = "protected pay floor (R3252-5 Code du travail: the single-person RSA)"
    return DatedAmount(period.single_person_monthly_cents, period.provenance(figure))
