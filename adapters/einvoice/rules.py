"""The EN 16931 core arithmetic, in integer cents: pure functions returning every error found.

Each error is an ``XmlError`` whose code is the rule's identifier (``BR-CO-10`` ...), whose path and
line point at the amount in the document when the invoice was read from one (else the business
term, ``BT-106``), and whose message gives both figures.

Exactness. Amounts are integer cents, so sums are exact; this is why the CEN sample
``CII-BR-CO-10-RoundingIssue.xml`` (lines 720.81 + 0.01 - 720.81 - 0.01 against BT-106 = 0.00)
passes here: it documents a false BR-CO-10 failure of schematron implementations that summed in
binary floating point (eInvoicing-EN16931 issue 277, fixed in PR 279 by casting to ``xs:decimal``).

Rounding and tolerance: the official ones (CEN validation artefacts, release 1.3.16).
- BR-CO-17: the VAT amount of a breakdown is ``basis x rate / 100`` rounded to 2 decimals,
  ROUND_HALF_UP (half away from zero) on the exact Decimal product; the artefacts accept a stated
  amount that differs from it by less than one currency unit (``abs(BT-117) - 1 < round(...) <
  abs(BT-117) + 1``), in both syntaxes. ``EN16931_TOLERANCE_CENTS`` (99) is that tolerance.
- BR-x-08 (the taxable amount of each VAT category): the artefacts differ by syntax. In UBL the
  rules of categories S, L and M (BR-S-08, BR-AF-08, BR-AG-08) accept less than one unit and the
  others (Z, E, AE, K, G, O) are exact; in CII it is the other way round but for O: Z, E, AE, K and
  G accept less than one unit, S, L, M and O are exact. ``X08_TOLERANCE`` holds that table.
- ``tolerance_cents`` given to the checks replaces every tolerance above (0 demands exact figures).
- BR-CO-10 to BR-CO-16 are exact (no tolerance in EN 16931).
- BT-131 = BT-129 x (BT-146 / BT-149) + line charges - line allowances: EN 16931 states the
  formula but has no BR rule for it, and its own examples do not follow it; it is checked on demand
  (``line_net=True``) as Peppol does (``PEPPOL-EN16931-R120``, within 0.02), only on lines that carry
  a net price.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, localcontext

from adapters.einvoice.model import (
    AllowanceCharge,
    InvoiceLine,
    ParsedInvoice,
    Source,
    Syntax,
    VatBreakdown,
)
from adapters.xml.hardened import MAX_ERRORS, XmlError

EN16931_TOLERANCE_CENTS = 99
"""BR-CO-17 / BR-x-08: the CEN artefacts accept a deviation strictly below one currency unit."""
LINE_NET_TOLERANCE_CENTS = 2
"""PEPPOL-EN16931-R120: line net amount within 0.02 of quantity x price (+ charges - allowances)."""

# BR-x-08: the categories whose official rule accepts a taxable amount less than one unit off.
X08_TOLERANT = {
    Syntax.UBL: frozenset({"S", "L", "M"}),
    Syntax.CII: frozenset({"Z", "E", "AE", "K", "G"}),
}


def x08_tolerance_cents(syntax: Syntax, category: str) -> int:
    """The official tolerance of BR-x-08 for ``category`` in ``syntax`` (a Factur-X PDF is CII)."""
    family = Syntax.CII if syntax is Syntax.FACTURX_PDF else syntax
    return EN16931_TOLERANCE_CENTS if category in X08_TOLERANT.get(family, frozenset()) else 0


# The rule checking the taxable amount of each VAT category (BR-x-08), and whether it is per rate.
_CATEGORY_RULES = {
    "S": ("BR-S", True),
    "Z": ("BR-Z", False),
    "E": ("BR-E", False),
    "AE": ("BR-AE", False),
    "K": ("BR-IC", False),
    "G": ("BR-G", False),
    "O": ("BR-O", False),
    "L": ("BR-AF", True),
    "M": ("BR-AG", True),
}


def check_arithmetic(
    invoice: ParsedInvoice, *, tolerance_cents: int | None = None, line_net: bool = False
) -> list[XmlError]:
    """Every arithmetic error of the invoice (at most ``MAX_ERRORS``); [] when it adds up.

    ``line_net`` adds PEPPOL-EN16931-R120 (quantity x price on each line), which is not an EN 16931
    rule: CEN's own examples break it (``ubl-tc434-example1.xml`` line 20: 6 x 18.33 billed -109.98)."""
    errors = [
        *(check_line_net_amounts(invoice.lines) if line_net else []),
        *check_totals(invoice),
        *check_vat_breakdown(invoice, tolerance_cents=tolerance_cents),
    ]
    return errors[:MAX_ERRORS]


