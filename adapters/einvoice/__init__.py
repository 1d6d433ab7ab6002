"""EN 16931 e-invoices (UBL 2.1, UN/CEFACT CII, Factur-X PDF) read into one canonical form.

Pure: no database, no hub imports. ``read_einvoice(data)`` returns a ``ParsedInvoice`` or raises
``EInvoiceRejected`` (an ``XmlRejected``) listing every error; ``check_arithmetic`` runs the EN 16931
arithmetic on any ``ParsedInvoice``. See ``docs/adr/0003-einvoices.md``.
"""

from adapters.einvoice.model import (
    AllowanceCharge,
    DocumentKind,
    InvoiceLine,
    LegalId,
    ParsedInvoice,
    Party,
    Source,
    Syntax,
    Totals,
    VatBreakdown,
)
from adapters.einvoice.read import EInvoiceRejected, read_einvoice
from adapters.einvoice.rules import EN16931_TOLERANCE_CENTS, check_arithmetic

__all__ = [
    "EN16931_TOLERANCE_CENTS",
    "AllowanceCharge",
    "DocumentKind",
    "EInvoiceRejected",
    "InvoiceLine",
    "LegalId",
    "ParsedInvoice",
    "Party",
    "Source",
    "Syntax",
    "Totals",
    "VatBreakdown",
    "check_arithmetic",
    "read_einvoice",
]
