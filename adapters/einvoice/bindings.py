"""Where each EN 16931 business term sits in UBL 2.1 and in UN/CEFACT CII D16B (EN 16931-3-2, -3-3).

One ``Binding`` per syntax: XPath expressions relative to the root, a party, a line, an allowance or
charge, a VAT breakdown or the totals element. ``extract.read_invoice`` reads any of them the same way.
Alternatives are tried in order (``("cac:PartyLegalEntity/cbc:RegistrationName", "cac:PartyName/cbc:Name")``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
UBL_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
UBL_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CII_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
CII_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
CII_UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
ORDER_X_RSM = "urn:un:unece:uncefact:data:SCRDMCCBDACIOMessageStructure:100"
ZUGFERD1_RSM = "urn:ferd:CrossIndustryDocument:invoice:1p0"

Paths = tuple[str, ...]


@dataclass(frozen=True)
class PartyBinding:
    name: Paths
    legal_id: str
    vat_id: str


@dataclass(frozen=True)
class LineBinding:
    line_id: str
    quantity: str
    net: str
    item_name: str
    net_price: str
    price_base_quantity: str
    vat_category: str
    vat_rate: str
    act_reference: str
    approval_id: str
    act_code: str
    allowances_charges: str


@dataclass(frozen=True)
class AllowanceChargeBinding:
    indicator: str
    amount: str
    base: str
    percent: str
    reason: str
    reason_code: str
    vat_category: str
    vat_rate: str


@dataclass(frozen=True)
class VatBinding:
    breakdowns: str
    basis: str
    amount: str
    category: str
    rate: str
    exemption_reason: str


@dataclass(frozen=True)
class Binding:
    namespaces: dict[str, str]
    date_format: Literal["iso", "102"]
    number: str
    issue_date: str
    type_code: str
    currency: str
    due_date: Paths
    mandate_reference: str
    buyer_reference: str
    specification: str
    seller: str
    buyer: str
    party: PartyBinding
    lines: str
    line: LineBinding
    allowances_charges: str
    allowance_charge: AllowanceChargeBinding
    vat: VatBinding
    vat_total: str
    """BT-110 candidates: the one in the invoice currency is taken (another may be BT-111)."""
    totals: str
    total_fields: dict[str, str]
    """Totals field name -> path under ``totals``."""


def _ubl(line_tag: str, quantity_tag: str, type_tag: str, due_date: Paths) -> Binding:
    return Binding(
        namespaces={"cac": UBL_CAC, "cbc": UBL_CBC},
        date_format="iso",
        number="cbc:ID",
        issue_date="cbc:IssueDate",
        type_code=type_tag,
        currency="cbc:DocumentCurrencyCode",
        due_date=due_date,
        mandate_reference="cac:OrderReference/cbc:ID",
        buyer_reference="cbc:BuyerReference",
        specification="cbc:CustomizationID",
        seller="cac:AccountingSupplierParty/cac:Party",
        buyer="cac:AccountingCustomerParty/cac:Party",
        party=PartyBinding(
            name=("cac:PartyLegalEntity/cbc:RegistrationName", "cac:PartyName/cbc:Name"),
            legal_id="cac:PartyLegalEntity/cbc:CompanyID",
            vat_id="cac:PartyTaxScheme[normalize-space(cac:TaxScheme/cbc:ID)='VAT']/cbc:CompanyID",
        ),
        lines=line_tag,
        line=LineBinding(
            line_id="cbc:ID",
            quantity=quantity_tag,
            net="cbc:LineExtensionAmount",
            item_name="cac:Item/cbc:Name",
            net_price="cac:Price/cbc:PriceAmount",
            price_base_quantity="cac:Price/cbc:BaseQuantity",
            vat_category="cac:Item/cac:ClassifiedTaxCategory/cbc:ID",
            vat_rate="cac:Item/cac:ClassifiedTaxCategory/cbc:Percent",
            act_reference=(
                "cac:DocumentReference[not(cbc:DocumentTypeCode) or "
                "normalize-space(cbc:DocumentTypeCode)='130']/cbc:ID"
            ),
            approval_id="cac:OrderLineReference/cbc:LineID",
            act_code="cac:Item/cac:SellersItemIdentification/cbc:ID",
            allowances_charges="cac:AllowanceCharge",
        ),
        allowances_charges="cac:AllowanceCharge",
        allowance_charge=AllowanceChargeBinding(
            indicator="cbc:ChargeIndicator",
            amount="cbc:Amount",
            base="cbc:BaseAmount",
            percent="cbc:MultiplierFactorNumeric",
            reason="cbc:AllowanceChargeReason",
            reason_code="cbc:AllowanceChargeReasonCode",
            vat_category="cac:TaxCategory/cbc:ID",
            vat_rate="cac:TaxCategory/cbc:Percent",
        ),
        vat=VatBinding(
            breakdowns="cac:TaxTotal/cac:TaxSubtotal",
            basis="cbc:TaxableAmount",
            amount="cbc:TaxAmount",
            category="cac:TaxCategory/cbc:ID",
            rate="cac:TaxCategory/cbc:Percent",
            exemption_reason="cac:TaxCategory/cbc:TaxExemptionReason",
        ),
        vat_total="cac:TaxTotal/cbc:TaxAmount",
        totals="cac:LegalMonetaryTotal",
        total_fields={
            "line_net_total_cents": "cbc:LineExtensionAmount",
            "allowance_total_cents": "cbc:AllowanceTotalAmount",
            "charge_total_cents": "cbc:ChargeTotalAmount",
            "total_excl_vat_cents": "cbc:TaxExclusiveAmount",
            "total_incl_vat_cents": "cbc:TaxInclusiveAmount",
            "paid_cents": "cbc:PrepaidAmount",
            "rounding_cents": "cbc:PayableRoundingAmount",
            "due_cents": "cbc:PayableAmount",
        },
    )


UBL_INVOICE = _ubl("cac:InvoiceLine", "cbc:InvoicedQuantity", "cbc:InvoiceTypeCode", ("cbc:DueDate",))
UBL_CREDIT_NOTE = _ubl(
    "cac:CreditNoteLine",
    "cbc:CreditedQuantity",
    "cbc:CreditNoteTypeCode",
    # UBL 2.1 CreditNote has no cbc:DueDate: EN 16931 binds BT-9 to the payment means' due date.
    ("cac:PaymentMeans/cbc:PaymentDueDate",),
)

_AGREEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
_SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"

CII = Binding(
    namespaces={"rsm": CII_RSM, "ram": CII_RAM, "udt": CII_UDT},
    date_format="102",
    number="rsm:ExchangedDocument/ram:ID",
    issue_date="rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString",
    type_code="rsm:ExchangedDocument/ram:TypeCode",
    currency=f"{_SETTLEMENT}/ram:InvoiceCurrencyCode",
    due_date=(f"{_SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString",),
    mandate_reference=f"{_AGREEMENT}/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID",
    buyer_reference=f"{_AGREEMENT}/ram:BuyerReference",
    specification="rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID",
    seller=f"{_AGREEMENT}/ram:SellerTradeParty",
    buyer=f"{_AGREEMENT}/ram:BuyerTradeParty",
    party=PartyBinding(
        name=("ram:Name",),
        legal_id="ram:SpecifiedLegalOrganization/ram:ID",
        vat_id="ram:SpecifiedTaxRegistration/ram:ID[normalize-space(@schemeID)='VA']",
    ),
    lines="rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem",
    line=LineBinding(
        line_id="ram:AssociatedDocumentLineDocument/ram:LineID",
        quantity="ram:SpecifiedLineTradeDelivery/ram:BilledQuantity",
        net="ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
        item_name="ram:SpecifiedTradeProduct/ram:Name",
        net_price="ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount",
        price_base_quantity="ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:BasisQuantity",
        vat_category="ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode",
        vat_rate="ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent",
        act_reference=(
            "ram:SpecifiedLineTradeSettlement/ram:AdditionalReferencedDocument"
            "[not(ram:TypeCode) or normalize-space(ram:TypeCode)='130']/ram:IssuerAssignedID"
        ),
        approval_id="ram:SpecifiedLineTradeAgreement/ram:BuyerOrderReferencedDocument/ram:LineID",
        act_code="ram:SpecifiedTradeProduct/ram:SellerAssignedID",
        allowances_charges="ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeAllowanceCharge",
    ),
    allowances_charges=f"{_SETTLEMENT}/ram:SpecifiedTradeAllowanceCharge",
    allowance_charge=AllowanceChargeBinding(
        indicator="ram:ChargeIndicator/udt:Indicator",
        amount="ram:ActualAmount",
        base="ram:BasisAmount",
        percent="ram:CalculationPercent",
        reason="ram:Reason",
        reason_code="ram:ReasonCode",
        vat_category="ram:CategoryTradeTax/ram:CategoryCode",
        vat_rate="ram:CategoryTradeTax/ram:RateApplicablePercent",
    ),
    vat=VatBinding(
        breakdowns=f"{_SETTLEMENT}/ram:ApplicableTradeTax",
        basis="ram:BasisAmount",
        amount="ram:CalculatedAmount",
        category="ram:CategoryCode",
        rate="ram:RateApplicablePercent",
        exemption_reason="ram:ExemptionReason",
    ),
    vat_total=f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxTotalAmount",
    totals=f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation",
    total_fields={
        "line_net_total_cents": "ram:LineTotalAmount",
        "allowance_total_cents": "ram:AllowanceTotalAmount",
        "charge_total_cents": "ram:ChargeTotalAmount",
        "total_excl_vat_cents": "ram:TaxBasisTotalAmount",
        "total_incl_vat_cents": "ram:GrandTotalAmount",
        "paid_cents": "ram:TotalPrepaidAmount",
        "rounding_cents": "ram:RoundingAmount",
        "due_cents": "ram:DuePayableAmount",
    },
)
