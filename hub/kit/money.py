"""Money is integer minor units (cents) plus an ISO 4217 currency; never float.

``Decimal`` appears only at the edges, to parse or display an amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True, order=True)
class Money:
    cents: int
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if type(self.cents) is not int:
            raise TypeError(f"money must be integer cents, got {type(self.cents).__name__}")
        if not _CURRENCY.match(self.currency):
            raise ValueError(f"currency must be an ISO 4217 code such as EUR, got {self.currency!r}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.cents - other.cents, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.cents, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def display(self) -> str:
        """``1234`` EUR -> ``"12.34 EUR"``."""
        sign = "-" if self.cents < 0 else ""
        units, cents = divmod(abs(self.cents), 100)
        return f"{sign}{units}.{cents:02d} {self.currency}"


def parse_amount(text: str) -> int:
    """A decimal amount as written by people (``"12.3"``, ``"12,30"``) -> integer cents, half up."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {text!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not an amount: {text!r}")
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
