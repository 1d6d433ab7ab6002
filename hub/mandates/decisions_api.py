"""Routes of what waits for a person's decision: the held mandates and the offices' cost requests,
each with what staff need to decide (case, debtor, balance, the act with its French term and cost,
the reasons in words, the office's justification), a page at a time; and the decision on a cost
request. Approving or refusing a held mandate: ``api``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hub.deps import SessionDep, staff_with
from hub.kit.openapi import problems
from hub.kit.pagination import DEFAULT_LIMIT, Limit, Page
from hub.mandates import service
from hub.mandates.models import Approval
from hub.mandates.service.waiting import KIND_LABELS, ActSummary, CostRequestView, HeldView, Reason
from hub.staff.models import Role, StaffUser

router = APIRouter(prefix="/v1", tags=["mandates"])
Staff = Annotated[StaffUser, staff_with(Role.STAFF)]
Deciding = Annotated[StaffUser, staff_with(Role.STAFF, Role.FINANCE)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
ApprovalId = Annotated[
    str, Path(max_length=64, description="The approval id, APR-...", examples=["APR-20261204-3F9A1C2B7E"])
]
STAFF_ONLY = "No staff token, or one unknown or revoked; an office key (`auth.not_staff_token`)"
NOT_ALLOWED = "A staff token without the role this route needs"


class ActOut(BaseModel):
    act_code: str
    label: str = Field(description="The act in English")
    name_fr: str = Field(
        description="The act as staff know it in French (PV de carence, saisie-attribution...)"
    )
    fees_cents: int | None = Field(
        description="What the act costs up front, integer cents: its tariff fees (emoluments, "
        "disbursements, VAT); on a cost request, the office's estimate excl. VAT"
    )
    cost_cents: int | None = Field(
        description="The cost the flag weighed: the act and the acts it brings along"
    )
    expected_recovery_cents: int | None
    expected_net_cents: int | None = Field(
        description="The creditor's expected net; negative: it loses money"
    )
    flagged: bool | None


class ReasonOut(BaseModel):
    act_code: str = Field(description="The act the reason is about; `*`: the whole file")
    code: str
    message: str = Field(description="The reason in words, as a person reads it")


class DecisionContext(BaseModel):
    """What a person needs to decide a mandate, in short (the full assessment is beside it)."""

    case_ref: str
    debtor_name: str
    outstanding_cents: int = Field(description="The balance: principal + interest + costs - payments, cents")
    currency: str
    kind_label: str = Field(description="per-act mandate, whole-file mandate")
    kind_fr: str = Field(description="mandat à l'acte, mandat au dossier")
    fees_cents: int | None = Field(description="The acts' up-front fees (per act); null for a whole file")
    acts: list[ActOut]
    reasons: list[ReasonOut] = Field(description="Why it was held, each in words")


class HeldMandateOut(DecisionContext):
    ref: str
    office_code: str
    kind: str
    fee_budget_cents: int | None = Field(default=None, description="A whole-file mandate's fee budget, cents")
    priority: str
    instructions: str | None
    created_by: str
    created_at: datetime


HELD_EXAMPLE = {
    "ref": "M-20261204-FC56DCD94D",
    "office_code": "CJ75001",
    "kind": "per_act",
    "kind_label": "per-act mandate",
    "kind_fr": "mandat à l'acte",
    "case_ref": "C-2026-000117",
    "debtor_name": "Jean Martin",
    "outstanding_cents": 2000,
    "currency": "EUR",
    "fee_budget_cents": None,
    "fees_cents": 3840,
    "acts": [
        {
            "act_code": "PAYMENT_ORDER",
            "label": "Payment order before seizure-and-sale",
            "name_fr": "Commandement de payer aux fins de saisie-vente",
            "fees_cents": 3840,
            "cost_cents": 7480,
            "expected_recovery_cents": 100,
            "expected_net_cents": -7380,
            "flagged": True,
        }
    ],
    "reasons": [
        {
            "act_code": "PAYMENT_ORDER",
            "code": "cost.creditor_loses",
            "message": "Flagged: this act would cost 74.80 EUR and is expected to bring in 1.00 EUR; "
            "the creditor can expect to lose 73.80 EUR by ordering it.",
        }
    ],
    "priority": "normal",
    "instructions": "Call the office before serving.",
    "created_by": "agent@agence.example",
    "created_at": "2026-12-04T09:12:44Z",
}
# OpenAPI examples carry no null: the whole-file budget is left out of the example.
HELD_EXAMPLE = {key: value for key, value in HELD_EXAMPLE.items() if value is not None}


class HeldPage(Page[HeldMandateOut, str]):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [HELD_EXAMPLE], "next_after": "M-20261204-FC56DCD94D"}]}
    )


def act_out(act: ActSummary) -> ActOut:
    return ActOut(
        act_code=act.act_code,
        label=act.label,
        name_fr=act.name_fr,
        fees_cents=act.fees_cents,
        cost_cents=act.cost_cents,
        expected_recovery_cents=act.expected_recovery_cents,
        expected_net_cents=act.expected_net_cents,
        flagged=act.flagged,
    )


def reasons_out(reasons: list[Reason]) -> list[ReasonOut]:
    return [ReasonOut(act_code=r.act_code, code=r.code, message=r.message) for r in reasons]


def decision_context(view: HeldView) -> DecisionContext:
    kind_label, kind_fr = KIND_LABELS.get(view.mandate.kind, (view.mandate.kind, view.mandate.kind))
    return DecisionContext(
        case_ref=view.debtor.case_ref,
        debtor_name=view.debtor.debtor_name,
        outstanding_cents=view.debtor.outstanding_cents,
        currency=view.debtor.currency,
        kind_label=kind_label,
        kind_fr=kind_fr,
        fees_cents=view.fees_cents,
        acts=[act_out(a) for a in view.acts],
        reasons=reasons_out(view.reasons),
    )


def held_out(view: HeldView) -> HeldMandateOut:
    m = view.mandate
    return HeldMandateOut(
        **decision_context(view).model_dump(),
        ref=m.ref,
        office_code=view.office_code,
        kind=m.kind,
        fee_budget_cents=m.fee_budget_cents,
        priority=m.priority,
        instructions=m.instructions,
        created_by=m.created_by,
        created_at=m.created_at,
    )


@router.get(
    "/mandates/held",
    response_model=HeldPage,
    summary="Mandates held for a person's approval, with what is needed to decide (staff)",
    description=(
        "The mandates waiting for a person's approval, by ref, `limit` at a time after the ref `after` "
        "(the answer's `next_after`; null on the last page): each with its case, debtor and balance, its "
        "acts with their French names, up-front fees and what the cost flag expects of them, and the "
        "reasons it was held in words. The full assessment (tariff lines, economics) is at "
        "`GET /v1/mandates/{ref}`. Filters: `office` (a code), `case` (a ref). Staff only; 404 "
        "`office.not_found` or `case.not_found` for an unknown filter."
    ),
    responses=problems(
        {
            401: STAFF_ONLY,
            403: NOT_ALLOWED,
            404: "No office or case with this code or ref",
            422: "Invalid query, every error listed",
        }
    ),
)
async def held_mandates(
    session: SessionDep,
    _user: Staff,
    office: Annotated[str | None, Query(max_length=16, description="An office code")] = None,
    case: Annotated[str | None, Query(max_length=64, description="A case ref")] = None,
    after: Annotated[str | None, Query(max_length=64, description="The last ref already read")] = None,
    limit: Limit = DEFAULT_LIMIT,
) -> HeldPage:
    views, cursor = await service.list_held(
        session, office_code=office, case_ref=case, after=after, limit=limit
    )
    return HeldPage(items=[held_out(v) for v in views], next_after=cursor)


class ApprovalOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "approval_id": "APR-20261204-3F9A1C2B7E",
                    "act_code": "WAGE_GARNISHMENT_REQUEST",
                    "amount_cents": 9000,
                    "requested_by": "CJ75001",
                    "request_message_id": "CJ75001-CR-2026-0000042",
                    "decision": "approved",
                    "decided_by": "finance@agence.example",
                    "reason": "employer confirmed",
                }
            ]
        }
    )

    approval_id: str
    act_code: str
    amount_cents: int | None
    requested_by: str
    request_message_id: str | None
    decision: str | None = Field(default=None, description="approved or refused; null while pending")
    decided_by: str | None = None
    reason: str | None = None


def approval_out(approval: Approval) -> ApprovalOut:
    return ApprovalOut(
        approval_id=approval.approval_id,
        act_code=approval.act_code,
        amount_cents=approval.amount_cents,
        requested_by=approval.requested_by,
        request_message_id=approval.request_message_id,
        decision=approval.decision,
        decided_by=approval.decided_by,
        reason=approval.reason,
    )


COST_REQUEST_EXAMPLE = {
    "approval_id": "APR-20261204-3F9A1C2B7E",
    "act_code": "WAGE_GARNISHMENT_REQUEST",
    "amount_cents": 9000,
    "requested_by": "CJ75001",
    "request_message_id": "CJ75001-CR-2026-0000042",
    "requested_at": "2026-12-04T10:02:11Z",
    "office_code": "CJ75001",
    "mandate_ref": "M-20261201-0A1B2C3D4E",
    "mandate_kind": "whole_file",
    "kind_fr": "mandat au dossier",
    "case_ref": "C-2026-000117",
    "debtor_name": "Jean Martin",
    "outstanding_cents": 480000,
    "currency": "EUR",
    "act": {
        "act_code": "WAGE_GARNISHMENT_REQUEST",
        "label": "Wage garnishment request",
        "name_fr": "Commandement (ex-requête) aux fins de saisie des rémunérations",
        "fees_cents": 9000,
        "cost_cents": 8650,
        "expected_recovery_cents": 150000,
        "expected_net_cents": 128000,
        "flagged": False,
    },
    "office_expected_recovery_cents": 200000,
    "justification": "Employer known since the last visit; the debtor refuses any payment plan.",
    "reasons": [],
}


class CostRequestOut(ApprovalOut):
    model_config = ConfigDict(json_schema_extra={"examples": [COST_REQUEST_EXAMPLE]})

    requested_at: datetime
    office_code: str
    mandate_ref: str
    mandate_kind: str
    kind_fr: str = Field(description="mandat à l'acte, mandat au dossier")
    case_ref: str
    debtor_name: str
    outstanding_cents: int = Field(description="The balance: principal + interest + costs - payments, cents")
    currency: str
    act: ActOut = Field(description="The act asked for; `fees_cents`: the office's estimate excl. VAT")
    office_expected_recovery_cents: int | None = Field(description="What the office expects it to bring back")
    justification: str | None = Field(
        description="Why the office asks (null on requests recorded before it was kept)"
    )
    reasons: list[ReasonOut] = Field(description="The hub's assessment of the act when asked, in words")


class CostRequestPage(Page[CostRequestOut, str]):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [COST_REQUEST_EXAMPLE], "next_after": "APR-20261204-3F9A1C2B7E"}]
        }
    )


def cost_request_out(view: CostRequestView) -> CostRequestOut:
    a = view.approval
    return CostRequestOut(
        **approval_out(a).model_dump(),
        requested_at=a.created_at,
        office_code=a.requested_by,
        mandate_ref=view.mandate_ref,
        mandate_kind=view.mandate_kind,
        kind_fr=KIND_LABELS.get(view.mandate_kind, (view.mandate_kind, view.mandate_kind))[1],
        case_ref=view.debtor.case_ref,
        debtor_name=view.debtor.debtor_name,
        outstanding_cents=view.debtor.outstanding_cents,
        currency=view.debtor.currency,
        act=act_out(view.act),
        office_expected_recovery_cents=a.expected_recovery_cents,
        justification=a.justification,
        reasons=reasons_out(view.reasons),
    )


@router.get(
    "/approvals",
    tags=["approvals"],
    response_model=CostRequestPage,
    summary="Offices' cost requests waiting for a decision, with what is needed to decide",
    description=(
        "Offices' cost requests (asking before an act beyond the mandate or its budget) waiting for a "
        "decision, by approval id (about the order they came in), `limit` at a time after the id `after` "
        "(the answer's `next_after`; null on the last page): each with its mandate, case, debtor and "
        "balance, the act with its French name, the office's estimate and justification, and the hub's "
        "own assessment of the act when asked (cost, expected recovery, the creditor's net, reasons in "
        "words). Filter: `office` (a code). Staff and finance; 404 `office.not_found`."
    ),
    responses=problems(
        {
            401: STAFF_ONLY,
            403: NOT_ALLOWED,
            404: "No office with this code",
            422: "Invalid query, every error listed",
        }
    ),
)
async def pending(
    session: SessionDep,
    _user: Deciding,
    office: Annotated[str | None, Query(max_length=16, description="An office code")] = None,
    after: Annotated[
        str | None, Query(max_length=64, description="The last approval id already read")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
) -> CostRequestPage:
    views, cursor = await service.list_cost_requests(session, office_code=office, after=after, limit=limit)
    return CostRequestPage(items=[cost_request_out(v) for v in views], next_after=cursor)


@router.get(
    "/approvals/{approval_id}",
    tags=["approvals"],
    response_model=CostRequestOut,
    summary="One office's cost request, pending or decided, with what is needed to decide",
    description=(
        "One cost request by its approval id, with the same context as in `GET /v1/approvals` and, once "
        "decided, the decision, who took it and why. Staff and finance; 404 `approval.not_found` for an "
        "unknown id or an approval that was no office's request."
    ),
    responses=problems(
        {401: STAFF_ONLY, 403: NOT_ALLOWED, 404: "No cost request with this id", 422: "Invalid id"}
    ),
)
async def get_cost_request(approval_id: ApprovalId, session: SessionDep, _user: Deciding) -> CostRequestOut:
    return cost_request_out(await service.cost_request(session, approval_id))


class CostDecisionIn(BaseModel):
    decision: Literal["approved", "refused"]
    reason: Comment | None = None
    approved_fees_cents: Annotated[int, Field(gt=0)] | None = None


@router.post("/approvals/{approval_id}/decide", tags=["approvals"], summary="Decide an office's cost request")
async def decide_cost(
    approval_id: str, body: CostDecisionIn, session: SessionDep, user: Deciding
) -> ApprovalOut:
    """Approves or refuses an office's cost request with a comment; the office receives the decision as a
    `cost_decision` message correlated with its request. Staff and finance.
    """
    approval = await service.decide_cost_request(
        session,
        approval_id,
        approve=body.decision == "approved",
        actor=user.email,
        reason=body.reason,
        approved_fees_cents=body.approved_fees_cents,
    )
    return approval_out(approval)
