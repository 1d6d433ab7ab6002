# ruff: noqa: E501  (XML templates read best one element per line)
"""Bailiff fee invoices written for the tests from EN 16931 (UBL 2.1 and CII, after the hand-written
fixtures of tests/adapters/einvoice/fixtures): each line bills one act, named by its BT-128 office
act reference, BT-132 approval id and BT-155 act code; totals and VAT per rate add up."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape

import facturx
import pypdf

SIRET = "83214765600025"  # the fixtures' seller (valid Luhn)
OTHER_SIRET = "73282932000074"


@dataclass(frozen=True)
class Line:
    net_cents: int
    vat_bp: int = 2000
    ref: str | None = None  # BT-128
    approval: str | None = None  # BT-132
    act_code: str | None = "SERVE_TITLE"  # BT-155
    name: str = "Signification d'un titre exécutoire"


def vat_id(siret: str) -> str:
    """The French VAT id of the office with ``siret``: FR, the 2-digit key, the SIREN (BT-31; the
    standard wants it with any VAT category but O, BR-S-02 ...)."""
    siren = siret[:9]
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


def _amount(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _quantity(line: Line) -> str:
    """A negative line (an invoice that gives money back) is a quantity of -1 at the act's price:
    EN 16931 forbids a negative price (BR-27)."""
    return "-1" if line.net_cents < 0 else "1"


def _pct(bp: int) -> str:
    return f"{bp // 100}.{bp % 100:02d}"


def _category(bp: int) -> str:
    return "S" if bp else "E"


def _breakdown(lines: list[Line]) -> list[tuple[int, int, int]]:
    """(rate bp, basis cents, VAT cents) per rate, VAT rounded half up as BR-CO-17."""
    basis: dict[int, int] = defaultdict(int)
    for line in lines:
        basis[line.vat_bp] += line.net_cents
    return [
        (bp, b, int((Decimal(b) * bp / 10000).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
        for bp, b in sorted(basis.items())
    ]


def totals(lines: list[Line]) -> tuple[int, int]:
    net = sum(line.net_cents for line in lines)
    return net, sum(vat for _, _, vat in _breakdown(lines))


def ubl(
    number: str,
    lines: list[Line],
    *,
    siret: str = SIRET,
    credit: bool = False,
    mandate: str = "MDT-1",
    currency: str = "EUR",
) -> bytes:
    root = "CreditNote" if credit else "Invoice"
    line_el = "CreditNoteLine" if credit else "InvoiceLine"
    qty_el = "CreditedQuantity" if credit else "InvoicedQuantity"
    type_el = (
        "<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"
        if credit
        else ("<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>")
    )
    net, vat = totals(lines)
    subtotals = "".join(
        f"""<cac:TaxSubtotal><cbc:TaxableAmount currencyID="{currency}">{_amount(b)}</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="{currency}">{_amount(v)}</cbc:TaxAmount>
      <cac:TaxCategory><cbc:ID>{_category(bp)}</cbc:ID><cbc:Percent>{_pct(bp)}</cbc:Percent>
      {"" if bp else "<cbc:TaxExemptionReason>Débours</cbc:TaxExemptionReason>"}
      <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>"""
        for bp, b, v in _breakdown(lines)
    )
    body = "".join(
        f"""<cac:{line_el}><cbc:ID>{n}</cbc:ID>
    <cbc:{qty_el} unitCode="C62">{_quantity(line)}</cbc:{qty_el}>
    <cbc:LineExtensionAmount currencyID="{currency}">{_amount(line.net_cents)}</cbc:LineExtensionAmount>
    {f"<cac:OrderLineReference><cbc:LineID>{line.approval}</cbc:LineID></cac:OrderLineReference>" if line.approval else ""}
    {f"<cac:DocumentReference><cbc:ID>{line.ref}</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:DocumentReference>" if line.ref else ""}
    <cac:Item><cbc:Name>{escape(line.name)}</cbc:Name>
      {f"<cac:SellersItemIdentification><cbc:ID>{line.act_code}</cbc:ID></cac:SellersItemIdentification>" if line.act_code else ""}
      <cac:ClassifiedTaxCategory><cbc:ID>{_category(line.vat_bp)}</cbc:ID><cbc:Percent>{_pct(line.vat_bp)}</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="{currency}">{_amount(abs(line.net_cents))}</cbc:PriceAmount></cac:Price>
  </cac:{line_el}>"""
        for n, line in enumerate(lines, start=1)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>2026-03-02</cbc:IssueDate>
  {type_el}
  <cbc:DocumentCurrencyCode>{currency}</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>AGENCE-RECOUVREMENT</cbc:BuyerReference>
  <cac:OrderReference><cbc:ID>{mandate}</cbc:ID></cac:OrderReference>
  <cac:AccountingSupplierParty><cac:Party>
    <cac:PostalAddress><cbc:CityName>Paris</cbc:CityName><cbc:PostalZone>75002</cbc:PostalZone>
      <cac:Country><cbc:IdentificationCode>FR</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyTaxScheme><cbc:CompanyID>{vat_id(siret)}</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
    <cac:PartyLegalEntity><cbc:RegistrationName>SCP Martin &amp; Associés</cbc:RegistrationName>
      <cbc:CompanyID schemeID="0009">{siret}</cbc:CompanyID></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party>
    <cac:PostalAddress><cbc:CityName>Lyon</cbc:CityName><cbc:PostalZone>69003</cbc:PostalZone>
      <cac:Country><cbc:IdentificationCode>FR</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyLegalEntity><cbc:RegistrationName>Agence de Recouvrement Exemple SAS</cbc:RegistrationName>
    </cac:PartyLegalEntity>
  </cac:Party></cac:AccountingCustomerParty>
  <cac:TaxTotal><cbc:TaxAmount currencyID="{currency}">{_amount(vat)}</cbc:TaxAmount>{subtotals}</cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="{currency}">{_amount(net)}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="{currency}">{_amount(net)}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="{currency}">{_amount(net + vat)}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="{currency}">{_amount(net + vat)}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  {body}
</{root}>
""".encode()


