"""EN 16931 e-invoices on the one inbound path (docs/adr/0004-invoices.md).

An e-invoice (UBL 2.1, CII, Factur-X PDF) has no v1 envelope. ``read_einvoice_message`` recognises
one by its bytes (``%PDF-``, or an XML root in the UBL or CII namespace), reads it with
``adapters.einvoice`` (XSD, then the EN 16931 rules: the official CEN stylesheets of
``HUB_EN16931_DIR`` where there is one for the syntax, else the project's own; their errors are
passed through with their rule ids as codes), checks our rules on what only the e-invoice carries
(the seller is the sending office; no document level allowance or charge), and gives the canonical
``v1.FeeInvoice`` with an envelope synthesised for the credential's office and what those rules
found, in a ``Reading``: the handler receives them (``Delivery.found``) and refuses it with those
errors and its own (currency, number reuse) together, so every error is listed at once. Its message
id is derived from the office and the invoice number, so the same invoice sent twice is a duplicate.
Everything else (storing the raw bytes, the receipt, the negative acknowledgement, the duplicate
check, the handler) is the inbound path's.
"""

from __future__ import annotations

import hashlib
import re

from pydantic import ValidationError
from stdnum.fr import siren as siren_number
from stdnum.fr import siret as siret_number
from stdnum.fr import tva as vat_number

from adapters.einvoice import EInvoiceRejected, ParsedInvoice, read_einvoice
from adapters.einvoice.official import official_rules
from adapters.xml.hardened import XmlError
from hub.kit.clock import utcnow
from hub.kit.errors import ErrorItem
from hub.messaging.inbound import Reading
from hub.offices.models import Office
from hub.settings import get_settings
from schemas import v1

PDF_MAGIC = b"%PDF-"
# The root's namespace, found in the first bytes: the real reading is the hardened parser's.
_EINVOICE_NAMESPACES = (
    b"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    b"urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    b"urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    # Refused by the reader as orders or as a syntax before EN 16931, each with its own code.
    b"urn:oasis:names:specification:ubl:schema:xsd:Order",
    b"urn:un:unece:uncefact:data:SCRDMCCBDACIOMessageStructure:100",
    b"urn:ferd:CrossIndustryDocument:invoice:1p0",
)
_SNIFF_BYTES = 4096
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_REFERENCE = re.compile(r"^[A-Za-z0-9._:/-]{1,64}$")


class EInvoiceRefused(Exception):
    """The e-invoice cannot be accepted: ``errors`` lists every error found."""

    def __init__(self, errors: list[ErrorItem]) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors[: v1.MAX_ERRORS]


def is_einvoice(raw: bytes, media_type: str) -> bool:
    """A PDF, or XML whose root is in an EN 16931 (or order) namespace."""
    head = raw[:_SNIFF_BYTES]
    if media_type == "application/pdf" or head.lstrip()[:5] == PDF_MAGIC:
        return True
    return media_type == "application/xml" and any(ns in head for ns in _EINVOICE_NAMESPACES)


def syntax_of(raw: bytes) -> str:
    """``facturx_pdf``, ``ubl``, ``cii`` or ``v1``: how a stored invoice message was written."""
    head = raw[:_SNIFF_BYTES]
    if head.lstrip()[:5] == PDF_MAGIC:
        return "facturx_pdf"
    if b"CrossIndustryInvoice" in head:
        return "cii"
    if b"urn:oasis:names:specification:ubl" in head:
        return "ubl"
    return "v1"


def message_id_for(office_code: str, number: str) -> str:
    """The same office and invoice number always give the same message id (duplicates)."""
    plain = f"EINV-{office_code}-{number}"
    if _MESSAGE_ID.match(plain):
        return plain
    return f"EINV-{office_code}-{hashlib.sha256(number.encode()).hexdigest()[:40]}"


def _item(error: XmlError) -> ErrorItem:
    return ErrorItem(error.path or "/", error.code, error.message, error.line)


