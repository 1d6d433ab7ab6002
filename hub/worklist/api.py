"""Routes of the worklist: what needs a person today (staff), a reminder to the office about one
item (staff), its acknowledgement (the office, ``reminder_ack``), and a case's possible next acts
ranked by the creditor's expected net (staff). Mounted by ``hub.app``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hub.deps import SessionDep, staff_with
from hub.kit.clock import utcnow
from hub.kit.errors import ErrorItem, InvalidInput
from hub.kit.openapi import problems
from hub.messaging.inbound import Refused, decode
from hub.messaging.receiving import (
    BODY_DOC,
    RECEIPT_RESPONSES,
    IdempotencyKey,
    LimitedOffice,
    message_body,
    receive_office_message,
)
from hub.staff.models import Role, StaffUser
from hub.worklist import service
from hub.worklist.models import Reminder
from schemas import v1

router = APIRouter(prefix="/v1", tags=["worklist"])
Staff = Annotated[StaffUser, staff_with(Role.STAFF)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Ref = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:/-]{1,64}$")]
KindName = Literal[
    "stale_mandate",
    "mandate_ack_overdue",
    "hold_notice_ack_overdue",
    "unremitted",
    "invoice_disputed",
    "held_mandate",
    "cost_request",
]
STAFF_ANSWERS = {
    401: "No staff token, or one unknown or revoked; an office API key (`auth.not_staff_token`)",
    403: "A staff role without access to the worklist (`auth.role_forbidden`)",
}

_REMINDED: dict[str, Any] = {
    "message_id": "RMD-0c4e2f7a9b1d4c3e8f6a5b4c3d2e1f0a",
    "sent_by": "handler@agence.example",
    "sent_at": "2026-03-20T08:15:00Z",
    "ack_due_by": "2026-03-22T08:15:00Z",
    "acknowledged_at": "2026-03-20T13:40:00Z",
    "acknowledged": True,
    "ack_comment": "Saisie-attribution programmée le 24 mars.",
}
_ITEM: dict[str, Any] = {
    "id": "stale_mandate:2026-02-02:CJ75001:M-2026-000042",
    "kind": "stale_mandate",
    "office_code": "CJ75001",
    "case_ref": "D-2026-000317",
    "mandate_ref": "M-2026-000042",
    "since": "2026-02-02",
    "age_days": 46,
    "explanation": "Mandate M-2026-000042 has been quiet for 46 days since its last act reported on "
    "2026-02-02; this office's median gap between acts is 9 days, so the threshold is max(30, 3 x 9) = 30.",
    "remindable": True,
    "last_reminder": _REMINDED,
}


class LastReminderOut(BaseModel):
    message_id: str  # the reminder's id, quoted by the office's reminder_ack
    sent_by: str
    sent_at: datetime
    ack_due_by: datetime
    acknowledged_at: datetime | None = None
    acknowledged: bool
    ack_comment: str | None = None


class ItemOut(BaseModel):
    id: str = Field(description="The item's place in the list: pass the last one read as `after`")
    kind: str
    office_code: str
    case_ref: str | None = None
    mandate_ref: str | None = None
    invoice_number: str | None = None
    approval_id: str | None = None
    amount_cents: int | None = Field(None, description="Money held (unremitted), invoiced, or asked for")
    currency: str | None = None
    since: date = Field(description="The day it started waiting")
    age_days: int
    explanation: str = Field(description="Why it is on the list, with the rule applied, in one sentence")
    remindable: bool = Field(description="The office's to do: `POST /v1/reminders` may follow it up")
    last_reminder: LastReminderOut | None = None


class WorklistPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [_ITEM], "next_after": "stale_mandate:2026-02-02:CJ75001:M-2026-000042"}]
        }
    )

    items: list[ItemOut]
    next_after: str | None = Field(description="Pass as `after` for the next page; null on the last")


def _last(reminder: Reminder | None) -> LastReminderOut | None:
    if reminder is None:
        return None
    return LastReminderOut(
        message_id=reminder.message_id,
        sent_by=reminder.sent_by,
        sent_at=reminder.sent_at,
        ack_due_by=reminder.ack_due_by,
        acknowledged_at=reminder.acknowledged_at,
        acknowledged=reminder.acknowledged_at is not None,
        ack_comment=reminder.ack_comment,
    )


@router.get(
    "/worklist",
    response_model=WorklistPage,
    summary="What needs a person today across the offices, each with why (staff)",
    description=(
        "Every item waiting for a person today: mandates gone quiet against their office's usual pace "
        "(`stale_mandate`: no act for more than max(`HUB_WORKLIST_STALE_DAYS`, "
        "`HUB_WORKLIST_PACE_FACTOR` x the office's median gap between two acts on a mandate)), mandates "
        "not accepted or refused within `HUB_MANDATE_ACK_HOURS` (`mandate_ack_overdue`), hold notices not "
        "acknowledged by their deadline (`hold_notice_ack_overdue`), money collected and not remitted "
        "within `HUB_REMITTANCE_DEADLINE_DAYS` (`unremitted`, per case), disputed invoices "
        "(`invoice_disputed`), mandates held for approval (`held_mandate`) and offices' cost requests "
        "(`cost_request`) waiting for the agency's decision. Each has its office, case, mandate, the day "
        "it started waiting, its age in days, the rule in one sentence, and the last reminder sent to "
        "the office about it with its acknowledgement. By kind then the oldest first, `limit` at a time "
        "after the item id `after` (the answer's `next_after`); filters `kind` (repeatable) and `office`. "
        "Staff only; an unknown office answers 404 `office.not_found`."
    ),
    responses=problems(
        {
            **STAFF_ANSWERS,
            404: "No office with this code (`office.not_found`)",
            422: "Invalid query, every error listed",
        }
    ),
)
async def get_worklist(
    session: SessionDep,
    _user: Staff,
    kind: Annotated[
        list[KindName] | None, Query(description="Only these kinds (repeat the parameter)")
    ] = None,
    office: Annotated[str | None, Query(max_length=16, description="An office code")] = None,
    after: Annotated[str | None, Query(max_length=400, description="The last item id already read")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Items per page")] = 100,
) -> WorklistPage:
    views, cursor = await service.worklist(
        session, office_code=office, kinds=frozenset(kind) if kind else None, after=after, limit=limit
    )
    items = [
        ItemOut(
            id=v.item.id,
            kind=v.item.kind,
            office_code=v.item.office_code,
            case_ref=v.item.case_ref,
            mandate_ref=v.item.mandate_ref,
            invoice_number=v.item.invoice_number,
            approval_id=v.item.approval_id,
            amount_cents=v.item.amount_cents,
            currency=v.item.currency,
            since=v.item.since,
            age_days=v.age_days,
            explanation=v.item.explanation,
            remindable=v.item.remindable,
            last_reminder=_last(v.last_reminder),
        )
        for v in views
    ]
    return WorklistPage(items=items, next_after=cursor)


class ReminderIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "office": "CJ75001",
                    "topic": "stale_mandate",
                    "mandate_ref": "M-2026-000042",
                    "comment": "Pouvez-vous nous dire où en est la saisie-attribution ?",
                }
            ]
        },
    )

    office: Annotated[str, StringConstraints(min_length=1, max_length=16)] = Field(
        description="The office's code"
    )
    topic: KindName = Field(description="The worklist item's kind")
    mandate_ref: Ref | None = Field(None, description="For stale_mandate and mandate_ack_overdue")
    case_ref: Ref | None = Field(None, description="For hold_notice_ack_overdue and unremitted")
    invoice_number: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None, description="For invoice_disputed"
    )
    comment: Text | None = Field(None, description="Your own words to the office")
    force: bool = Field(False, description="Send even if this item was reminded today")


class ReminderOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **{k: v for k, v in _REMINDED.items() if k not in ("acknowledged_at", "ack_comment")},
                    "acknowledged": False,
                    "office_code": "CJ75001",
                    "topic": "stale_mandate",
                    "subject": "M-2026-000042",
                    "case_ref": "D-2026-000317",
                    "mandate_ref": "M-2026-000042",
                    "waiting_since": "2026-02-02",
                    "explanation": _ITEM["explanation"],
                    "comment": "Pouvez-vous nous dire où en est la saisie-attribution ?",
                    "forced": False,
                }
            ]
        }
    )

    message_id: str
    office_code: str
    topic: str
    subject: str
    case_ref: str | None = None
    mandate_ref: str | None = None
    invoice_number: str | None = None
    waiting_since: date
    explanation: str
    comment: str | None = None
    forced: bool
    sent_by: str
    sent_at: datetime
    ack_due_by: datetime
    acknowledged: bool


@router.post(
    "/reminders",
    status_code=status.HTTP_201_CREATED,
    summary="Remind an office of a worklist item (reminder), at most once a day unless forced",
    responses=problems(
        {
            **STAFF_ANSWERS,
            404: "No office with this code (`office.not_found`)",
            409: "This item was reminded today (`reminder.already_sent_today`): send with `force`",
            422: (
                "Invalid body, every error listed; the item is not on today's worklist "
                "(`reminder.not_on_worklist`); a topic the agency decides itself "
                "(`reminder.topic_not_for_office`)"
            ),
        }
    ),
)
async def post_reminder(body: ReminderIn, session: SessionDep, user: Staff) -> ReminderOut:
    """Sends the office a `reminder` about one item of today's worklist, through the outbox like
    every agency message: what the agency waits for (`topic`), the mandate, case or invoice, since
    when, and the worklist's explanation, with your `comment`; the office acknowledges it with a
    `reminder_ack` within `HUB_REMINDER_ACK_HOURS`. Kept with who sent it and when; the worklist item
    shows the last one and whether it was acknowledged. The same item reminded earlier the same day
    (UTC) answers 409 unless `force`; `held_mandate` and `cost_request` wait for the agency's own
    decision and are refused (422). Staff only.
    """
    data = service.ReminderIn(
        office_code=body.office,
        topic=body.topic,
        mandate_ref=body.mandate_ref,
        case_ref=body.case_ref,
        invoice_number=body.invoice_number,
        comment=body.comment,
        force=body.force,
    )
    reminder, code = await service.send_reminder(session, data, actor=user.email)
    return ReminderOut(
        message_id=reminder.message_id,
        office_code=code,
        topic=reminder.topic,
        subject=reminder.subject,
        case_ref=reminder.case_ref,
        mandate_ref=reminder.mandate_ref,
        invoice_number=reminder.invoice_number,
        waiting_since=reminder.waiting_since,
        explanation=reminder.explanation,
        comment=reminder.comment,
        forced=reminder.forced,
        sent_by=reminder.sent_by,
        sent_at=reminder.sent_at,
        ack_due_by=reminder.ack_due_by,
        acknowledged=reminder.acknowledged_at is not None,
    )


ReminderId = Annotated[
    str,
    Path(
        description="The reminder's `message_id`",
        examples=["RMD-0c4e2f7a9b1d4c3e8f6a5b4c3d2e1f0a"],
        pattern=r"^[A-Za-z0-9._:-]{1,64}$",
    ),
]
REMINDER_ACK_DOC = (
    f"{BODY_DOC} The acknowledgement (`reminder_ack`) quotes the reminder's `message_id` as `reminder_id`, "
    "the same as in the path (422 `reminder.id_mismatch` otherwise). A reminder is acknowledged once: a "
    "second acknowledgement answers 409 `reminder.already_acknowledged`; another office's reminder "
    "answers 404 `reminder.not_found`. Also accepted on `POST /v1/messages` and over AMQP."
)


@router.post(
    "/reminders/{reminder_id}/ack",
    tags=["offices"],
    status_code=202,
    summary="Acknowledge a reminder (reminder_ack), by its deadline ack_due_by",
    description=REMINDER_ACK_DOC,
    responses=RECEIPT_RESPONSES,
    openapi_extra=message_body("reminder_ack"),
)
async def post_reminder_ack(
    reminder_id: ReminderId,
    request: Request,
    office: LimitedOffice,
    session: SessionDep,
    key: IdempotencyKey = None,
) -> Response:
    try:
        message = decode(await request.body(), request.headers.get("content-type", ""))
    except Refused:
        message = None  # refused with every error by the inbound path below, with its receipt
    if isinstance(message, v1.ReminderAck) and message.reminder_id != reminder_id:
        text = f"the body acknowledges {message.reminder_id}, the path {reminder_id}"
        raise InvalidInput(
            text,
            code="reminder.id_mismatch",
            errors=[ErrorItem("/reminder_id", "reminder.id_mismatch", text)],
        )
    return await receive_office_message(request, office, session, key, kind="reminder_ack")


class NextActOut(BaseModel):
    act_code: str
    label: str
    status: Literal["open", "review", "blocked"] = Field(
        description="`open`: may be ordered; `review`: a person must approve it first; `blocked`: a hard "
        "legal block, never ordered"
    )
    cost_cents: int
    expected_recovery_cents: int
    expected_net_cents: int = Field(description="Expected money recovered less what the creditor bears")
    currency: str
    explanation: str = Field(description="The cost model's verdict in one sentence")
    reasons: list[dict[str, str]] = Field(description="Each guardrail or stop-loss met: code and message")
    details: list[str] = Field(description="The cost model's explanation, term by term")


class NextActsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_ref": "D-2026-000317",
                    "on": "2026-03-20",
                    "acts": [
                        {
                            "act_code": "BANK_GARNISHMENT",
                            "label": "Bank garnishment (saisie-attribution)",
                            "status": "open",
                            "cost_cents": 18940,
                            "expected_recovery_cents": 61200,
                            "expected_net_cents": 42260,
                            "currency": "EUR",
                            "explanation": "This act should cost 189.40 EUR and is expected to bring in "
                            "612.00 EUR: 422.60 EUR expected net to the creditor.",
                            "reasons": [],
                            "details": ["Rule 2026.1."],
                        },
                        {
                            "act_code": "SEIZURE_SALE",
                            "label": "Seizure and sale (saisie-vente)",
                            "status": "blocked",
                            "cost_cents": 21000,
                            "expected_recovery_cents": 0,
                            "expected_net_cents": -21000,
                            "currency": "EUR",
                            "explanation": "Flagged: this act would cost 210.00 EUR and is expected to bring "
                            "in 0.00 EUR; the creditor can expect to lose 210.00 EUR by ordering it.",
                            "reasons": [
                                {"code": "INSOLVENCY_PROCEEDINGS", "message": "Enforcement suspended."}
                            ],
                            "details": ["Rule 2026.1."],
                        },
                    ],
                }
            ]
        }
    )

    case_ref: str
    on: date
    acts: list[NextActOut] = Field(
        description="Ranked: by expected net, the highest first; blocked acts last"
    )


@router.get(
    "/cases/{ref}/next-acts",
    tags=["cases"],
    summary="A case's possible next acts ranked by the creditor's expected net, blocked ones with why",
    responses=problems(
        {
            **STAFF_ANSWERS,
            404: "No case with this reference (`case.not_found`), or no office with this code",
            422: "Invalid query",
        }
    ),
)
async def get_next_acts(
    ref: Annotated[str, Path(description="The case's reference", examples=["D-2026-000317"], max_length=64)],
    session: SessionDep,
    _user: Staff,
    office: Annotated[
        str | None, Query(max_length=16, description="Judge with this office's learned recovery")
    ] = None,
) -> NextActsOut:
    """Every act the agency could order next on the case (the outcomes of a visit, such as a PV de
    carence, are reported, never ordered), each judged by the hub's cost model as `POST /v1/acts/assess`
    judges one: its cost, expected recovery and the creditor's expected net, with the verdict and its
    terms; and by the guardrails. Ranked by expected net, the highest first, so staff can steer the
    office to the most efficient procedure. An act a hard guardrail blocks (insolvency, limitation,
    debtor deceased, no enforceable title...) is listed last as `blocked` with its reason rather than
    hidden; one a hold or the charter sends to review (vulnerable debtor, payment plan, dispute,
    pacing, stop-loss) is `review`. Staff only; nothing is recorded.
    """
    acts = await service.next_acts_of(session, ref, office_code=office)
    today = utcnow().date()
    return NextActsOut(
        case_ref=ref,
        on=today,
        acts=[
            NextActOut(
                act_code=a.act_code,
                label=a.label,
                status=a.status,
                cost_cents=a.cost_cents,
                expected_recovery_cents=a.expected_recovery_cents,
                expected_net_cents=a.expected_net_cents,
                currency=a.currency,
                explanation=a.explanation,
                reasons=[{"code": code, "message": message} for code, message in a.reasons],
                details=list(a.lines),
            )
            for a in acts
        ],
    )