def cii(
    number: str, lines: list[Line], *, siret: str = SIRET, type_code: str = "380", currency: str = "EUR"
) -> bytes:
    net, vat = totals(lines)
    items = "".join(
        f"""<ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>{n}</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct>
        {f"<ram:SellerAssignedID>{line.act_code}</ram:SellerAssignedID>" if line.act_code else ""}
        <ram:Name>{escape(line.name)}</ram:Name></ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement>
        {f"<ram:BuyerOrderReferencedDocument><ram:LineID>{line.approval}</ram:LineID></ram:BuyerOrderReferencedDocument>" if line.approval else ""}
        <ram:NetPriceProductTradePrice><ram:ChargeAmount>{_amount(abs(line.net_cents))}</ram:ChargeAmount></ram:NetPriceProductTradePrice>
      </ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">{_quantity(line)}</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement>
        <ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>{_category(line.vat_bp)}</ram:CategoryCode>
          <ram:RateApplicablePercent>{_pct(line.vat_bp)}</ram:RateApplicablePercent></ram:ApplicableTradeTax>
        <ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>{_amount(line.net_cents)}</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation>
        {f"<ram:AdditionalReferencedDocument><ram:IssuerAssignedID>{line.ref}</ram:IssuerAssignedID><ram:TypeCode>130</ram:TypeCode></ram:AdditionalReferencedDocument>" if line.ref else ""}
      </ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>"""
        for n, line in enumerate(lines, start=1)
    )
    taxes = "".join(
        f"""<ram:ApplicableTradeTax><ram:CalculatedAmount>{_amount(v)}</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode>
        {"" if bp else "<ram:ExemptionReason>Débours</ram:ExemptionReason>"}
        <ram:BasisAmount>{_amount(b)}</ram:BasisAmount><ram:CategoryCode>{_category(bp)}</ram:CategoryCode>
        <ram:RateApplicablePercent>{_pct(bp)}</ram:RateApplicablePercent></ram:ApplicableTradeTax>"""
        for bp, b, v in _breakdown(lines)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
    xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
    xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
  <rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>
    <ram:ID>urn:cen.eu:en16931:2017</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument><ram:ID>{number}</ram:ID><ram:TypeCode>{type_code}</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">20260315</udt:DateTimeString></ram:IssueDateTime></rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>
    {items}
    <ram:ApplicableHeaderTradeAgreement>
      <ram:BuyerReference>AGENCE-RECOUVREMENT</ram:BuyerReference>
      <ram:SellerTradeParty><ram:Name>SELARL Durand</ram:Name>
        <ram:SpecifiedLegalOrganization><ram:ID schemeID="0009">{siret}</ram:ID></ram:SpecifiedLegalOrganization>
        <ram:PostalTradeAddress><ram:PostcodeCode>69003</ram:PostcodeCode><ram:CityName>Lyon</ram:CityName><ram:CountryID>FR</ram:CountryID></ram:PostalTradeAddress>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">{vat_id(siret)}</ram:ID></ram:SpecifiedTaxRegistration>
      </ram:SellerTradeParty>
      <ram:BuyerTradeParty><ram:Name>Agence de Recouvrement Exemple SAS</ram:Name>
        <ram:PostalTradeAddress><ram:PostcodeCode>69003</ram:PostcodeCode><ram:CityName>Lyon</ram:CityName><ram:CountryID>FR</ram:CountryID></ram:PostalTradeAddress>
      </ram:BuyerTradeParty>
    </ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery/>
    <ram:ApplicableHeaderTradeSettlement>
      <ram:InvoiceCurrencyCode>{currency}</ram:InvoiceCurrencyCode>
      {taxes}
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:LineTotalAmount>{_amount(net)}</ram:LineTotalAmount>
        <ram:TaxBasisTotalAmount>{_amount(net)}</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="{currency}">{_amount(vat)}</ram:TaxTotalAmount>
        <ram:GrandTotalAmount>{_amount(net + vat)}</ram:GrandTotalAmount>
        <ram:DuePayableAmount>{_amount(net + vat)}</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
""".encode()


def facturx_pdf(xml: bytes) -> bytes:
    """A one-page Factur-X PDF carrying ``xml``, built by the factur-x library."""
    blank = io.BytesIO()
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.write(blank)
    pdf: bytes = facturx.generate_from_binary(blank.getvalue(), xml, check_xsd=False)
    return pdf
