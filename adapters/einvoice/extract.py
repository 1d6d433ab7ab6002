"""A schema-valid UBL or CII tree into a ``ParsedInvoice``, through its ``Binding``.

Every field error is collected (missing required terms as their EN 16931 rule, ``BR-02`` ...;
amounts with more than 2 decimals as ``BR-DEC-xx``; unreadable numbers, dates and rates); the invoice
is returned only when there is none.
"""

from __future__ import annotations

from datetime import date

from lxml import etree

from adapters.einvoice.bindings import Binding
from adapters.einvoice.codes import (
    DECIMALS_RULE,
    TOTALS,
    allowance_charge_terms,
    amount_label,
    kind_of_type_code,
)
from adapters.einvoice.fields import FieldReader, source_of
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
from adapters.xml.hardened import XmlError


def read_invoice(
    root: etree._Element, binding: Binding, *, syntax: Syntax, credit_note_root: bool = False
) -> tuple[ParsedInvoice | None, list[XmlError]]:
    """The invoice, or None and every field error found."""
    reader = _Reader(root, binding)
    invoice = reader.invoice(syntax, credit_note_root=credit_note_root)
    return (None if reader.r.errors else invoice), reader.r.errors


class _Reader:
    def __init__(self, root: etree._Element, binding: Binding) -> None:
        self.root = root
        self.b = binding
        self.r = FieldReader(binding.namespaces)

    def invoice(self, syntax: Syntax, *, credit_note_root: bool) -> ParsedInvoice | None:
        r, b, root = self.r, self.b, self.root
        number = r.text(root, b.number, required=("BR-02", "an invoice shall have an invoice number (BT-1)"))
        issue_date = self._date(root, (b.issue_date,), "the issue date (BT-2)", required="BR-03")
        type_code = r.text(root, b.type_code, required=("BR-04", "an invoice shall have a type code (BT-3)"))
        kind = DocumentKind.CREDIT_NOTE if credit_note_root else DocumentKind.INVOICE
        if type_code is not None:
            coded = kind_of_type_code(type_code)
            if coded is None:
                r.error(
                    "BR-CL-01",
                    f"the type code (BT-3) {type_code} is not an invoice or credit note code of UNTDID 1001: "
                    "use 380 for an invoice, 381 for a credit note",
                    at=r.first(root, b.type_code),
                )
            elif coded is DocumentKind.CREDIT_NOTE:
                kind = DocumentKind.CREDIT_NOTE
        currency = r.text(
            root, b.currency, required=("BR-05", "an invoice shall have a currency code (BT-5)")
        )
        due_date = self._date(root, b.due_date, "the due date (BT-9)")
        seller = self._party(b.seller, "seller", "BR-06", "BT-27")
        buyer = self._party(b.buyer, "buyer", "BR-07", "BT-44")
        line_elements = r.all(root, b.lines)
        if not line_elements:
            r.error("BR-16", "an invoice shall have at least one invoice line (BG-25)", at=root)
        lines = [self._line(e) for e in line_elements]
        allowances = [
            self._allowance_charge(e, document_level=True) for e in r.all(root, b.allowances_charges)
        ]
        breakdown = [self._breakdown(e) for e in r.all(root, b.vat.breakdowns)]
        if not breakdown:
            r.error("BR-CO-18", "an invoice shall have at least one VAT breakdown (BG-23)", at=root)
        totals = self._totals(currency)
        if (
            r.errors
            or number is None
            or issue_date is None
            or type_code is None
            or currency is None
            or seller is None
            or buyer is None
            or totals is None
        ):
            return None
        return ParsedInvoice(
            kind=kind,
            syntax=syntax,
            number=number,
            issue_date=issue_date,
            type_code=type_code,
            currency=currency,
            seller=seller,
            buyer=buyer,
            lines=tuple(line for line in lines if line is not None),
            vat_breakdown=tuple(v for v in breakdown if v is not None),
            totals=totals,
            allowances_charges=tuple(a for a in allowances if a is not None),
            due_date=due_date,
            mandate_reference=r.text(root, b.mandate_reference),
            buyer_reference=r.text(root, b.buyer_reference),
            specification=r.text(root, b.specification),
        )

    # --- parts --------------------------------------------------------------------------------

    def _date(
        self, context: etree._Element, paths: tuple[str, ...], what: str, *, required: str | None = None
    ) -> date | None:
        for path in paths:
            element = self.r.first(context, path)
            if element is not None:
                if self.b.date_format == "iso":
                    return self.r.iso_date(element, what)
                return self.r.date_102(element, what)
        if required is not None:
            self.r.error(required, f"{what} is required", at=context, missing=paths[0])
        return None

    def _party(self, path: str, role: str, name_rule: str, name_bt: str) -> Party | None:
        r, p = self.r, self.b.party
        party = r.first(self.root, path)
        if party is None:
            r.error(
                name_rule,
                f"the {role} (and its name, {name_bt}) is required",
                at=self.root,
                missing=path,
            )
            return None
        name = next((n for n in (r.text(party, x) for x in p.name) if n is not None), None)
        if name is None:
            r.error(name_rule, f"the {role} name ({name_bt}) is required", at=party, missing=p.name[0])
            return None
        legal_element = r.first(party, p.legal_id)
        legal_id = None
        if legal_element is not None and (legal_element.text or "").strip():
            scheme = (legal_element.get("schemeID") or "").strip() or None
            legal_id = LegalId(value=(legal_element.text or "").strip(), scheme=scheme)
        return Party(name=name, legal_id=legal_id, vat_id=r.text(party, p.vat_id))

    def _line(self, element: etree._Element) -> InvoiceLine | None:
        r, lb = self.r, self.b.line
        sources: dict[str, Source] = {"line": source_of(element)}
        line_id = r.text(
            element, lb.line_id, required=("BR-21", "each invoice line shall have an identifier (BT-126)")
        )
        quantity_element = r.first(element, lb.quantity)
        quantity = None
        if quantity_element is None:
            r.error(
                "BR-22",
                "each invoice line shall have an invoiced quantity (BT-129)",
                at=element,
                missing=lb.quantity,
            )
        else:
            quantity = r.decimal(quantity_element, "the invoiced quantity (BT-129)")
            sources["quantity"] = source_of(quantity_element)
        net_cents = self._amount(element, lb.net, "BT-131", sources, "net_cents", required="BR-24")
        description = r.text(
            element, lb.item_name, required=("BR-25", "each invoice line shall have an item name (BT-153)")
        )
        price_element = r.first(element, lb.net_price)
        net_price = None
        if price_element is None:
            r.error(
                "BR-26",
                "each invoice line shall have an item net price (BT-146)",
                at=element,
                missing=lb.net_price,
            )
        else:
            net_price = r.decimal(price_element, "the item net price (BT-146)")
            sources["net_price"] = source_of(price_element)
        base_element = r.first(element, lb.price_base_quantity)
        base = (
            r.decimal(base_element, "the item price base quantity (BT-149)")
            if base_element is not None
            else None
        )
        rate_element = r.first(element, lb.vat_rate)
        rate = (
            r.rate_bp(rate_element, "the invoiced item VAT rate (BT-152)")
            if rate_element is not None
            else None
        )
        allowances = [
            self._allowance_charge(e, document_level=False) for e in r.all(element, lb.allowances_charges)
        ]
        if line_id is None or quantity is None or net_cents is None or description is None:
            return None
        return InvoiceLine(
            line_id=line_id,
            description=description,
            quantity=quantity,
            unit_code=(quantity_element.get("unitCode") or None) if quantity_element is not None else None,
            net_cents=net_cents,
            net_price=net_price,
            price_base_quantity=base,
            allowances_charges=tuple(a for a in allowances if a is not None),
            vat_category=r.text(element, lb.vat_category),
            vat_rate_bp=rate,
            office_act_reference=r.text(element, lb.act_reference),
            approval_id=r.text(element, lb.approval_id),
            act_code=r.text(element, lb.act_code),
            sources=sources,
        )

    def _allowance_charge(self, element: etree._Element, *, document_level: bool) -> AllowanceCharge | None:
        r, ab = self.r, self.b.allowance_charge
        indicator = r.text(element, ab.indicator)
        if indicator not in _BOOLEAN:
            r.error(
                "einvoice.invalid_indicator",
                f"the charge indicator must be true (charge) or false (allowance); found {indicator!r}",
                at=element,
                missing=ab.indicator,
            )
            return None
        is_charge = _BOOLEAN[indicator]
        amount_bt, base_bt = allowance_charge_terms(document_level=document_level, is_charge=is_charge)
        sources: dict[str, Source] = {"allowance_charge": source_of(element)}
        amount = self._amount(
            element, ab.amount, amount_bt, sources, "amount_cents", required=_AMOUNT_RULE[amount_bt]
        )
        base = self._amount(element, ab.base, base_bt, sources, "base_cents")
        percent_element = r.first(element, ab.percent)
        percent = r.decimal(percent_element, "the percentage") if percent_element is not None else None
        rate_element = r.first(element, ab.vat_rate)
        rate = r.rate_bp(rate_element, "the VAT rate") if rate_element is not None else None
        if amount is None:
            return None
        return AllowanceCharge(
            is_charge=is_charge,
            amount_cents=amount,
            base_cents=base,
            percent=percent,
            reason=r.text(element, ab.reason),
            reason_code=r.text(element, ab.reason_code),
            vat_category=r.text(element, ab.vat_category),
            vat_rate_bp=rate,
            sources=sources,
        )

    def _breakdown(self, element: etree._Element) -> VatBreakdown | None:
        r, vb = self.r, self.b.vat
        sources: dict[str, Source] = {"breakdown": source_of(element)}
        basis = self._amount(element, vb.basis, "BT-116", sources, "basis_cents", required="BR-45")
        vat = self._amount(element, vb.amount, "BT-117", sources, "vat_cents", required="BR-46")
        category = r.text(
            element, vb.category, required=("BR-47", "each VAT breakdown shall have a category (BT-118)")
        )
        rate_element = r.first(element, vb.rate)
        rate = r.rate_bp(rate_element, "the VAT category rate (BT-119)") if rate_element is not None else None
        if basis is None or vat is None or category is None:
            return None
        return VatBreakdown(
            category=category,
            rate_bp=rate,
            basis_cents=basis,
            vat_cents=vat,
            exemption_reason=r.text(element, vb.exemption_reason),
            sources=sources,
        )

    def _totals(self, currency: str | None) -> Totals | None:
        r, b = self.r, self.b
        container = r.first(self.root, b.totals)
        if container is None:
            r.error("BR-12", "the document totals (BG-22) are required", at=self.root, missing=b.totals)
            return None
        values: dict[str, int | None] = {}
        sources: dict[str, Source] = {}
        for name, bt, required in TOTALS:
            values[name] = self._amount(container, b.total_fields[name], bt, sources, name, required=required)
        vat_total = None
        for element in r.all(self.root, b.vat_total):
            if element.get("currencyID") in (None, currency):
                vat_total = r.cents(element, amount_label("BT-110"), DECIMALS_RULE["BT-110"])
                sources["vat_total_cents"] = source_of(element)
                break
        line_net, excl, incl, due = (
            values["line_net_total_cents"],
            values["total_excl_vat_cents"],
            values["total_incl_vat_cents"],
            values["due_cents"],
        )
        if line_net is None or excl is None or incl is None or due is None:
            return None
        return Totals(
            line_net_total_cents=line_net,
            total_excl_vat_cents=excl,
            total_incl_vat_cents=incl,
            due_cents=due,
            allowance_total_cents=values["allowance_total_cents"],
            charge_total_cents=values["charge_total_cents"],
            vat_total_cents=vat_total,
            paid_cents=values["paid_cents"],
            rounding_cents=values["rounding_cents"],
            sources=sources,
        )

    def _amount(
        self,
        context: etree._Element,
        path: str,
        bt: str,
        sources: dict[str, Source],
        name: str,
        *,
        required: str | None = None,
    ) -> int | None:
        """An amount in cents, its source noted as ``name``; ``required``: the rule when it is missing."""
        element = self.r.first(context, path)
        if element is None:
            if required is not None:
                self.r.error(required, f"{amount_label(bt)} is required", at=context, missing=path)
            return None
        sources[name] = source_of(element)
        return self.r.cents(element, amount_label(bt), DECIMALS_RULE[bt])


_BOOLEAN = {"true": True, "1": True, "false": False, "0": False}  # xs:boolean
_AMOUNT_RULE = {"BT-92": "BR-31", "BT-99": "BR-36", "BT-136": "BR-41", "BT-141": "BR-43"}
