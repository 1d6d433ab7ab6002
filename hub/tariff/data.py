"""The one loader of the legal figures' data files, and what every dated figure has in common.

Every legal figure (a tariff period's amounts, the RSA, the pay scale) is data in a TOML file beside
these modules, read through ``parse`` and nothing else: the file is validated against its model and
every fault is reported with its path in the file. Each figure has an effective period
(``valid_from``, optional ``valid_to``, both inclusive; no end means "until a successor is loaded"),
a ``source`` and ``confirmed``; a date no period covers is an error naming the figure and the spans
the data covers, never a silent default.
"""

from __future__ import annotations

import functools
import importlib.resources
import itertools
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, Inexact, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints, ValidationError

from hub.kit.errors import ErrorItem, HubError, InvalidInput
from hub.kit.money import Money

BASIS_POINTS = 10_000  # a rate of 566 basis points is 5.66 %

Cents = Annotated[int, Strict(), Field(ge=0)]
BasisPoints = Annotated[int, Strict(), Field(ge=0, le=BASIS_POINTS)]
Flag = Annotated[bool, Strict()]
Text = Annotated[str, Strict(), StringConstraints(min_length=1)]
Code = Annotated[str, Strict(), StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")]
Day = Annotated[date, Strict()]

Model = TypeVar("Model", bound=BaseModel)


# --- errors ------------------------------------------------------------------------------------


class MalformedTariffData(HubError):
    """A legal figures' data file is unreadable or inconsistent: a deployment fault, not the sender's."""

    status = 500
    code = "malformed_tariff_data"
    title = "A data file of legal figures is malformed"


class NoFigureInForce(InvalidInput):
    """No period of a figure covers the date: the date is wrong, or a period must be loaded."""

    code = "no_figure_in_force"

    def __init__(self, figure: str, on: date, periods: Sequence[Period]) -> None:
        spans = ", ".join(f"{p.name} ({p.span()})" for p in periods) or "nothing"
        super().__init__(
            f"no {figure} in force on {on.isoformat()}; the data covers: {spans}. "
            f"Check the date, or load the {figure} period that covers it."
        )
        self.figure = figure
        self.on = on


# --- what a dated figure is --------------------------------------------------------------------


class Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Period(Data):
    """A named span of dates, ``valid_from`` to ``valid_to``, both inclusive; no end means open."""

    name: Text
    valid_from: Day
    valid_to: Day | None = None

    def span(self) -> str:
        return span_words(self.valid_from, self.valid_to)

    def covers(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


def span_words(valid_from: date, valid_to: date | None) -> str:
    end = valid_to.isoformat() if valid_to else "open end"
    return f"{valid_from.isoformat()} to {end}"


@dataclass(frozen=True)
class Provenance:
    """Where a figure comes from: its period, its source, and whether it is confirmed."""

    figure: str
    period: str
    valid_from: date
    valid_to: date | None
    source: str
    confirmed: bool

    def span(self) -> str:
        return span_words(self.valid_from, self.valid_to)

    def describe(self) -> str:
        """One sentence for an explanation: '..., period 2025-04 (2025-04-01 to open end), source: ...'."""
        marker = "" if self.confirmed else "; UNCONFIRMED"
        return f"{self.figure}, period {self.period} ({self.span()}), source: {self.source}{marker}"


def sequence_problems(periods: Sequence[Period], figure: str) -> list[str]:
    """Periods must follow each other day after day: in order, no overlap, no gap, only the last open."""
    problems = []
    for index, period in enumerate(periods):
        if period.valid_to is not None and period.valid_to < period.valid_from:
            problems.append(f"{figure} period {period.name}: valid_to is before valid_from")
        elif period.valid_to is None and index < len(periods) - 1:
            problems.append(f"{figure} period {period.name} has no valid_to but a later period follows")
    for earlier, later in itertools.pairwise(periods):
        if earlier.valid_to is None:
            continue
        expected = earlier.valid_to + timedelta(days=1)
        if later.valid_from < expected:
            problems.append(
                f"{figure} period {earlier.name} ({earlier.span()}) must end before {later.name} "
                f"starts on {later.valid_from.isoformat()}: list periods in order, without overlap"
            )
        elif later.valid_from > expected:
            problems.append(
                f"{figure} periods leave a gap: {earlier.name} ends on {earlier.valid_to.isoformat()}, "
                f"{later.name} starts on {later.valid_from.isoformat()}; no figure would be in force between"
            )
    return problems


def require_sequence(periods: Sequence[Period], figure: str) -> None:
    """A file's periods, as its validator checks them: at least one, and in sequence (ValueError)."""
    if not periods:
        raise ValueError("the file holds no [[periods]]")
    if problems := sequence_problems(periods, figure):
        raise ValueError("; ".join(problems))


def follow_problems(packaged: Sequence[Period], new: Sequence[Period], figure: str) -> list[str]:
    """What is wrong with loading ``new`` after ``packaged``: the first new period must start the day
    after the last packaged one ends (an open last period is closed on the eve of the new one)."""
    if not packaged or not new:
        return []
    last, first = packaged[-1], new[0]
    if first.valid_from <= last.valid_from:
        overlapped = [p.name for p in packaged if p.valid_to is None or p.valid_to >= first.valid_from]
        return [
            f"{figure} period {first.name} starts on {first.valid_from.isoformat()}, inside the packaged "
            f"period(s) {', '.join(overlapped)}: a new period must start after {last.valid_from.isoformat()}"
        ]
    if last.valid_to is None:
        return []
    expected = last.valid_to + timedelta(days=1)
    if first.valid_from < expected:
        return [
            f"{figure} period {first.name} starts on {first.valid_from.isoformat()}, before the packaged "
            f"period {last.name} ends on {last.valid_to.isoformat()}: the periods overlap"
        ]
    if first.valid_from > expected:
        return [
            f"{figure} period {first.name} starts on {first.valid_from.isoformat()}, but the packaged "
            f"period {last.name} ends on {last.valid_to.isoformat()}: no figure would be in force between"
        ]
    return []


PeriodT = TypeVar("PeriodT", bound=Period)


def in_force(figure: str, periods: Sequence[PeriodT], on: date) -> PeriodT:
    """The period covering ``on``, or ``NoFigureInForce`` naming the figure and the spans covered."""
    for period in periods:
        if period.covers(on):
            return period
    raise NoFigureInForce(figure, on, periods)


# --- the loader --------------------------------------------------------------------------------


def _problem(error: Mapping[str, Any]) -> ErrorItem:
    path = ".".join(str(part) for part in error["loc"]) or "(file)"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "int_type" and isinstance(error.get("input"), float):
        message = "write amounts as integer cents (2579 for EUR 25.79), never as a decimal number"
    return ErrorItem(path=path, code=str(error["type"]), message=message)


def parse(model: type[Model], raw: Mapping[str, Any], origin: str) -> Model:
    """Validate decoded data against ``model``; every fault is reported with its path in the file."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = [_problem(e) for e in exc.errors()]
        listing = "; ".join(f"{p.path}: {p.message}" for p in problems)
        raise MalformedTariffData(
            f"{origin}: {len(problems)} problem(s): {listing}", errors=problems
        ) from exc


def decode(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MalformedTariffData(f"{origin}: not valid TOML: {exc}") from exc


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MalformedTariffData(f"{path}: cannot be read: {exc}") from exc


def read(model: type[Model], path: Path) -> Model:
    """Read and validate a data file: for tests, tools and reviewing a new period before release."""
    return parse(model, decode(read_text(path), str(path)), str(path))


def load_packaged(model: type[Model], filename: str) -> Model:
    """A data file packaged beside these modules (callers cache the result)."""
    text = importlib.resources.files("hub.tariff").joinpath(filename).read_text(encoding="utf-8")
    origin = f"hub/tariff/{filename}"
    return parse(model, decode(text, origin), origin)


# --- money words and the one rounding point ----------------------------------------------------


def round_half_up(amount: Fraction) -> int:
    """Exact cents-and-fractions -> whole cents, halves up; the only place a fraction of a cent ends."""
    with localcontext() as ctx:
        # Rates are basis points and coefficients tenths, so the quotient is a finite decimal;
        # trapping Inexact turns any other case into an error instead of a silent misrounding.
        ctx.prec = 50
        ctx.traps[Inexact] = True
        exact = Decimal(amount.numerator) / Decimal(amount.denominator)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@functools.lru_cache(maxsize=4096)
def eur(cents: int) -> str:
    """``cents`` as a person reads euros (a price's every line writes a few: kept)."""
    return Money(cents).display()


def percent(basis_points: int) -> str:
    whole, hundredths = divmod(basis_points, 100)
    return f"{whole} %" if hundredths == 0 else f"{whole}.{hundredths:02d} %"
