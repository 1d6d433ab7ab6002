"""Fee invoice in canonical form, office -> agency, and the agency's dispute of one.

Offices may send it as such, or as an EN 16931 e-invoice (UBL 2.1, UN/CEFACT CII, Factur-X) that the
hub reads into this form. A credit note is an invoice whose amounts are negative.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from schemas.v1.common import (
    ActCode,
    Currency,
    LongText,
    PartyCode,
    Reference,
    SignedCents,
    Siret,
    Text,
    WireModel,
    rule_error,
)
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
    act_code: ActCode | None = None
    """The tariff act code billed (``SERVE_TITLE``), or a disbursement code (``POLICE``) or
    ``DISBURSEMENT`` for a disbursement line; EN 16931 BT-155. Without it, a line at 0 % VAT is read as
    a disbursement and any other as the act's fees."""
    line_id: Reference | None = None
    """The line's identifier (EN 16931 BT-126); its position (``1``, ``2``...) when absent."""
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
    mandate_reference: Reference | None = None
    """The agency's mandate reference the invoice is for, when it is for one (EN 16931 BT-13)."""
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


class LineFinding(StrEnum):
    """Why the agency does not accept an invoice line as billed (the three-way match):

    - ``act_unknown``: no act report of this office has the line's references;
    - ``act_not_mandated``: the act was neither ordered by the mandate nor approved;
    - ``billed_twice``: the act's fees are on another line or another invoice already;
    - ``above_tariff``: the line is above the regulated tariff of the act on its date;
    - ``vat_wrong``: not the tariff's VAT rate on fees or on a flat disbursement (travel, police...),
      or VAT on a disbursement passed on at cost;
    - ``disbursement_unjustified``: disbursements above what the act report claimed;
    - ``other_office_case``: the act is not one of this office's;
    - ``agency_disputed``: the agency's finance disputes the line as billed, for the reason in the
      line's ``message`` (with the match's own findings, if any).
    """

    ACT_UNKNOWN = "act_unknown"
    ACT_NOT_MANDATED = "act_not_mandated"
    BILLED_TWICE = "billed_twice"
    ABOVE_TARIFF = "above_tariff"
    VAT_WRONG = "vat_wrong"
    DISBURSEMENT_UNJUSTIFIED = "disbursement_unjustified"
    OTHER_OFFICE_CASE = "other_office_case"
    AGENCY_DISPUTED = "agency_disputed"


class DisputedLine(WireModel):
    """One line the agency disputes, with every finding."""

    line_id: Text
    """The line's identifier as invoiced (BT-126), or its position."""
    codes: list[LineFinding] = Field(min_length=1, max_length=10)
    message: Text
    """The findings in words, e.g. ``billed 30.00 above the tariff of 25.79 on 2026-03-02``."""


class InvoiceDispute(MessageModel):
    """Agency -> office: the agency disputes a fee invoice and will not pay it as it stands; send a
    credit note or a corrected invoice for the lines listed."""

    KIND = "invoice_dispute"

    invoice_number: Text
    """The office's invoice number (BT-1), as sent."""
    invoice_id: Reference
    """The hub's id of the invoice (``GET /v1/invoices/{id}``)."""
    lines: list[DisputedLine] = Field(default_factory=list, max_length=1000)
    """Every disputed line; empty when the whole invoice is disputed for the reason in ``comment``."""
    comment: LongText
    """Why, in the agency's words."""