def vat_amount_cents(basis_cents: int, rate_bp: int) -> int:
    """``basis x rate``, rounded half away from zero to the cent (``rate_bp``: 2000 = 20 %)."""
    exact = Decimal(basis_cents * rate_bp) / Decimal(10000)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def money(cents: int) -> str:
    """``-1234`` -> ``-12.34``."""
    return f"{Decimal(cents).scaleb(-2):.2f}"


# --- lines -------------------------------------------------------------------------------------


def check_line_net_amounts(lines: Iterable[InvoiceLine]) -> list[XmlError]:
    """PEPPOL-EN16931-R120 on every line that states a net price."""
    errors = []
    for line in lines:
        if line.net_price is None:
            continue
        base = line.price_base_quantity if line.price_base_quantity is not None else Decimal(1)
        if base <= 0:
            errors.append(
                _error(
                    "einvoice.invalid_base_quantity",
                    f"line {line.line_id}: the price base quantity (BT-149) must be above zero",
                    line.sources.get("line"),
                    "BT-149",
                )
            )
            continue
        charges = sum(ac.amount_cents for ac in line.allowances_charges if ac.is_charge)
        allowances = sum(ac.amount_cents for ac in line.allowances_charges if not ac.is_charge)
        with localcontext(prec=120):  # quantities and prices are bounded to 40 characters
            expected = line.quantity * line.net_price / base * 100 + charges - allowances
        if abs(line.net_cents - expected) > LINE_NET_TOLERANCE_CENTS:
            shown = expected.quantize(Decimal(1), rounding=ROUND_HALF_UP)
            errors.append(
                _error(
                    "PEPPOL-EN16931-R120",
                    f"line {line.line_id}: the net amount (BT-131) is {money(line.net_cents)} but quantity "
                    f"{line.quantity} x net price {line.net_price}"
                    + (f" / base quantity {base}" if line.price_base_quantity is not None else "")
                    + (f" + charges {money(charges)}" if charges else "")
                    + (f" - allowances {money(allowances)}" if allowances else "")
                    + f" gives {money(int(shown))}: correct the amount, quantity or price",
                    line.sources.get("net_cents"),
                    "BT-131",
                )
            )
    return errors


# --- totals ------------------------------------------------------------------------------------


def check_totals(invoice: ParsedInvoice) -> list[XmlError]:
    """BR-CO-10 to BR-CO-16: the document totals against the lines, allowances, charges and VAT."""
    t = invoice.totals
    errors: list[XmlError] = []

    def differs(code: str, stated: int, computed: int, field: str, bt: str, formula: str) -> None:
        if stated != computed:
            errors.append(
                _error(
                    code,
                    f"{bt} is {money(stated)} but {formula} gives {money(computed)}: make them agree",
                    t.sources.get(field),
                    bt,
                )
            )

    lines_sum = sum(line.net_cents for line in invoice.lines)
    differs(
        "BR-CO-10",
        t.line_net_total_cents,
        lines_sum,
        "line_net_total_cents",
        "BT-106",
        "the sum of the line net amounts (BT-131)",
    )
    allowances = [ac for ac in invoice.allowances_charges if not ac.is_charge]
    charges = [ac for ac in invoice.allowances_charges if ac.is_charge]
    if t.allowance_total_cents is not None or allowances:
        differs(
            "BR-CO-11",
            t.allowance_total_cents or 0,
            _sum(allowances),
            "allowance_total_cents",
            "BT-107",
            "the sum of the document level allowances (BT-92)",
        )
    if t.charge_total_cents is not None or charges:
        differs(
            "BR-CO-12",
            t.charge_total_cents or 0,
            _sum(charges),
            "charge_total_cents",
            "BT-108",
            "the sum of the document level charges (BT-99)",
        )
    differs(
        "BR-CO-13",
        t.total_excl_vat_cents,
        t.line_net_total_cents - (t.allowance_total_cents or 0) + (t.charge_total_cents or 0),
        "total_excl_vat_cents",
        "BT-109",
        "BT-106 - BT-107 + BT-108",
    )
    if t.vat_total_cents is not None:
        differs(
            "BR-CO-14",
            t.vat_total_cents,
            sum(b.vat_cents for b in invoice.vat_breakdown),
            "vat_total_cents",
            "BT-110",
            "the sum of the VAT breakdown amounts (BT-117)",
        )
    differs(
        "BR-CO-15",
        t.total_incl_vat_cents,
        t.total_excl_vat_cents + (t.vat_total_cents or 0),
        "total_incl_vat_cents",
        "BT-112",
        "BT-109 + BT-110",
    )
    differs(
        "BR-CO-16",
        t.due_cents,
        t.total_incl_vat_cents - (t.paid_cents or 0) + (t.rounding_cents or 0),
        "due_cents",
        "BT-115",
        "BT-112 - BT-113 + BT-114",
    )
    return errors


