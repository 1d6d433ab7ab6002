"""Routes of the mandates module: staff issue and decide mandates; an office reads its own mandates
and asks before costly acts (cost requests). Holds and their notices: ``holds_api``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field, StringConstraints

from hub.cases.repository import CaseRepository
from hub.deps import CurrentCaller, SessionDep, staff_with
from hub.kit.clock import utcnow
from hub.kit.errors import ErrorItem, InvalidInput, NotFound
from hub.kit.openapi import problems
from hub.mandates import service
from hub.mandates.assessment import weighed
from hub.mandates.decisions_api import DecisionContext, decision_context
from hub.mandates.models import Mandate, MandateStatus
from hub.mandates.service import MandateIn
from hub.messaging.receiving import (
    BODY_DOC,
    RECEIPT_RESPONSES,
    IdempotencyKey,
    LimitedOffice,
    message_body,
    receive_office_message,
)
from hub.offices.models import Office
from hub.offices.repository import OfficeRepository
from hub.policy import guardrails
from hub.recovery import plausibility, stop_loss
from hub.staff.models import Role, StaffUser
from hub.tariff.catalogue import load_catalogue

router = APIRouter(prefix="/v1", tags=["mandates"])
Staff = Annotated[StaffUser, staff_with(Role.STAFF)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
NO_CREDENTIAL = "No API key or staff token, or one unknown or revoked"


class MandateOut(BaseModel):
    ref: str
    case_ref: str
    office_code: str
    kind: str
    acts: list[str]
    fee_budget_cents: int | None
    currency: str
    status: str
    approval_id: str | None
    priority: str
    instructions: str | None
    issued_at: datetime | None
    created_at: datetime
    # Agency-side only (not shown to offices): why it was held, with the full assessment.
    created_by: str | None = None
    assessment: dict[str, Any] | None = None
    events: list[dict[str, Any]] | None = None
    budget: dict[str, Any] | None = None  # whole file: budget, fees reported so far, overrun
    context: DecisionContext | None = Field(
        default=None,
        description="Staff: what a person needs to decide it (debtor, balance, the acts with their "
        "French names and fees, the reasons in words), as in `GET /v1/mandates/held`",
    )


class MandatePage(BaseModel):
    items: list[MandateOut]
    next_after: str | None  # pass as ?after= to read the next page


def mandate_out(mandate: Mandate, case_ref: str, office_code: str, *, for_staff: bool) -> MandateOut:
    out = MandateOut(
        ref=mandate.ref,
        case_ref=case_ref,
        office_code=office_code,
        kind=mandate.kind,
        acts=list(mandate.acts),
        fee_budget_cents=mandate.fee_budget_cents,
        currency=mandate.currency,
        status=mandate.status,
        approval_id=mandate.approval_id,
        priority=mandate.priority,
        instructions=mandate.instructions,
        issued_at=mandate.issued_at,
        created_at=mandate.created_at,
    )
    if for_staff:
        out.created_by = mandate.created_by
        out.assessment = mandate.assessment
    return out


async def _detail(session: SessionDep, mandate: Mandate, *, for_staff: bool) -> MandateOut:
    case = await CaseRepository(session).get_with_parties_by_id(mandate.case_id)
    office = await OfficeRepository(session).get(mandate.office_id)
    assert case is not None and office is not None  # foreign keys
    out = mandate_out(mandate, case.ref, office.code, for_staff=for_staff)
    if for_staff:
        out.events = [
            {
                "from": e.from_status,
                "to": e.to_status,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "reason": e.reason,
            }
            for e in await service.events(session, mandate)
        ]
        out.budget = await service.budget_of(session, mandate)
        out.context = decision_context(await service.held_context(session, mandate))
    return out


@router.post(
    "/mandates", status_code=status.HTTP_201_CREATED, summary="Issue a mandate, or hold it for review"
)
async def create_mandate(body: MandateIn, session: SessionDep, user: Staff) -> MandateOut:
    """Issues a mandate to an office on a case, or holds it for a person's approval with the reasons a
    guardrail gave; answers the mandate and its status. A guardrail that is a hard legal block refuses
    it (422, every reason, nothing written); 409 `mandate.exists` for a reference already used. Staff
    only.
    """
    mandate = await service.create_mandate(session, body, actor=user.email)
    return await _detail(session, mandate, for_staff=True)


@router.get(
    "/mandates",
    summary="Mandates: an office sees its own, staff see all",
    responses=problems({401: NO_CREDENTIAL, 422: "Invalid query, every error listed"}),
)
async def list_mandates(
    session: SessionDep,
    caller: CurrentCaller,
    status_: Annotated[MandateStatus | None, Query(alias="status")] = None,
    after: Annotated[str | None, Query(description="The last ref already read")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> MandatePage:
    """Mandates by reference, `limit` at a time after `after`, optionally by status. An office API key sees
    only the mandates issued to that office; a staff token sees all.
    """
    office = caller if isinstance(caller, Office) else None
    rows = await service.list_mandates(session, office=office, status=status_, after=after, limit=limit)
    items = [mandate_out(m, case_ref, code, for_staff=office is None) for m, case_ref, code in rows]
    return MandatePage(items=items, next_after=items[-1].ref if len(items) == limit else None)


@router.get(
    "/mandates/{ref}",
    summary="One mandate (another office's answers 404)",
    responses=problems(
        {401: NO_CREDENTIAL, 404: "No such mandate, or another office's", 422: "Invalid request"}
    ),
)
async def get_mandate(ref: str, session: SessionDep, caller: CurrentCaller) -> MandateOut:
    """One mandate by reference with its status. An office sees only the mandates issued to it (another
    office's answers 404, not 403); staff see all, with the details kept for staff.
    """
    office = caller if isinstance(caller, Office) else None
    mandate = await service.get_mandate(session, ref, office=office)
    return await _detail(session, mandate, for_staff=office is None)


class CommentIn(BaseModel):
    comment: Comment


class CancelIn(BaseModel):
    reason: Comment


class DecisionIn(BaseModel):
    decision: Literal["approve", "reject"]
    comment: Comment


@router.post("/mandates/{ref}/approve", summary="Approve a held mandate: it is issued with an approval id")
async def approve(ref: str, body: CommentIn, session: SessionDep, user: Staff) -> MandateOut:
    """Approves a held mandate with a comment: it is issued to its office with the approval id recorded.
    Staff only; 404 `mandate.not_found`, 409 `mandate.not_held` when it is not held.
    """
    await service.approve(session, ref, actor=user.email, comment=body.comment)
    return await _detail(session, await service.get_mandate(session, ref), for_staff=True)


@router.post("/mandates/{ref}/refuse", summary="Refuse a held mandate: it is cancelled, never sent")
async def refuse(ref: str, body: CommentIn, session: SessionDep, user: Staff) -> MandateOut:
    """Refuses a held mandate with a comment: it is cancelled and never sent to the office. Staff only; 404
    `mandate.not_found`, 409 `mandate.not_held` when it is not held.
    """
    await service.refuse(session, ref, actor=user.email, comment=body.comment)
    return await _detail(session, await service.get_mandate(session, ref), for_staff=True)


@router.post("/mandates/{ref}/decision", summary="Approve or reject a held mandate, with a comment")
async def decide(ref: str, body: DecisionIn, session: SessionDep, user: Staff) -> MandateOut:
    """Approves or rejects a held mandate in one call (`decision`), with a comment: the same effect as
    `/approve` or `/refuse`. Staff only; 409 `mandate.not_held` when it is not held.
    """
    decide_with = service.approve if body.decision == "approve" else service.refuse
    await decide_with(session, ref, actor=user.email, comment=body.comment)
    return await _detail(session, await service.get_mandate(session, ref), for_staff=True)


@router.post("/mandates/{ref}/cancel", summary="Cancel a mandate, with the reason")
async def cancel(ref: str, body: CancelIn, session: SessionDep, user: Staff) -> MandateOut:
    """Cancels a mandate with the reason. One the office holds is withdrawn from it with a
    `mandate_cancel`, and its act reports are then refused (`mandate.not_reportable`). Staff only; 409
    `mandate.transition_forbidden` once the mandate is final.
    """
    mandate = await service.cancel(session, ref, actor=user.email, reason=body.reason)
    return await _detail(session, mandate, for_staff=True)


class AssessIn(BaseModel):
    case_ref: str
    act_code: str
    office_code: str | None = None


class AssessOut(BaseModel):
    cost_cents: int
    expected_recovery_cents: int
    expected_net_cents: int
    flagged: bool
    reasons: list[dict[str, str]]
    guardrails: list[dict[str, Any]]
    explanation: dict[str, Any]
    stop_loss: str | None = Field(
        default=None,
        description="Why every further act on the case is held for review (fees borne with nothing "
        "recovered, `HUB_STOP_LOSS_SHARE_PERCENT`), or null",
    )


@router.post(
    "/acts/assess", tags=["acts"], summary="The cost flag and guardrails of one act (no side effects)"
)
async def assess(body: AssessIn, session: SessionDep, _user: Staff) -> AssessOut:
    """Computes, without recording anything, what one act (`act_code` of the catalogue) would cost on a
    case, what it is expected to bring in, the creditor's expected net (flagged when negative) and why,
    and the guardrails it meets, optionally for one office. Staff only; 404 `case.not_found` for an
    unknown case.
    """
    case = await CaseRepository(session).get_with_parties(body.case_ref)
    if case is None:
        raise NotFound(f"no case with ref {body.case_ref}", code="case.not_found")
    if body.act_code not in load_catalogue().acts:
        raise InvalidInput(
            f"{body.act_code} is not an act of the catalogue",
            errors=[
                ErrorItem(
                    "act_code", "act.unknown", f"known acts: {', '.join(sorted(load_catalogue().acts))}"
                )
            ],
        )
    facts = await service.facts_of(session, case)
    today = utcnow().date()
    rates = await service.learned_rates(session)
    assessment = plausibility.assess(facts, body.act_code, today, office=body.office_code, rates=rates)
    settings = service.policy_settings()
    violations = guardrails.check(facts, body.act_code, today, settings=settings)
    stopped = stop_loss.check(facts, settings.stop_loss_share_percent) if weighed(assessment) else None
    as_dict = assessment.as_dict()
    return AssessOut(
        cost_cents=assessment.cost_cents,
        expected_recovery_cents=assessment.expected_recovery_cents,
        expected_net_cents=assessment.expected_net_cents,
        flagged=assessment.flagged,
        reasons=[{"code": r.code, "message": r.message} for r in assessment.reasons],
        guardrails=[
            {"code": v.code, "message": v.message, "needs_review": v.needs_review, "source": v.source}
            for v in violations
        ],
        explanation={**as_dict["explanation"], "lines": assessment.explanation.lines(facts.currency)},
        stop_loss=None if stopped is None else stopped.message,
    )


COST_REQUEST_DOC = (
    f"{BODY_DOC} The request (`cost_request`: mandate, act, estimated fees excl. VAT, justification) "
    "waits for staff (`GET /v1/approvals`); their decision comes back as a `cost_decision` with its "
    "approval id, to quote on the act report (`approval_id`) and the invoice line (BT-132). Refused: "
    "404 `mandate.not_found` (unknown or another office's), 422 `mandate.not_open`, `act.unknown`, "
    "`currency.mismatch`."
)


@router.post(
    "/cost-requests",
    tags=["offices"],
    status_code=202,
    summary="Ask before an act beyond the mandate or its budget (cost_request)",
    description=COST_REQUEST_DOC,
    responses=RECEIPT_RESPONSES,
    openapi_extra=message_body("cost_request"),
)
async def post_cost_request(
    request: Request, office: LimitedOffice, session: SessionDep, key: IdempotencyKey = None
) -> Response:
    return await receive_office_message(request, office, session, key, kind="cost_request")
