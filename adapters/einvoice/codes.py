"""Code lists and rule tables shared by the UBL and CII readers."""

from __future__ import annotations

from adapters.einvoice.model import DocumentKind

# UNTDID 1001 as the EN 16931 rule BR-CL-01 restricts it (lists of the CEN validation artefacts).
INVOICE_TYPE_CODES = frozenset(
    "71 80 82 84 102 130 202 203 204 211 218 219 295 325 326 331 380 382 383 384 385 386 387 388 389 "
    "390 393 394 395 456 457 471 472 473 500 501 527 553 575 623 633 751 780 817 870 875 876 877 935".split()
)
CREDIT_NOTE_TYPE_CODES = frozenset("81 83 261 262 296 308 381 396 420 458 502 503 532".split())
# Orders, order changes and order responses (Order-X uses 220, 230, 231): documents, not invoices.
ORDER_TYPE_CODES = frozenset("105 220 221 222 223 224 225 226 227 228 229 230 231 232 233".split())


def kind_of_type_code(code: str) -> DocumentKind | None:
    """Invoice or credit note for a BT-3 code; None for a code outside BR-CL-01."""
    if code in CREDIT_NOTE_TYPE_CODES:
        return DocumentKind.CREDIT_NOTE
    if code in INVOICE_TYPE_CODES:
        return DocumentKind.INVOICE
    return None


BT_NAMES = {
    "BT-92": "the document level allowance amount",
    "BT-93": "the document level allowance base amount",
    "BT-99": "the document level charge amount",
    "BT-100": "the document level charge base amount",
    "BT-106": "the sum of invoice line net amounts",
    "BT-107": "the sum of allowances on document level",
    "BT-108": "the sum of charges on document level",
    "BT-109": "the invoice total amount without VAT",
    "BT-110": "the invoice total VAT amount",
    "BT-112": "the invoice total amount with VAT",
    "BT-113": "the paid amount",
    "BT-114": "the rounding amount",
    "BT-115": "the amount due for payment",
    "BT-116": "the VAT category taxable amount",
    "BT-117": "the VAT category tax amount",
    "BT-131": "the invoice line net amount",
    "BT-136": "the invoice line allowance amount",
    "BT-137": "the invoice line allowance base amount",
    "BT-141": "the invoice line charge amount",
    "BT-142": "the invoice line charge base amount",
}

# BR-DEC-xx: "the allowed maximum number of decimals for <BT> is 2".
DECIMALS_RULE = {
    "BT-92": "BR-DEC-01",
    "BT-93": "BR-DEC-02",
    "BT-99": "BR-DEC-05",
    "BT-100": "BR-DEC-06",
    "BT-106": "BR-DEC-09",
    "BT-107": "BR-DEC-10",
    "BT-108": "BR-DEC-11",
    "BT-109": "BR-DEC-12",
    "BT-110": "BR-DEC-13",
    "BT-112": "BR-DEC-14",
    "BT-113": "BR-DEC-16",
    "BT-114": "BR-DEC-17",
    "BT-115": "BR-DEC-18",
    "BT-116": "BR-DEC-19",
    "BT-117": "BR-DEC-20",
    "BT-131": "BR-DEC-23",
    "BT-136": "BR-DEC-24",
    "BT-137": "BR-DEC-25",
    "BT-141": "BR-DEC-27",
    "BT-142": "BR-DEC-28",
}


def amount_label(bt: str) -> str:
    """``the invoice line net amount (BT-131)``."""
    return f"{BT_NAMES[bt]} ({bt})"


def allowance_charge_terms(*, document_level: bool, is_charge: bool) -> tuple[str, str]:
    """The business terms of an allowance's or charge's (amount, base amount)."""
    if document_level:
        return ("BT-99", "BT-100") if is_charge else ("BT-92", "BT-93")
    return ("BT-141", "BT-142") if is_charge else ("BT-136", "BT-137")


# Totals (BG-22) in a fixed order: (field of Totals, business term, rule when missing or None).
TOTALS = (
    ("line_net_total_cents", "BT-106", "BR-12"),
    ("allowance_total_cents", "BT-107", None),
    ("charge_total_cents", "BT-108", None),
    ("total_excl_vat_cents", "BT-109", "BR-13"),
    ("total_incl_vat_cents", "BT-112", "BR-14"),
    ("paid_cents", "BT-113", None),
    ("rounding_cents", "BT-114", None),
    ("due_cents", "BT-115", "BR-15"),
)
