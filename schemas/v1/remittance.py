"""Remittance, office -> agency: one bank transfer of money the office collected from debtors on the
agency's cases ("reversement"), split per case.

The hub posts each line to the fee ledger against what the office collected on that case and has not
remitted yet; a line above that, or on a case the office holds no mandate on, refuses the whole
remittance (it is one transfer: all its lines or none)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, StringConstraints

from schemas.v1.common import Currency, PositiveCents, Reference, WireModel
from schemas.v1.envelope import MessageModel

BankReference = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9/?:().,'+ -]{1,35}$")]
"""The transfer's reference as the bank shows it: the SEPA end-to-end id, 1 to 35 characters of the
SEPA character set."""


class RemittanceLine(WireModel):
    """The part of the transfer that is money collected on one case."""

    case_ref: Reference
    """The agency's case reference, as on the office's mandate."""
    amount_cents: PositiveCents
    """Remitted for this case, in the remittance's currency."""


class Remittance(MessageModel):
    """Office -> agency: money collected on the agency's cases, handed over in one bank transfer."""

    KIND = "remittance"

    bank_reference: BankReference
    """The transfer's reference (SEPA end-to-end id); one remittance per reference and office."""
    value_date: date
    """The day the transfer is credited to the agency's account."""
    currency: Currency = "EUR"
    lines: list[RemittanceLine] = Field(min_length=1, max_length=1000)
    """One line per case (a case given twice is checked on the sum of its lines)."""