def _sum(items: Iterable[AllowanceCharge]) -> int:
    return sum(item.amount_cents for item in items)


# --- VAT ---------------------------------------------------------------------------------------


def _rate_text(rate_bp: int | None) -> str:
    return "no rate" if rate_bp is None else f"{Decimal(rate_bp).scaleb(-2).normalize():f} %"


def _key(category: str | None, rate_bp: int | None) -> tuple[str, int | None]:
    code = (category or "").upper()
    per_rate = _CATEGORY_RULES.get(code, ("", True))[1]
    return code, (rate_bp if per_rate else None)


def check_vat_breakdown(invoice: ParsedInvoice, *, tolerance_cents: int | None = None) -> list[XmlError]:
    """BR-CO-17 on each VAT breakdown; BR-x-08 (taxable amount per category and rate) and BR-x-01 (a
    category used by a line, allowance or charge has a breakdown), with the official tolerances
    unless ``tolerance_cents`` is given."""
    errors: list[XmlError] = []
    cii = invoice.syntax in (Syntax.CII, Syntax.FACTURX_PDF)
    for breakdown in invoice.vat_breakdown:
        if cii and breakdown.rate_bp is None:
            continue  # the CII stylesheet checks a breakdown without a rate (O) by BR-O-09 only
        errors.extend(
            _vat_amount_errors(
                breakdown, EN16931_TOLERANCE_CENTS if tolerance_cents is None else tolerance_cents
            )
        )

    # What the lines, allowances and charges put in each category (and rate, where that matters).
    expected: dict[tuple[str, int | None], int] = {}
    first_use: dict[tuple[str, int | None], Source | None] = {}
    for line in invoice.lines:
        key = _key(line.vat_category, line.vat_rate_bp)
        expected[key] = expected.get(key, 0) + line.net_cents
        first_use.setdefault(key, line.sources.get("line"))
    for ac in invoice.allowances_charges:
        key = _key(ac.vat_category, ac.vat_rate_bp)
        expected[key] = expected.get(key, 0) + (ac.amount_cents if ac.is_charge else -ac.amount_cents)
        first_use.setdefault(key, ac.sources.get("allowance_charge"))

    stated: dict[tuple[str, int | None], VatBreakdown] = {}
    for breakdown in invoice.vat_breakdown:
        stated.setdefault(_key(breakdown.category, breakdown.rate_bp), breakdown)
    categories_stated = {code for code, _rate in stated}

    for key, breakdown in stated.items():
        code, rate = key
        prefix = _CATEGORY_RULES.get(code, (None, True))[0]
        if prefix is None:
            continue  # an unknown category is a code list error, not arithmetic
        computed = expected.get(key, 0)
        allowed = x08_tolerance_cents(invoice.syntax, code) if tolerance_cents is None else tolerance_cents
        if abs(breakdown.basis_cents - computed) > allowed:
            errors.append(
                _error(
                    f"{prefix}-08",
                    f"the taxable amount (BT-116) of category {code} at {_rate_text(breakdown.rate_bp)} is "
                    f"{money(breakdown.basis_cents)} but its lines, charges and allowances add up to "
                    f"{money(computed)}: make them agree",
                    breakdown.sources.get("basis_cents"),
                    "BT-116",
                )
            )
    for key, amount in expected.items():
        code, rate = key
        if key in stated or code not in _CATEGORY_RULES:
            continue
        prefix = _CATEGORY_RULES[code][0]
        rule = f"{prefix}-01" if code not in categories_stated else f"{prefix}-08"
        errors.append(
            _error(
                rule,
                f"lines, charges or allowances use VAT category {code}"
                + (f" at {_rate_text(rate)}" if _CATEGORY_RULES[code][1] else "")
                + f" ({money(amount)}) but no VAT breakdown (BG-23) has it: add one",
                first_use.get(key),
                "BG-23",
            )
        )
    return errors


def _vat_amount_errors(breakdown: VatBreakdown, tolerance_cents: int) -> list[XmlError]:
    rate = breakdown.rate_bp or 0
    computed = vat_amount_cents(breakdown.basis_cents, rate)
    if abs(breakdown.vat_cents - computed) <= tolerance_cents:
        return []
    return [
        _error(
            "BR-CO-17",
            f"the VAT amount (BT-117) of category {breakdown.category} at {_rate_text(breakdown.rate_bp)} is "
            f"{money(breakdown.vat_cents)} but {money(breakdown.basis_cents)} x {_rate_text(rate)} "
            f"rounded to the cent is {money(computed)}: correct it",
            breakdown.sources.get("vat_cents"),
            "BT-117",
        )
    ]


def _error(code: str, message: str, source: Source | None, term: str) -> XmlError:
    if source is None:
        return XmlError(line=None, path=term, code=code, message=message)
    return XmlError(line=source.line, path=source.path, code=code, message=message)
