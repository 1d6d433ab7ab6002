"""A fee invoice read from an EN 16931 e-invoice (UBL 2.1, UN/CEFACT CII, Factur-X PDF), in one form.

Every amount is integer cents (``*_cents``), never a float; quantities, prices and rates that may carry
more than two decimals stay exact ``Decimal`` values or basis points (``2000`` = 20 %). The BT numbers
in the docstrings are the EN 16931 business terms each field holds.

Signs: the amounts are kept **as the document states them**. A credit note (UBL ``CreditNote``, or
type code 381 and the other credit-note codes of UNTDID 1001 in CII or UBL) states positive amounts
that the seller owes back; an invoice may itself carry negative amounts (EN 16931 allows them). A
consumer that books fees gets the signed amount with ``invoice.signed(amount)`` (or multiplies by
``invoice.sign``: ``-1`` for a credit note, ``+1`` for an invoice), so that a credit note of
EUR 25.79 becomes fees of -2579 cents, and a negative invoice line stays negative:

    fees = [invoice.signed(line.net_cents) for line in invoice.lines]
    total = invoice.signed(invoice.totals.total_excl_vat_cents)

``sources`` maps a field name to where the value was read (element path and line), so that an error
about it (``rules.check_arithmetic``) points into the document; an invoice built by hand has none
and its errors name the business term instead (``BT-106``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class Syntax(StrEnum):
    UBL = "ubl"
    """UBL 2.1 ``Invoice`` or ``CreditNote``."""
    CII = "cii"
    """UN/CEFACT ``CrossIndustryInvoice`` D16B (Factur-X / ZUGFeRD 2 profiles, XRechnung CII)."""
    FACTURX_PDF = "facturx_pdf"
    """A PDF with a CII invoice embedded (Factur-X / ZUGFeRD 2)."""


@dataclass(frozen=True)
class Source:
    """Where a value was read: the element path (local names, ``/Invoice/InvoiceLine[2]/ID``) and line."""

    path: str
    line: int | None


@dataclass(frozen=True)
class LegalId:
    """A legal registration identifier (BT-30 for the seller, BT-47 for the buyer).

    ``scheme`` is the ISO 6523 ICD when given: ``0002`` SIREN, ``0009`` SIRET."""

    value: str
    scheme: str | None = None


SIREN_SCHEME = "0002"
SIRET_SCHEME = "0009"


@dataclass(frozen=True)
class Party:
    """The seller (BG-4: the bailiff office) or the buyer (BG-7: the agency)."""

    name: str
    """BT-27 / BT-44: the registration name (else the trading name)."""
    legal_id: LegalId | None = None
    """BT-30 / BT-47."""
    vat_id: str | None = None
    """BT-31 / BT-48: the VAT identifier, e.g. ``FR32123456789``."""

    @property
    def siret(self) -> str | None:
        """The 14-digit SIRET when the legal id is one (scheme 0009, or 14 digits without a scheme)."""
        legal = self.legal_id
        if legal is None or not (legal.value.isdigit() and len(legal.value) == 14):
            return None
        return legal.value if legal.scheme in (SIRET_SCHEME, None) else None

    @property
    def siren(self) -> str | None:
        """The 9-digit SIREN: the legal id itself (scheme 0002) or the first 9 digits of the SIRET."""
        legal = self.legal_id
        if legal is None:
            return None
        if legal.value.isdigit() and len(legal.value) == 9 and legal.scheme in (SIREN_SCHEME, None):
            return legal.value
        siret = self.siret
        return siret[:9] if siret is not None else None


@dataclass(frozen=True)
class AllowanceCharge:
    """A document level allowance (BG-20) or charge (BG-21), or one of a line (BG-27 / BG-28)."""

    is_charge: bool
    amount_cents: int
    """BT-92 / BT-99 (document), BT-136 / BT-141 (line)."""
    base_cents: int | None = None
    """BT-93 / BT-100 / BT-137 / BT-142."""
    percent: Decimal | None = None
    """BT-94 / BT-101 / BT-138 / BT-143."""
    reason: str | None = None
    """BT-97 / BT-104 / BT-139 / BT-144."""
    reason_code: str | None = None
    """BT-98 / BT-105 / BT-140 / BT-145."""
    vat_category: str | None = None
    """BT-95 / BT-102 (document level only)."""
    vat_rate_bp: int | None = None
    """BT-96 / BT-103 in basis points (document level only)."""
    sources: Mapping[str, Source] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class InvoiceLine:
    """One invoice line (BG-25). For a bailiff office: one act billed, named by its references."""

    line_id: str
    """BT-126."""
    description: str
    """BT-153: the item name, e.g. ``Signification d'un titre exécutoire``."""
    quantity: Decimal
    """BT-129, exact."""
    unit_code: str | None
    """BT-130 (UN/ECE Rec 20, e.g. ``C62`` one)."""
    net_cents: int
    """BT-131: the line net amount, excl. VAT."""
    net_price: Decimal | None = None
    """BT-146: the item net price, exact (it may have more than 2 decimals)."""
    price_base_quantity: Decimal | None = None
    """BT-149: the quantity the price is for (1 when absent)."""
    allowances_charges: tuple[AllowanceCharge, ...] = ()
    """BG-27 / BG-28."""
    vat_category: str | None = None
    """BT-151: ``S`` standard rate, ``Z``, ``E``, ``AE``, ``K``, ``G``, ``O``, ``L``, ``M``."""
    vat_rate_bp: int | None = None
    """BT-152 in basis points: 2000 = 20 %."""
    office_act_reference: str | None = None
    """BT-128, invoice line object identifier: the office's reference of the act, as in its act report."""
    approval_id: str | None = None
    """BT-132, referenced purchase order line reference: the agency's approval id for the act."""
    act_code: str | None = None
    """BT-155, item seller's identifier: the tariff act code, e.g. ``SERVE_TITLE``."""
    sources: Mapping[str, Source] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class VatBreakdown:
    """One VAT breakdown (BG-23): per VAT category and rate."""

    category: str
    """BT-118."""
    rate_bp: int | None
    """BT-119 in basis points (absent for category ``O``, not subject to VAT)."""
    basis_cents: int
    """BT-116: the taxable amount."""
    vat_cents: int
    """BT-117: the VAT amount."""
    exemption_reason: str | None = None
    """BT-120."""
    sources: Mapping[str, Source] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Totals:
    """The document totals (BG-22)."""

    line_net_total_cents: int
    """BT-106: sum of the line net amounts."""
    total_excl_vat_cents: int
    """BT-109."""
    total_incl_vat_cents: int
    """BT-112."""
    due_cents: int
    """BT-115: amount due for payment."""
    allowance_total_cents: int | None = None
    """BT-107."""
    charge_total_cents: int | None = None
    """BT-108."""
    vat_total_cents: int | None = None
    """BT-110, in the invoice currency."""
    paid_cents: int | None = None
    """BT-113."""
    rounding_cents: int | None = None
    """BT-114."""
    sources: Mapping[str, Source] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ParsedInvoice:
    """An EN 16931 invoice or credit note, as read; see the module docstring for signs."""

    kind: DocumentKind
    syntax: Syntax
    number: str
    """BT-1."""
    issue_date: date
    """BT-2."""
    type_code: str
    """BT-3 (UNTDID 1001): 380 commercial invoice, 381 credit note, 384 corrected invoice..."""
    currency: str
    """BT-5 (ISO 4217). Whether it is acceptable (EUR unless agreed) is the hub's decision."""
    seller: Party
    buyer: Party
    lines: tuple[InvoiceLine, ...]
    vat_breakdown: tuple[VatBreakdown, ...]
    totals: Totals
    allowances_charges: tuple[AllowanceCharge, ...] = ()
    """BG-20 / BG-21, document level."""
    due_date: date | None = None
    """BT-9."""
    mandate_reference: str | None = None
    """BT-13, purchase order reference: the agency's mandate reference."""
    buyer_reference: str | None = None
    """BT-10."""
    specification: str | None = None
    """BT-24: the specification identifier / Factur-X profile URN."""

    @property
    def sign(self) -> int:
        """-1 for a credit note, +1 for an invoice: multiply an amount by it to get signed fees."""
        return -1 if self.kind is DocumentKind.CREDIT_NOTE else 1

    def signed(self, cents: int) -> int:
        """An amount of this document as signed fees (a credit note's amounts become negative)."""
        return self.sign * cents
