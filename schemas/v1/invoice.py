"""Fee invoice in canonical form, office -> agency.

Offices may send it as such, or as an EN 16931 e-invoice (UBL 2.1, UN/CEFACT CII, Factur-X) that the
hub reads into this form. A credit note is an invoice whose amounts are negative.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from schemas.v1.common import Currency, PartyCode, Reference, SignedCents, Siret, Text, WireModel, rule_error
from schemas.v1.envelope import MessageModel

InvoiceNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._/-]{1,40}$")]
VatRateBasisPoints = Annotated[int, Field(ge=0, le=10000)]
"""A VAT rate in hundredths of a percent: 2000 = 20 %, 550 = 5.5 %, 0 = outside the VAT base."""


class Seller(WireModel):
    """The office that issues the invoice."""

    office_code: PartyCode
    siret: Siret
    name: Text
    """E.g. ``SCP Martin & Associés, Commissaires de justice``."""


class InvoiceLine(WireModel):
    """One billed item; it names the act it bills by at least one reference."""

    office_act_reference: Reference | None = None
    """The office's reference of the act, as in its act report."""
    hub_act_id: Reference | None = None
    """The hub's id of the act report."""
    approval_id: Reference | None = None
    """The agency's approval id, for an act that needed one."""
    description: Text
    net_cents: SignedCents
    """Line amount excl. VAT (negative on a credit note)."""
    vat_rate_bp: VatRateBasisPoints
    """VAT rate in basis points: 2000 = 20 %."""

    @model_validator(mode="after")
    def _refers_to_an_act(self) -> Self:
        if self.office_act_reference is None and self.hub_act_id is None and self.approval_id is None:
            raise rule_error(
                "invoice.line_unreferenced",
                "a line must give office_act_reference, hub_act_id or approval_id",
                at="office_act_reference",
            )
        return self


class FeeInvoice(MessageModel):
    """Office -> agency: an invoice for acts performed, in cents."""

    KIND = "fee_invoice"

    invoice_number: InvoiceNumber
    issue_date: date
    due_date: date | None = None
    seller: Seller
    currency: Currency = "EUR"
    lines: list[InvoiceLine] = Field(min_length=1, max_length=1000)
    total_net_cents: SignedCents
    """Total excl. VAT: the sum of the lines' ``net_cents``."""
    total_vat_cents: SignedCents
    """Total VAT (computed per rate as in EN 16931)."""
    total_gross_cents: SignedCents
    """Total incl. VAT: ``total_net_cents + total_vat_cents``."""

    @model_validator(mode="after")
    def _totals_add_up(self) -> Self:
        lines_net = sum(line.net_cents for line in self.lines)
        if self.total_net_cents != lines_net:
            raise rule_error(
                "invoice.total_net_mismatch",
                "total_net_cents is {total} but the lines add up to {lines}",
                at="total_net_cents",
                total=self.total_net_cents,
                lines=lines_net,
            )
        if self.total_gross_cents != self.total_net_cents + self.total_vat_cents:
            raise rule_error(
                "invoice.total_gross_mismatch",
                "total_gross_cents must equal total_net_cents + total_vat_cents",
                at="total_gross_cents",
            )
        if self.due_date is not None and self.due_date < self.issue_date:
            raise rule_error(
                "invoice.due_before_issue", "due_date cannot be before issue_date", at="due_date"
            )
        return self
