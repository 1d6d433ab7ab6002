"""Building blocks shared by every v1 message: the strict base model and the constrained types.

Money is always integer cents (``*_cents``) plus an ISO 4217 ``currency``; there is no float
anywhere in the wire contracts.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

MAX_CENTS = 10**13
"""Upper bound of any amount: EUR 100 billion, far above any claim, well inside an xs:long."""


class WireModel(BaseModel):
    """Base of every wire model: strict types, unknown fields refused, immutable once built."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, use_attribute_docstrings=True)


# XML 1.0 cannot carry these characters, and no office software needs them.
_FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_safe(value: str) -> str:
    found = _FORBIDDEN_CHARS.search(value)
    if found is not None:
        raise PydanticCustomError(
            "value.invalid_character",
            "the text contains the control character U+{code:04X}, which XML cannot carry; remove it",
            {"code": ord(found.group())},
        )
    return value


def _whole_minute_offset(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is not None and (offset.total_seconds() % 60 or abs(offset.total_seconds()) > 14 * 3600):
        raise PydanticCustomError(
            "value.invalid_offset",
            "the UTC offset must be whole minutes between -14:00 and +14:00, e.g. +01:00 or Z",
        )
    return value


Text = Annotated[str, StringConstraints(min_length=1, max_length=500), AfterValidator(_xml_safe)]
"""Free text for a person to read (names, reasons, comments), 1-500 characters."""

LongText = Annotated[str, StringConstraints(min_length=1, max_length=4000), AfterValidator(_xml_safe)]
"""Longer free text (instructions), 1-4000 characters."""

Timestamp = Annotated[AwareDatetime, AfterValidator(_whole_minute_offset)]
"""An ISO 8601 date-time with its UTC offset, e.g. ``2026-03-02T09:15:00+01:00`` or ``...Z``."""

MessageId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
"""A sender-chosen identifier, unique per sender: 1-64 of ``A-Z a-z 0-9 . _ : -``."""

Reference = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:/-]{1,64}$")]
"""A business reference (case, mandate, approval, office file): 1-64 of ``A-Z a-z 0-9 . _ : / -``."""

PartyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,16}$")]
"""``AGENCY`` for the agency (and the hub acting for it), or an office code such as ``CJ75001``."""

ActCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")]
"""An act of the tariff catalogue, e.g. ``SERVE_TITLE``; checked against the catalogue by the hub."""

ReasonCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.]{1,63}$")]
"""A machine-readable code in lower case with dots, e.g. ``cost.flagged`` or ``xml.schema``."""

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 currency code, e.g. ``EUR``."""

Cents = Annotated[int, Field(ge=0, le=MAX_CENTS)]
"""An amount in cents (minor units) that cannot be negative."""

PositiveCents = Annotated[int, Field(gt=0, le=MAX_CENTS)]
"""An amount in cents that must be above zero."""

SignedCents = Annotated[int, Field(ge=-MAX_CENTS, le=MAX_CENTS)]
"""An amount in cents that may be negative (a credit note line or total)."""

Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""A SHA-256 digest as 64 lower-case hexadecimal characters."""


def _siret_checksum(value: str) -> str:
    # Luhn over the 14 digits; La Poste's establishments (SIREN 356000000) use a digit sum instead.
    digits = [int(c) for c in value]
    if value.startswith("356000000"):
        ok = sum(digits) % 5 == 0
    else:
        total = 0
        for i, d in enumerate(reversed(digits)):
            if i % 2:
                d *= 2
                d = d - 9 if d > 9 else d
            total += d
        ok = total % 10 == 0
    if not ok:
        raise PydanticCustomError("value.siret_checksum", "the SIRET check digit is wrong; check the number")
    return value


Siret = Annotated[str, StringConstraints(pattern=r"^[0-9]{14}$"), AfterValidator(_siret_checksum)]
"""The 14-digit SIRET of an establishment (Luhn-checked)."""


def rule_error(code: str, message: str, *, at: str = "", **context: str | int) -> PydanticCustomError:
    """A cross-field error with a dotted code; ``at`` names the field it is about (``lines.0.net_cents``),
    so the error's path points at it rather than at the whole message."""
    return PydanticCustomError(code, message, {"at": at, **context})
