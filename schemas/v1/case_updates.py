"""Case updates: what the agency learned about a case after its mandates were issued.

- Case update (agency -> office): a payment the agency received, a new address, a dispute opened or
  closed, a payment plan agreed or broken, the debtor's death, insolvency proceedings declared or
  ended, the limitation period reached; sent to every office holding a live mandate on the case,
  to acknowledge by ``ack_due_by``.
- Case update acknowledgement (office -> agency): the office has taken the update into account.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from schemas.v1.common import (
    Cents,
    Currency,
    MessageId,
    PositiveCents,
    Reference,
    Text,
    Timestamp,
    WireModel,
    rule_error,
)
from schemas.v1.envelope import MessageModel
from schemas.v1.mandate import Address


class CaseUpdateKind(StrEnum):
    """What changed on the case:

    - ``payment_received``: the debtor paid the agency (or the creditor) directly ("paiement direct");
    - ``address_changed``: the debtor lives at a new address;
    - ``dispute_opened`` / ``dispute_closed``: the debtor disputes the claim ("contestation"), or the
      dispute is settled;
    - ``payment_plan_agreed`` / ``payment_plan_broken``: an instalment plan ("échéancier") was agreed,
      or the debtor stopped paying it;
    - ``debtor_deceased``: the debtor died;
    - ``insolvency_declared`` / ``insolvency_ended``: over-indebtedness or collective proceedings
      opened, or closed;
    - ``limitation_reached``: the claim's limitation period ran out ("prescription").
    """

    PAYMENT_RECEIVED = "payment_received"
    ADDRESS_CHANGED = "address_changed"
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_CLOSED = "dispute_closed"
    PAYMENT_PLAN_AGREED = "payment_plan_agreed"
    PAYMENT_PLAN_BROKEN = "payment_plan_broken"
    DEBTOR_DECEASED = "debtor_deceased"
    INSOLVENCY_DECLARED = "insolvency_declared"
    INSOLVENCY_ENDED = "insolvency_ended"
    LIMITATION_REACHED = "limitation_reached"


class InsolvencyProceedings(StrEnum):
    """Which proceedings were declared, when the agency knows:

    - ``over_indebtedness``: a "surendettement" file declared admissible (enforcement suspended);
    - ``over_indebtedness_filed``: a file lodged, admissibility not decided yet;
    - ``collective_proceedings``: "sauvegarde", "redressement" or "liquidation judiciaire" opened.
    """

    OVER_INDEBTEDNESS = "over_indebtedness"
    OVER_INDEBTEDNESS_FILED = "over_indebtedness_filed"
    COLLECTIVE_PROCEEDINGS = "collective_proceedings"


class PaymentReceived(WireModel):
    """A payment the agency received on the case."""

    amount_cents: PositiveCents
    currency: Currency = "EUR"
    received_on: date


class CaseUpdate(MessageModel):
    """Agency -> office: something changed on a case you hold a mandate on; acknowledge it
    (``case_update_ack`` quoting this ``message_id``) by ``ack_due_by``."""

    KIND = "case_update"

    case_ref: Reference
    mandate_refs: list[Reference] = Field(min_length=1, max_length=100)
    """Your live mandates on the case."""
    update: CaseUpdateKind
    effective_on: date
    """When it happened."""
    payment: PaymentReceived | None = None
    """Required for ``payment_received``, absent otherwise."""
    address: Address | None = None
    """The new address; required for ``address_changed``, absent otherwise."""
    insolvency: InsolvencyProceedings | None = None
    """Only with ``insolvency_declared``, when known."""
    currency: Currency = "EUR"
    outstanding_cents: Cents
    """The balance still owed once the update is applied."""
    work_stops: bool = False
    """True: the balance is cleared; a ``mandate_cancel`` follows for each of your mandates on it."""
    comment: Text | None = None
    ack_due_by: Timestamp

    @model_validator(mode="after")
    def _details_of_its_kind(self) -> Self:
        paid = self.update is CaseUpdateKind.PAYMENT_RECEIVED
        moved = self.update is CaseUpdateKind.ADDRESS_CHANGED
        if paid != (self.payment is not None):
            raise rule_error(
                "case_update.payment_mismatch",
                "a payment_received update carries a payment, and only it",
                at="payment",
            )
        if moved != (self.address is not None):
            raise rule_error(
                "case_update.address_mismatch",
                "an address_changed update carries the address, and only it",
                at="address",
            )
        if self.insolvency is not None and self.update is not CaseUpdateKind.INSOLVENCY_DECLARED:
            raise rule_error(
                "case_update.insolvency_unexpected",
                "insolvency is given only with an insolvency_declared update",
                at="insolvency",
            )
        return self


class CaseUpdateAck(MessageModel):
    """Office -> agency: the office has received a case update and taken it into account."""

    KIND = "case_update_ack"

    update_id: MessageId
    """The ``message_id`` of the case update acknowledged (also the envelope's ``correlation_id``)."""
    case_ref: Reference
    """The case of that update."""
    comment: Text | None = None
    """Anything the agency should know (e.g. an act was already under way)."""
