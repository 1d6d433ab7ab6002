"""Reading EN 16931 values out of a parsed tree, collecting every error instead of stopping.

The UBL and CII readers share this: element lookup by XPath, element paths for error reports, and the
conversion of decimal text into integer cents (``BR-DEC-*``: at most 2 decimals, never rounded),
exact quantities and prices, VAT rates in basis points and dates.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

from adapters.einvoice.model import Source
from adapters.xml.hardened import MAX_ERRORS, XmlError
from schemas.v1.common import MAX_CENTS as SCHEMA_MAX_CENTS

# xs:decimal lexical form (no exponent, no NaN/INF); bounded, so no arithmetic on absurd numbers.
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
MAX_DECIMAL_CHARS = 40
MAX_CENTS = SCHEMA_MAX_CENTS
"""EUR 100 billion: larger amounts are refused (the same bound as the v1 wire contracts)."""
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATE_102 = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


def line_of(element: etree._Element) -> int | None:
    line: object = element.sourceline
    return line if isinstance(line, int) else None


def path_of(element: etree._Element) -> str:
    """``/Invoice/InvoiceLine[2]/LineExtensionAmount``: local names from the root, with a 1-based
    position where same-named siblings exist (as in ``adapters.xml.hardened.validate``)."""
    steps: list[str] = []
    current: etree._Element | None = element
    while current is not None:
        tag = current.tag
        name = local(current)
        parent = current.getparent()
        if parent is not None:
            before = sum(1 for s in current.itersiblings(preceding=True) if s.tag == tag)
            after = any(s.tag == tag for s in current.itersiblings())
            if before or after:
                name = f"{name}[{before + 1}]"
        steps.append(name)
        current = parent
    return "/" + "/".join(reversed(steps))


def source_of(element: etree._Element) -> Source:
    return Source(path=path_of(element), line=line_of(element))


class FieldReader:
    """Reads values under a namespace map, noting each error (at most ``MAX_ERRORS``) in ``errors``."""

    def __init__(self, namespaces: dict[str, str]) -> None:
        self.namespaces = namespaces
        self.errors: list[XmlError] = []

    # --- errors -------------------------------------------------------------------------------

    def error(self, code: str, message: str, *, at: etree._Element | None, missing: str = "") -> None:
        """An error about ``at``, or about the element ``missing`` (an XPath below ``at``) that is not
        there: its path then runs through the deepest part that exists (``/Invoice/InvoiceLine[2]/Item``)
        to the absent steps (``/Name``), at the line of the deepest part."""
        if len(self.errors) >= MAX_ERRORS:
            return
        if at is None:
            self.errors.append(XmlError(line=None, path="", code=code, message=message))
            return
        node, rest = at, steps(missing) if missing else []
        while rest:
            found = self.first(node, rest[0])
            if found is None:
                break
            node, rest = found, rest[1:]
        path = path_of(node) + "".join(f"/{_local_step(step)}" for step in rest)
        self.errors.append(XmlError(line=line_of(node), path=path, code=code, message=message))

    # --- lookup -------------------------------------------------------------------------------

    def all(self, context: etree._Element, xpath: str) -> list[etree._Element]:
        found = context.xpath(xpath, namespaces=self.namespaces)
        assert isinstance(found, list)
        return [e for e in found if isinstance(e, etree._Element)]

    def first(self, context: etree._Element | None, xpath: str) -> etree._Element | None:
        if context is None:
            return None
        found = self.all(context, xpath)
        return found[0] if found else None

    def text(
        self,
        context: etree._Element | None,
        xpath: str,
        *,
        required: tuple[str, str] | None = None,
    ) -> str | None:
        """The stripped text of the first match, None when absent or empty.

        ``required`` is ``(rule code, sentence)``: reported, at ``context``, when the value is missing."""
        element = self.first(context, xpath)
        value = (element.text or "").strip() if element is not None else ""
        if not value:
            if required is not None and context is not None:
                code, sentence = required
                self.error(
                    code,
                    sentence,
                    at=element if element is not None else context,
                    missing="" if element is not None else xpath,
                )
            return None
        return value

    # --- values -------------------------------------------------------------------------------

    def decimal(self, element: etree._Element, what: str) -> Decimal | None:
        raw = (element.text or "").strip()
        if len(raw) > MAX_DECIMAL_CHARS or not _DECIMAL.match(raw):
            self.error(
                "einvoice.invalid_number",
                f"{what} must be a decimal number such as 1234.56 (no exponent, at most "
                f"{MAX_DECIMAL_CHARS} characters); found {raw[:MAX_DECIMAL_CHARS]!r}",
                at=element,
            )
            return None
        try:
            return Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            self.error("einvoice.invalid_number", f"{what} is not a decimal number", at=element)
            return None

    def cents(self, element: etree._Element, what: str, decimals_rule: str) -> int | None:
        """An amount as integer cents; more than 2 decimals is ``decimals_rule`` (BR-DEC-xx), not rounded.

        The decimals are counted as written, like the EN 16931 schematron does: ``1.500`` has three."""
        value = self.decimal(element, what)
        if value is None:
            return None
        raw = (element.text or "").strip()
        written_decimals = len(raw.partition(".")[2])
        if written_decimals > 2:
            self.error(
                decimals_rule,
                f"{what} has {written_decimals} decimals; EN 16931 allows at most 2: round it to the "
                f"cent yourself (found {raw})",
                at=element,
            )
            return None
        cents = int(value * 100)
        if abs(cents) > MAX_CENTS:
            self.error(
                "einvoice.amount_too_large",
                f"{what} is {raw}; amounts above {MAX_CENTS // 100} are refused",
                at=element,
            )
            return None
        return cents

    def rate_bp(self, element: etree._Element, what: str) -> int | None:
        """A percentage as basis points: ``20`` or ``20.00`` -> 2000, ``5.5`` -> 550."""
        value = self.decimal(element, what)
        if value is None:
            return None
        basis_points = value * 100
        if basis_points != basis_points.to_integral_value() or not 0 <= basis_points <= 10000:
            self.error(
                "einvoice.invalid_rate",
                f"{what} must be a percentage from 0 to 100 with at most 2 decimals, e.g. 20 or 5.5; "
                f"found {(element.text or '').strip()}",
                at=element,
            )
            return None
        return int(basis_points)

    def iso_date(self, element: etree._Element, what: str) -> date | None:
        """An ``xs:date`` as written in UBL: ``YYYY-MM-DD``."""
        return self._date(element, what, _ISO_DATE, "YYYY-MM-DD, e.g. 2026-03-02")

    def date_102(self, element: etree._Element, what: str) -> date | None:
        """A CII ``udt:DateTimeString`` in format 102: ``YYYYMMDD``."""
        date_format = element.get("format")
        if date_format is not None and date_format.strip() != "102":
            self.error(
                "einvoice.invalid_date",
                f"{what} must use format 102 (YYYYMMDD); found format {date_format!r}",
                at=element,
            )
            return None
        return self._date(element, what, _DATE_102, "YYYYMMDD (format 102), e.g. 20260302")

    def _date(self, element: etree._Element, what: str, pattern: re.Pattern[str], shape: str) -> date | None:
        raw = (element.text or "").strip()
        match = pattern.match(raw)
        if match is not None:
            try:
                return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                pass
        self.error(
            "einvoice.invalid_date", f"{what} must be a date written {shape}; found {raw[:40]!r}", at=element
        )
        return None


def steps(xpath: str) -> list[str]:
    """The location steps of a relative XPath, ``/`` inside predicates kept: ``a[b/c='1']/d`` -> 2 steps."""
    parts: list[str] = []
    depth, start = 0, 0
    for index, char in enumerate(xpath):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "/" and depth == 0:
            parts.append(xpath[start:index])
            start = index + 1
    parts.append(xpath[start:])
    return [part for part in parts if part]


def _local_step(step: str) -> str:
    """``cbc:Name[@x='1']`` -> ``Name``."""
    return step.split("[", 1)[0].rsplit(":", 1)[-1]
