"""Routes of holds: staff raise a hold on a case, read a case's holds, lift one, follow the notices
and the act reports that broke a hold; an office acknowledges the hold notices it is sent
(``hold_notice_ack``). Mounted by ``hub.app``."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hub.deps import SessionDep, staff_with
from hub.kit.openapi import problems
from hub.kit.pagination import DEFAULT_LIMIT, Limit, Page
from hub.mandates import service
from hub.messaging.receiving import (
    BODY_DOC,
    RECEIPT_RESPONSES,
    IdempotencyKey,
    LimitedOffice,
    message_body,
    receive_office_message,
)
from hub.staff.models import Role, StaffUser
from schemas import v1

router = APIRouter(prefix="/v1", tags=["cases"])
Staff = Annotated[StaffUser, staff_with(Role.STAFF)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
CaseRef = Annotated[str, Path(description="The case's reference", examples=["D-2026-000317"], max_length=64)]
HoldId = Annotated[
    str,
    Path(description="The hold's id", examples=["HLD-6a1f0c2b9d8e4f7a8b5c3d2e1f0a9b8c"], max_length=64),
]

_NOTICE: dict[str, Any] = {
    "office_code": "CJ75001",
    "message_id": "HOLD-5f0c2a7b1d4e4f6a9b8c7d6e5f4a3b2c",
    "mandate_refs": ["M-2026-000042"],
    "sent_at": "2026-03-03T09:12:00Z",
    "ack_due_by": "2026-03-05T09:12:00Z",
    "acknowledged_at": "2026-03-03T14:40:00Z",
    "overdue": False,
    "lift_message_id": None,
}
_HOLD: dict[str, Any] = {
    "hold_id": "HLD-6a1f0c2b9d8e4f7a8b5c3d2e1f0a9b8c",
    "case_ref": "D-2026-000317",
    "situation": "vulnerable",
    "comment": "Hospitalisation du débiteur signalée par sa fille.",
    "raised_by": "handler@agence.example",
    "raised_at": "2026-03-03T09:12:00Z",
    "active": True,
    "lifted_at": None,
    "lifted_by": None,
    "lift_comment": None,
    "notices": [_NOTICE],
}
_BREACH: dict[str, Any] = {
    "act_report_id": "0b6f1c9e-2d3a-4b5c-8d7e-6f5a4b3c2d1e",
    "office_code": "CJ75001",
    "mandate_ref": "M-2026-000042",
    "case_ref": "D-2026-000317",
    "act_code": "BANK_ATTACHMENT",
    "act_date": "2026-03-06",
    "office_reference": "CJ75001-2026-0915",
    "hold_id": "HLD-6a1f0c2b9d8e4f7a8b5c3d2e1f0a9b8c",
    "situation": "vulnerable",
    "message": "BANK_ATTACHMENT on 2026-03-06, coercive, after the office acknowledged hold ...",
}


class HoldIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"situation": "vulnerable", "comment": "Hospitalisation du débiteur signalée par sa fille."}
            ]
        }
    )

    situation: v1.HoldSituation
    comment: Comment
    hold_id: v1.Reference | None = Field(
        default=None,
        description=(
            "The hold's id, chosen by the caller so that a retry cannot raise it twice: the same id "
            "again is refused (409 `hold.exists`), and nothing is sent again. Without it the hub "
            "makes one (`HLD-...`)."
        ),
        examples=["HLD-2026-000042"],
    )


class LiftIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"comment": "Situation réexaminée : les actes peuvent reprendre."}]}
    )

    comment: Comment


class HoldNoticeOut(BaseModel):
    office_code: str
    message_id: str  # the hold notice's message id, quoted by the office's acknowledgement
    mandate_refs: list[str]  # the office's mandates on the case the notice listed
    sent_at: datetime
    ack_due_by: datetime
    acknowledged_at: datetime | None = None
    overdue: bool  # not acknowledged, and its deadline has passed
    lift_message_id: str | None = None  # the hold_lift sent to the office


class HoldOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_HOLD]})

    hold_id: str
    case_ref: str
    situation: str
    comment: str
    raised_by: str
    raised_at: datetime
    active: bool
    lifted_at: datetime | None = None
    lifted_by: str | None = None
    lift_comment: str | None = None
    notices: list[HoldNoticeOut]  # one per office working on the case when it was raised


class HoldList(Page[HoldOut, str]):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_HOLD], "next_after": _HOLD["hold_id"]}]}
    )


class BreachOut(BaseModel):
    act_report_id: uuid.UUID
    office_code: str
    mandate_ref: str
    case_ref: str
    act_code: str
    act_date: date
    office_reference: str
    hold_id: str
    situation: str
    message: str


class BreachPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_BREACH], "next_after": _BREACH["act_report_id"]}]}
    )

    items: list[BreachOut]
    next_after: uuid.UUID | None = None  # pass as ?after= to read the next page


class OverdueNoticeOut(BaseModel):
    notice_id: str  # the hold notice's message id, quoted by the office's acknowledgement
    hold_id: str | None  # None: a notice sent before holds were records (one per act)
    office_code: str
    mandate_refs: list[str]
    case_ref: str
    act_code: str | None = None  # only on the notices of before (one per act)
    situation: str
    sent_at: datetime
    ack_due_by: datetime
    acknowledged_at: datetime | None = None
    overdue: bool  # not acknowledged, and its deadline has passed
    late: bool  # acknowledged after its deadline


def hold_out(view: service.HoldView) -> HoldOut:
    h = view.hold
    return HoldOut(
        hold_id=h.hold_id,
        case_ref=view.case_ref,
        situation=h.situation,
        comment=h.comment,
        raised_by=h.raised_by,
        raised_at=h.raised_at,
        active=h.lifted_at is None,
        lifted_at=h.lifted_at,
        lifted_by=h.lifted_by,
        lift_comment=h.lift_comment,
        notices=[
            HoldNoticeOut(
                office_code=n.office_code,
                message_id=n.notice.message_id,
                mandate_refs=n.notice.mandate_refs,
                sent_at=n.notice.sent_at,
                ack_due_by=n.notice.ack_due_by,
                acknowledged_at=n.notice.acknowledged_at,
                overdue=n.overdue,
                lift_message_id=n.notice.lift_message_id,
            )
            for n in view.notices
        ],
    )


STAFF_ANSWERS = {
    401: "No staff token, or one unknown or revoked; an office API key (`auth.not_staff_token`)",
    403: "A staff role without access to cases (`auth.role_forbidden`)",
}


@router.post(
    "/cases/{ref}/holds",
    status_code=status.HTTP_201_CREATED,
    summary="Raise a hold on a case: one hold notice to each office working on it",
    responses=problems(
        {
            **STAFF_ANSWERS,
            404: "No case with this reference (`case.not_found`)",
            409: "A hold with this `hold_id` exists already: nothing is sent again (`hold.exists`)",
            422: "Invalid hold, every error listed (e.g. an unknown `situation`)",
        }
    ),
)
async def raise_hold(ref: CaseRef, body: HoldIn, session: SessionDep, user: Staff) -> HoldOut:
    """Records a hold on the case for a change in the debtor's situation after mandates were issued
    (`vulnerable`, `payment_plan_active`, `disputed`, `insolvency_proceedings`, `limitation_reached`),
    with who raised it and why, and sets the case's fact of it (new mandates are then held by the
    guardrails). Each office working on the case (an issued, acknowledged or in-progress mandate) is
    sent ONE `hold_notice` listing its mandates there with their acts, to acknowledge
    (`POST /v1/hold-notice-acks`) by `HUB_HOLD_NOTICE_ACK_HOURS`. A coercive act reported dated on or
    after the day an office acknowledged, before the hold is lifted, is flagged `hold_breached`
    (`GET /v1/holds/breaches`). Staff only; nothing written on a refusal.
    """
    view = await service.raise_hold(
        session, ref, body.situation.value, actor=user.email, comment=body.comment, hold_id=body.hold_id
    )
    return hold_out(view)


@router.get(
    "/cases/{ref}/holds",
    summary="A case's holds, active and lifted, with each office's notice and acknowledgement",
    responses=problems({**STAFF_ANSWERS, 404: "No case with this reference (`case.not_found`)"}),
)
async def list_holds(
    ref: CaseRef,
    session: SessionDep,
    _user: Staff,
    after: Annotated[str | None, Query(max_length=64, description="The last `hold_id` already read")] = None,
    limit: Limit = DEFAULT_LIMIT,
) -> HoldList:
    """The holds raised on a case, oldest first, `limit` at a time after the hold `after` (the answer's
    `next_after`; null on the last page): the situation, who raised it, when and why, whether it is
    still active or who lifted it, when and why; for each office notified, the notice's deadline, when
    it acknowledged (`overdue` when not by then) and the `hold_lift` it was sent. Staff only.
    """
    views, cursor = await service.list_holds(session, ref, after=after, limit=limit)
    return HoldList(items=[hold_out(v) for v in views], next_after=cursor)


@router.post(
    "/holds/{hold_id}/lift",
    summary="Lift a hold: each office notified of it gets a hold_lift",
    responses=problems(
        {
            **STAFF_ANSWERS,
            404: "No hold with this id (`hold.not_found`)",
            409: "The hold is already lifted (`hold.already_lifted`), or holds a legal fact that still "
            "stands (`hold.legal_block`: a limitation a case update recorded; insolvency proceedings "
            "not yet ended by an `insolvency_ended` case update)",
            422: "Invalid body, every error listed (the `comment` is required)",
        }
    ),
)
async def lift_hold(hold_id: HoldId, body: LiftIn, session: SessionDep, user: Staff) -> HoldOut:
    """Lifts an active hold, with who and why: the case's fact of its situation is cleared unless
    another active hold of the same situation remains on the case, and each office that was sent a
    notice of the hold gets a `hold_lift` (with `still_held` when such a hold remains). Act reports
    dated from the day it is lifted are no longer flagged for it. A limitation that a
    `limitation_reached` case update recorded is never lifted, an insolvency hold only once an
    `insolvency_ended` case update has ended the proceedings: a lift never clears a legal fact a case
    update recorded. Staff only; lifting twice answers 409 and sends nothing.
    """
    return hold_out(await service.lift_hold(session, hold_id, actor=user.email, comment=body.comment))


@router.get(
    "/holds/breaches",
    summary="Act reports that broke a hold the office had acknowledged (flagged hold_breached)",
    responses=problems({**STAFF_ANSWERS, 422: "Invalid query, every error listed"}),
)
async def list_breaches(
    session: SessionDep,
    _user: Staff,
    after: Annotated[uuid.UUID | None, Query(description="The last `act_report_id` already read")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> BreachPage:
    """The act reports accepted but flagged `hold_breached`: a coercive act dated on or after the day
    its office acknowledged a hold notice on the case, while the hold was not lifted; `limit` at a time
    after the act report id `after`, with the hold broken. Staff only.
    """
    items = [
        BreachOut(
            act_report_id=b.act.id,
            office_code=b.office_code,
            mandate_ref=b.mandate_ref,
            case_ref=b.case_ref,
            act_code=b.act.act_code,
            act_date=b.act.act_date,
            office_reference=b.act.office_reference,
            hold_id=b.hold.hold_id,
            situation=b.hold.situation,
            message=_breach_message(b.act.assessment),
        )
        for b in await service.list_breaches(session, after=after, limit=limit)
    ]
    return BreachPage(items=items, next_after=items[-1].act_report_id if len(items) == limit else None)


def _breach_message(assessment: dict[str, object] | None) -> str:
    flags = (assessment or {}).get("flags")
    for flag in flags if isinstance(flags, list) else []:
        if isinstance(flag, dict) and flag.get("code") == "hold_breached":
            return str(flag.get("message", ""))
    return ""


class HoldNoticePage(Page[OverdueNoticeOut, str]):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "notice_id": "HUB-HN-7F3A9C1E2B4D",
                            "hold_id": "HLD-20261204-9C1E2B4D7F",
                            "office_code": "CJ75001",
                            "mandate_refs": ["M-20261201-0A1B2C3D4E"],
                            "case_ref": "C-2026-000117",
                            "situation": "payment_plan_active",
                            "sent_at": "2026-12-04T09:00:00Z",
                            "ack_due_by": "2026-12-06T09:00:00Z",
                            "overdue": False,
                            "late": False,
                        }
                    ],
                    "next_after": "HUB-HN-7F3A9C1E2B4D",
                }
            ]
        }
    )


@router.get(
    "/hold-notices",
    response_model=HoldNoticePage,
    summary="Hold notices sent to offices: ?overdue=true lists those not acknowledged by their deadline",
    responses=problems({**STAFF_ANSWERS, 404: "No office with this code (`office.not_found`)"}),
)
async def hold_notices(
    session: SessionDep,
    _user: Staff,
    overdue: Annotated[bool, Query(description="Only those not acknowledged by their deadline")] = False,
    office: Annotated[str | None, Query(max_length=16, description="An office code")] = None,
    after: Annotated[
        str | None, Query(max_length=64, description="The last `notice_id` already read")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
) -> HoldNoticePage:
    """The hold notices sent to offices, with their acknowledgement deadline, the latest sent first;
    `overdue=true` keeps those not acknowledged by it, the most overdue first, for follow-up; `office`
    one office's. `limit` at a time after the notice `after` (the answer's `next_after`; null on the
    last page). Staff only.
    """
    views, cursor = await service.list_hold_notices(
        session, overdue=overdue, office_code=office, after=after, limit=limit
    )
    items = [
        OverdueNoticeOut(
            notice_id=v.notice.message_id,
            hold_id=v.hold_id,
            office_code=v.office_code,
            mandate_refs=v.mandate_refs,
            case_ref=v.case_ref,
            act_code=v.notice.act_code,
            situation=v.notice.situation,
            sent_at=v.notice.sent_at,
            ack_due_by=v.notice.ack_due_by,
            acknowledged_at=v.notice.acknowledged_at,
            overdue=v.overdue,
            late=v.late,
        )
        for v in views
    ]
    return HoldNoticePage(items=items, next_after=cursor)


HOLD_NOTICE_ACK_DOC = (
    f"{BODY_DOC} The acknowledgement (`hold_notice_ack`) quotes the notice's `message_id` as "
    "`notice_id` and one of the mandate refs it listed. A hold notice is acknowledged once: a second "
    "acknowledgement answers 409 `hold_notice.already_acknowledged`; another office's notice answers "
    "404 `hold_notice.not_found`. From the day it is acknowledged, a coercive act reported on the case "
    "before the hold is lifted is flagged `hold_breached`."
)


@router.post(
    "/hold-notice-acks",
    tags=["offices"],
    status_code=202,
    summary="Acknowledge a hold notice (hold_notice_ack), by its deadline ack_due_by",
    description=HOLD_NOTICE_ACK_DOC,
    responses=RECEIPT_RESPONSES,
    openapi_extra=message_body("hold_notice_ack"),
)
async def post_hold_notice_ack(
    request: Request, office: LimitedOffice, session: SessionDep, key: IdempotencyKey = None
) -> Response:
    return await receive_office_message(request, office, session, key, kind="hold_notice_ack")
