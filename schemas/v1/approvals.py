"""Holds and cost approvals: an act waits for a person's decision before it may go ahead.

- Hold notice (hub -> office, and to the agency's events): an act of a mandate is held for review;
  the office acknowledges it by its ``ack_due_by`` deadline.
- Hold notice acknowledgement (office -> agency): the office has received the hold notice and holds
  the act.
- Cost request (office -> agency): approval asked for an act above budget or flagged as costing more
  than it can plausibly recover.
- Cost decision (agency -> office): approved (with an ``approval_id`` to quote on the act report and
  the invoice) or refused.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from schemas.v1.common import (
    ActCode,
    Cents,
    Currency,
    MessageId,
    PositiveCents,
    ReasonCode,
    Reference,
    Text,
    Timestamp,
    WireModel,
    rule_error,
)
from schemas.v1.envelope import MessageModel


class HoldReason(WireModel):
    """One reason an act is held, e.g. ``cost.flagged`` or ``guardrail.vulnerable_debtor``."""

    code: ReasonCode
    message: Text


class HoldSituation(StrEnum):
    """The debtor's situation a hold was raised for, which forbids the coercive acts on the case:
    - ``vulnerable``: the debtor is vulnerable (illness, disability, hardship);
    - ``payment_plan_active``: an instalment plan ("échéancier") is being paid;
    - ``disputed``: the debtor disputes the claim ("contestation");
    - ``insolvency_proceedings``: over-indebtedness or collective proceedings;
    - ``limitation_reached``: the claim's limitation period ran out ("prescription")."""

    VULNERABLE = "vulnerable"
    PAYMENT_PLAN_ACTIVE = "payment_plan_active"
    DISPUTED = "disputed"
    INSOLVENCY_PROCEEDINGS = "insolvency_proceedings"
    LIMITATION_REACHED = "limitation_reached"


class HeldMandate(WireModel):
    """One of your mandates on the held case, with its acts."""

    mandate_ref: Reference
    act_codes: list[ActCode] = Field(default_factory=list, max_length=50)
    """The acts the mandate orders; empty for a whole-file mandate (every act of it is held)."""


class HoldNotice(MessageModel):
    """Agency -> office: a hold was raised on a case you work on; perform none of the coercive acts
    of your mandates on it until the hold is lifted (``hold_lift``). One notice per office and hold,
    listing your mandates on the case; acknowledge it (``hold_notice_ack``) by ``ack_due_by``."""

    KIND = "hold_notice"

    hold_id: Reference
    """The hold, quoted again by the ``hold_lift`` that ends it."""
    case_ref: Reference
    situation: HoldSituation
    mandates: list[HeldMandate] = Field(min_length=1, max_length=100)
    """Your mandates on the case, each with its acts."""
    reasons: list[HoldReason] = Field(min_length=1, max_length=20)
    ack_due_by: Timestamp | None = None
    """Acknowledge this notice (``hold_notice_ack`` quoting its ``message_id``) by then; the agency
    follows up on notices left unacknowledged."""


class HoldLift(MessageModel):
    """Agency -> office: a hold you were notified of is lifted; the acts it held may go ahead again
    (unless ``still_held``: another hold of the same situation remains on the case)."""

    KIND = "hold_lift"

    hold_id: Reference
    notice_id: MessageId
    """The ``message_id`` of the hold notice you were sent (also the envelope's ``correlation_id``)."""
    case_ref: Reference
    situation: HoldSituation
    mandate_refs: list[Reference] = Field(min_length=1, max_length=100)
    """The mandates the notice listed."""
    lifted_at: Timestamp
    comment: Text
    """Why the agency lifted the hold."""
    still_held: bool = False
    """True: another hold of the same situation is still active on the case; keep holding."""


class HoldNoticeAck(MessageModel):
    """Office -> agency: the office has received a hold notice and holds the act until told."""

    KIND = "hold_notice_ack"

    notice_id: MessageId
    """The ``message_id`` of the hold notice acknowledged (also the envelope's ``correlation_id``)."""
    mandate_ref: Reference
    """One of the mandates the hold notice listed."""
    comment: Text | None = None
    """Anything the agency should know (e.g. the act was already under way)."""


class CostRequest(MessageModel):
    """Office -> agency: may this act be performed at this cost?"""

    KIND = "cost_request"

    mandate_ref: Reference
    act_code: ActCode
    currency: Currency = "EUR"
    estimated_fees_cents: PositiveCents
    """Estimated fees of the act (emoluments + disbursements, excl. VAT)."""
    expected_recovery_cents: Cents | None = None
    """What the office expects the act to bring back, if it has an estimate."""
    justification: Text
    """Why the act is worth it (e.g. employer known, account with balance)."""


class Decision(StrEnum):
    """``approved`` or ``refused``."""

    APPROVED = "approved"
    REFUSED = "refused"


class CostDecision(MessageModel):
    """Agency -> office: the answer to a cost request (its ``message_id`` is in ``request_id`` and in the
    envelope's ``correlation_id``)."""

    KIND = "cost_decision"

    request_id: Reference
    """The ``message_id`` of the cost request answered."""
    mandate_ref: Reference
    act_code: ActCode
    decision: Decision
    approval_id: Reference | None = None
    """Required when approved: quote it on the act report and the invoice line."""
    currency: Currency = "EUR"
    approved_fees_cents: Cents | None = None
    """Ceiling of the approved fees (excl. VAT), when approved."""
    valid_until: date | None = None
    """The approval lapses after this date."""
    reason: Text | None = None
    """Why, in a sentence (required when refused)."""

    @model_validator(mode="after")
    def _approval_id_when_approved(self) -> Self:
        if self.decision is Decision.APPROVED and self.approval_id is None:
            raise rule_error(
                "cost_decision.approval_id_required", "an approval needs an approval_id", at="approval_id"
            )
        if self.decision is Decision.REFUSED and self.approval_id is not None:
            raise rule_error(
                "cost_decision.approval_id_unexpected", "a refusal has no approval_id", at="approval_id"
            )
        if self.decision is Decision.REFUSED and self.reason is None:
            raise rule_error("cost_decision.reason_required", "say why the cost is refused", at="reason")
        return self
