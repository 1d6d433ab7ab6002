"""Act report ("compte-rendu d'acte"), office -> agency: what an act achieved and what it costs."""

from __future__ import annotations

from datetime import date
from typing import Self

from pydantic import model_validator

from schemas.v1.common import ActCode, Cents, Currency, Reference, Text, WireModel, rule_error
from schemas.v1.envelope import MessageModel
from schemas.v1.outcomes import OutcomeCode


class FeesClaimed(WireModel):
    """The fees the office bills for this act, in cents."""

    emoluments_cents: Cents
    """Émoluments under the regulated tariff, excl. VAT."""
    disbursements_cents: Cents = 0
    """Débours (travel, locksmith, witnesses...), passed through."""
    vat_cents: Cents = 0
    """VAT on the emoluments (and on disbursements subject to VAT)."""

    @property
    def total_cents(self) -> int:
        return self.emoluments_cents + self.disbursements_cents + self.vat_cents


class ActReport(MessageModel):
    """Office -> agency: one act performed under a mandate, its outcome, amounts and fees."""

    KIND = "act_report"

    mandate_ref: Reference
    """The mandate this act was performed under."""
    act_code: ActCode
    act_date: date
    """Date the act was performed (date of the procès-verbal)."""
    outcome_code: OutcomeCode
    office_reference: Reference
    """The office's own reference of the act (numéro d'acte), quoted on its invoice."""
    currency: Currency = "EUR"
    seized_cents: Cents = 0
    """Amount seized (e.g. caught by a garnishment), not yet paid over."""
    collected_cents: Cents = 0
    """Amount actually collected from the debtor by the office."""
    fees: FeesClaimed
    approval_id: Reference | None = None
    """The agency's approval of this act's cost, when one was asked for (cost decision)."""
    comment: Text | None = None
    """Free remarks; required when the outcome is ``refused_other``."""

    @model_validator(mode="after")
    def _comment_when_other(self) -> Self:
        if self.outcome_code is OutcomeCode.REFUSED_OTHER and self.comment is None:
            raise rule_error(
                "act_report.comment_required",
                "outcome 'refused_other' needs a comment saying why",
                at="comment",
            )
        return self
