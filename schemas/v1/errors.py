"""The one error format of the hub: every refusal lists its errors as ``{path, code, message}``."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import Field, ValidationError

from schemas.v1.common import _FORBIDDEN_CHARS, ReasonCode, Text, WireModel

MAX_ERRORS = 100
"""At most this many errors are reported for one message; the rest are left out."""


class ErrorItem(WireModel):
    """One thing wrong with a message, and what the sender must change."""

    path: str = Field(max_length=500)
    """Where: a JSON Pointer into a JSON message (``/lines/0/net_cents``) or an XPath-like path into an
    XML message (``/feeInvoice/line[1]/netCents``); ``/`` for the message as a whole."""
    code: ReasonCode
    """A stable machine-readable code, e.g. ``xml.schema``, ``missing``, ``invoice.total_net_mismatch``."""
    message: Text
    """A sentence for a person, saying what to change."""
    line: int | None = Field(default=None, ge=1)
    """The line in the received XML document, when known."""


_WIRE_CODE = re.compile(r"^[a-z][a-z0-9_.]{1,63}$")
# Outside rule sets whose identifiers are not in our form, and the family each gets on the wire.
_RULE_FAMILIES = (
    ("PEPPOL-", "peppol."),  # PEPPOL-EN16931-R120 -> peppol.en16931_r120
    ("BR-", "en16931.br_"),  # BR-CO-10 -> en16931.br_co_10, BR-S-08 -> en16931.br_s_08
)


def wire_code(code: str) -> str:
    """Any validator's code in the wire form of ``ErrorItem.code`` (``^[a-z][a-z0-9_.]{1,63}$``).

    Ours (``xml.schema``, ``value.missing``, ``invoice.number_reused``) pass unchanged. An EN 16931
    rule id becomes ``en16931.<rule id in lower case, - as _>`` and a Peppol one ``peppol.<...>``;
    anything else is lowered with every other character as ``_``. The one place where a code
    meets the wire pattern: the hub's error items map through it when made.
    """
    if _WIRE_CODE.match(code):
        return code
    for prefix, family in _RULE_FAMILIES:
        if code.upper().startswith(prefix):
            code = family + code[len(prefix) :]
            break
    mapped = re.sub(r"[^a-z0-9_.]", "_", code.lower()).strip("_.")
    if not mapped[:1].isalpha():
        mapped = "code." + mapped
    mapped = mapped[:64].rstrip("_.")
    return mapped if _WIRE_CODE.match(mapped) else "invalid"


def wire_message(code: str, message: str) -> str:
    """The message of an error whose code ``wire_code`` changed, led by the original code
    (``BR-CO-10: BT-106 is ...``) so that the rule stays readable by its own name."""
    if wire_code(code) == code or code in message:
        return message
    return f"{code}: {message}"


def wire_text(text: str, *, limit: int = 500) -> str:
    """A path or message as the wire carries it: no character XML cannot carry (each one becomes
    U+FFFD), at most ``limit`` characters, never empty."""
    return _FORBIDDEN_CHARS.sub("\ufffd", text)[:limit] or "-"


def _pointer_part(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def json_pointer(loc: Sequence[str | int]) -> str:
    """The JSON Pointer (RFC 6901) of a pydantic error location."""
    return "/" + "/".join(_pointer_part(p) for p in loc) if loc else "/"


def error_location(loc: Sequence[str | int], ctx: dict[str, object] | None) -> list[str | int]:
    """The location of an error, extended by the ``at`` of a cross-field rule (see ``rule_error``)."""
    parts: list[str | int] = list(loc)
    at = (ctx or {}).get("at")
    if isinstance(at, str) and at:
        parts.extend(int(p) if p.isdigit() else p for p in at.split("."))
    return parts


def error_code(pydantic_type: str) -> str:
    """Our code for a pydantic error type: custom codes (dotted) pass through, built-in ones get a prefix.

    ``missing`` -> ``value.missing``, ``string_pattern_mismatch`` -> ``value.string_pattern_mismatch``.
    """
    return wire_code(pydantic_type) if "." in pydantic_type else wire_code(f"value.{pydantic_type}")


def error_items(exc: ValidationError, *, skip_leading: int = 0) -> list[ErrorItem]:
    """Every error of a pydantic ``ValidationError`` as ErrorItems with JSON Pointer paths (capped).

    ``skip_leading`` drops leading location parts, e.g. the union tag added by ``Message``.
    """
    items = []
    for err in exc.errors(include_url=False)[:MAX_ERRORS]:
        loc = error_location(err["loc"][skip_leading:], err.get("ctx"))
        message = err["msg"][:500] or "invalid value"
        items.append(ErrorItem(path=json_pointer(loc), code=error_code(err["type"]), message=message))
    return items