def seller_errors(invoice: ParsedInvoice, office: Office) -> list[ErrorItem]:
    """The seller must be the sending office: its SIRET (BT-30, scheme 0009) equals the office's
    registered SIRET, or its SIREN (BT-30 scheme 0002, or from the French VAT id BT-31) is the
    first 9 digits of it. Numbers are checked with python-stdnum."""
    path = "/seller/legal_id"
    if office.siret is None:
        return [
            ErrorItem(
                path,
                "invoice.office_siret_unregistered",
                f"office {office.code} has no SIRET registered with the agency, so its e-invoices "
                "cannot be checked; ask the agency to register it "
                f"(hub offices update {office.code} --siret)",
            )
        ]
    seller = invoice.seller
    siret, siren = seller.siret, seller.siren
    if siren is None and seller.vat_id and vat_number.is_valid(seller.vat_id):
        siren = vat_number.compact(seller.vat_id)[-9:]  # FR + 2-digit key + SIREN
    if siret is None and siren is None:
        return [
            ErrorItem(
                path,
                "invoice.seller_id_missing",
                "the seller's legal id (BT-30) must be its SIRET (scheme 0009) or SIREN (scheme 0002)",
            )
        ]
    if siret is not None and not siret_number.is_valid(siret):
        return [ErrorItem(path, "invoice.seller_id_invalid", f"{siret} is not a valid SIRET")]
    if siret is None and siren is not None and not siren_number.is_valid(siren):
        return [ErrorItem(path, "invoice.seller_id_invalid", f"{siren} is not a valid SIREN")]
    same = siret == office.siret if siret is not None else siren == office.siret[:9]
    if not same:
        return [
            ErrorItem(
                path,
                "invoice.seller_not_sender",
                f"the seller {siret or siren} is not office {office.code}, whose credential sent the "
                "invoice; an office sends only its own invoices",
            )
        ]
    return []


def to_fee_invoice(invoice: ParsedInvoice, office: Office) -> Reading:
    """The canonical form of an e-invoice sent by ``office``, amounts signed (a credit negative),
    with the errors of our rules on what only the e-invoice carries (its seller, document
    allowances and charges). Raises ``EInvoiceRefused`` listing every error of
    our rules and of the canonical form when there is no canonical form: the canonical form does not
    hold, or the office has no SIRET registered (its seller cannot be checked, nor written)."""
    errors = seller_errors(invoice, office)
    if invoice.allowances_charges:
        errors.append(
            ErrorItem(
                "/allowances_charges",
                "invoice.document_allowance_charge",
                "bill each act on a line of its own: document level allowances and charges (BG-20, "
                "BG-21) cannot be matched to acts",
            )
        )
    if office.siret is None:
        raise EInvoiceRefused(errors)
    sign = invoice.sign
    lines = [
        {
            "office_act_reference": line.office_act_reference,
            "approval_id": line.approval_id,
            "act_code": line.act_code,
            "line_id": line.line_id if _REFERENCE.match(line.line_id) else None,
            "description": line.description[:500] or line.line_id,
            "net_cents": sign * line.net_cents,
            "vat_rate_bp": line.vat_rate_bp or 0,
        }
        for line in invoice.lines
    ]
    net = sum(int(line["net_cents"] or 0) for line in lines)
    vat = sign * (invoice.totals.vat_total_cents or 0)
    data = {
        "envelope": {
            "message_id": message_id_for(office.code, invoice.number),
            "kind": "fee_invoice",
            "version": "1",
            "sender": office.code,
            "recipient": v1.AGENCY,
            "sent_at": utcnow(),
        },
        "invoice_number": invoice.number,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "seller": {"office_code": office.code, "siret": office.siret, "name": invoice.seller.name[:500]},
        "mandate_reference": invoice.mandate_reference,
        "currency": invoice.currency,
        "lines": [{k: v for k, v in line.items() if v is not None} for line in lines],
        "total_net_cents": net,
        "total_vat_cents": vat,
        "total_gross_cents": net + vat,
    }
    try:
        canonical = v1.FeeInvoice.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        raise EInvoiceRefused(
            errors + [ErrorItem(e.path, e.code, e.message) for e in v1.message_errors(exc, "fee_invoice")]
        ) from exc
    return Reading(canonical, errors)


def read_einvoice_message(raw: bytes, office: Office) -> Reading:
    """Reads an e-invoice sent by ``office`` into the canonical form, with our rules' errors;
    ``EInvoiceRefused`` lists every error when it cannot be read (the reader's, with their EN 16931
    codes; or ours with the canonical form's). The official stylesheets are compiled on the first
    e-invoice of the process; this is CPU work, run off the event loop (``handlers.is_einvoice_body``)."""
    try:
        # Offices bill quantity x tariff price: the line net is checked too (ADR 0003).
        parsed = read_einvoice(raw, line_net=True, official=official_rules(get_settings().en16931_dir))
    except EInvoiceRejected as exc:
        raise EInvoiceRefused([_item(e) for e in exc.errors]) from exc
    return to_fee_invoice(parsed, office)
