"""The v1 messages the mandates module sends to offices, built from its rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from hub.cases.models import Case, CaseUpdate
from hub.kit.clock import utcnow
from hub.mandates.models import Approval, Hold, HoldNotice, Mandate, MandateKind
from hub.offices.models import Office
from schemas import v1

AGENCY = v1.AGENCY


def envelope(kind: Any, office: Office, *, prefix: str, correlation_id: str | None = None) -> v1.Envelope:
    return v1.Envelope(
        message_id=f"{prefix}-{uuid.uuid4().hex}",
        kind=kind,
        version="1",
        sender=AGENCY,
        recipient=office.code,
        sent_at=utcnow(),
        correlation_id=correlation_id,
    )


def _debtor(case: Case) -> v1.Debtor:
    debtor = case.debtor
    # Checked when the mandate is created (``case.address_incomplete``).
    assert debtor.address_line1 is not None and debtor.postcode is not None and debtor.city is not None
    person = debtor.kind == v1.DebtorKind.PERSON.value
    return v1.Debtor(
        kind=v1.DebtorKind(debtor.kind),
        last_name=debtor.name if person else None,
        company_name=None if person else debtor.name,
        address=v1.Address(street=debtor.address_line1, postal_code=debtor.postcode, city=debtor.city),
    )


def mandate_message(mandate: Mandate, case: Case, office: Office) -> v1.Mandate:
    """The mandate as the office receives it; its case loaded with creditor and debtor."""
    terms: v1.PerActTerms | v1.WholeFileTerms
    if mandate.kind == MandateKind.PER_ACT.value:
        terms = v1.PerActTerms(kind="per_act", act_codes=list(mandate.acts))
    else:
        assert mandate.fee_budget_cents is not None
        terms = v1.WholeFileTerms(kind="whole_file", fee_budget_cents=mandate.fee_budget_cents)
    title = None
    if case.title_kind is not None and case.title_issued_on is not None:
        title = v1.Title(
            kind=v1.TitleKind(case.title_kind), issued_on=case.title_issued_on, served_on=case.title_served_on
        )
    return v1.Mandate(
        envelope=envelope("mandate", office, prefix="MND", correlation_id=mandate.ref),
        mandate_ref=mandate.ref,
        case_ref=case.ref,
        creditor_name=case.creditor.name,
        debtor=_debtor(case),
        claim=v1.Claim(
            currency=case.currency,
            principal_cents=case.principal_cents,
            interest_cents=case.interest_cents,
            costs_cents=case.costs_cents,
            paid_cents=case.paid_cents,
        ),
        title=title,
        terms=terms,
        priority=v1.Priority(mandate.priority),
        instructions=mandate.instructions,
        approval_id=mandate.approval_id,
        expires_at=mandate.expires_at,
    )


def cost_decision(approval: Approval, mandate: Mandate, office: Office) -> v1.CostDecision:
    """The agency's answer to an office's cost request (``approval.request_message_id``)."""
    assert approval.request_message_id is not None and approval.decision is not None
    approved = approval.decision == v1.Decision.APPROVED.value
    return v1.CostDecision(
        envelope=envelope("cost_decision", office, prefix="CDEC", correlation_id=approval.request_message_id),
        request_id=approval.request_message_id,
        mandate_ref=mandate.ref,
        act_code=approval.act_code,
        decision=v1.Decision(approval.decision),
        approval_id=approval.approval_id if approved else None,
        currency=mandate.currency,
        approved_fees_cents=approval.amount_cents if approved else None,
        reason=approval.reason,
    )


def hold_notice(
    hold: Hold,
    case: Case,
    mandates: list[Mandate],
    office: Office,
    reasons: list[tuple[str, str]],
    *,
    ack_due_by: datetime | None = None,
) -> v1.HoldNotice:
    """Tells the office a hold was raised on a case it works on (its ``mandates`` there, with their
    acts): perform no coercive act on it until the hold is lifted, and acknowledge the notice by
    ``ack_due_by``."""
    return v1.HoldNotice(
        envelope=envelope("hold_notice", office, prefix="HOLD", correlation_id=hold.hold_id),
        hold_id=hold.hold_id,
        case_ref=case.ref,
        situation=v1.HoldSituation(hold.situation),
        mandates=[
            v1.HeldMandate(
                mandate_ref=m.ref, act_codes=list(m.acts) if m.kind == MandateKind.PER_ACT.value else []
            )
            for m in mandates
        ],
        reasons=[v1.HoldReason(code=code, message=message) for code, message in reasons],
        ack_due_by=ack_due_by,
    )


def hold_lift(hold: Hold, case: Case, notice: HoldNotice, office: Office, *, still_held: bool) -> v1.HoldLift:
    """Tells the office the hold of the notice it was sent is lifted (``still_held``: another hold
    of the same situation remains on the case)."""
    assert hold.lifted_at is not None and hold.lift_comment is not None
    return v1.HoldLift(
        envelope=envelope("hold_lift", office, prefix="HLIFT", correlation_id=notice.message_id),
        hold_id=hold.hold_id,
        notice_id=notice.message_id,
        case_ref=case.ref,
        situation=v1.HoldSituation(hold.situation),
        mandate_refs=notice.mandate_refs,
        lifted_at=hold.lifted_at,
        comment=hold.lift_comment[:500],
        still_held=still_held,
    )


def mandate_cancel(
    mandate: Mandate, office: Office, cause: v1.CancelCause, reason: str, at: datetime
) -> v1.MandateCancel:
    """Tells the office a mandate it was given has ended: stop every act under it."""
    return v1.MandateCancel(
        envelope=envelope("mandate_cancel", office, prefix="CNL", correlation_id=mandate.ref),
        mandate_ref=mandate.ref,
        cause=cause,
        reason=reason[:500],
        effective_at=at,
    )


def case_update(
    update: CaseUpdate,
    case: Case,
    office: Office,
    mandate_refs: list[str],
    *,
    ack_due_by: datetime,
    work_stops: bool,
) -> v1.CaseUpdate:
    """Tells an office what changed on a case it holds live mandates on (``mandate_refs``), to
    acknowledge by ``ack_due_by``; ``work_stops``: the balance is cleared, a ``mandate_cancel``
    follows for each of them."""
    payment = None
    if update.amount_cents is not None and update.received_on is not None:
        payment = v1.PaymentReceived(
            amount_cents=update.amount_cents, currency=update.currency, received_on=update.received_on
        )
    address = None
    if update.address is not None:
        address = v1.Address(
            street=str(update.address["line1"]),
            postal_code=str(update.address["postcode"]),
            city=str(update.address["city"]),
        )
    return v1.CaseUpdate(
        envelope=envelope("case_update", office, prefix="CUPD", correlation_id=case.ref),
        case_ref=case.ref,
        mandate_refs=mandate_refs,
        update=v1.CaseUpdateKind(update.kind),
        effective_on=update.effective_on,
        payment=payment,
        address=address,
        insolvency=v1.InsolvencyProceedings(update.insolvency_kind) if update.insolvency_kind else None,
        currency=case.currency,
        outstanding_cents=update.outstanding_cents,
        work_stops=work_stops,
        comment=update.comment,
        ack_due_by=ack_due_by,
    )
