"""Routes of case updates: staff record what changed on a case and read a case's updates; an office
acknowledges the updates it is sent (``case_update_ack``). Mounted by ``hub.app``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict

from hub.cases.updates import CaseUpdateIn
from hub.deps import SessionDep
from hub.kit.openapi import problems
from hub.mandates import service
from hub.mandates.holds_api import STAFF_ANSWERS, CaseRef, Staff
from hub.messaging.receiving import (
    BODY_DOC,
    RECEIPT_RESPONSES,
    IdempotencyKey,
    LimitedOffice,
    message_body,
    receive_office_message,
)

router = APIRouter(prefix="/v1", tags=["cases"])

_NOTICE: dict[str, Any] = {
    "office_code": "CJ75001",
    "message_id": "CUPD-5f0c2a7b1d4e4f6a9b8c7d6e5f4a3b2c",
    "sent_at": "2026-03-12T09:30:00Z",
    "ack_due_by": "2026-03-14T09:30:00Z",
    "acknowledged_at": "2026-03-12T15:05:00Z",
    "overdue": False,
}
_UPDATE: dict[str, Any] = {
    "id": 17,
    "update_id": "UPD-0b6f1c9e2d3a4b5c8d7e6f5a4b3c2d1e",
    "case_ref": "D-2026-000317",
    "kind": "payment_received",
    "reference": "CRM-2026-88412",
    "effective_on": "2026-03-11",
    "payment": {"amount_cents": 25000, "currency": "EUR", "received_on": "2026-03-11"},
    "comment": "Virement du débiteur reçu par l'agence.",
    "outstanding_cents": 98450,
    "currency": "EUR",
    "recorded_by": "handler@agence.example",
    "recorded_at": "2026-03-12T09:30:00Z",
    "notices": [_NOTICE],
    "ended_mandates": [],
}


class NoticeOut(BaseModel):
    office_code: str
    message_id: str  # the case_update's message id, quoted by the office's acknowledgement
    sent_at: datetime
    ack_due_by: datetime
    acknowledged_at: datetime | None = None
    overdue: bool  # not acknowledged, and its deadline has passed


class CaseUpdateOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_UPDATE]})

    id: int  # the list's cursor
    update_id: str
    case_ref: str
    kind: str
    reference: str
    effective_on: date
    payment: dict[str, Any] | None = None
    address: dict[str, Any] | None = None
    insolvency_kind: str | None = None
    comment: str | None = None
    outstanding_cents: int  # the balance once the update was applied
    currency: str
    recorded_by: str
    recorded_at: datetime
    notices: list[NoticeOut]  # one per office holding a live mandate on the case then
    ended_mandates: list[str]  # the mandates a payment clearing the balance ended (when recorded)


class CaseUpdatePage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_UPDATE]}]})

    items: list[CaseUpdateOut]
    next_after: int | None = None  # pass as ?after= to read the next page


def update_out(view: service.UpdateView) -> CaseUpdateOut:
    u = view.update
    payment = None
    if u.amount_cents is not None and u.received_on is not None:
        payment = {"amount_cents": u.amount_cents, "currency": u.currency, "received_on": u.received_on}
    return CaseUpdateOut(
        id=u.id,
        update_id=u.update_id,
        case_ref=view.case_ref,
        kind=u.kind,
        reference=u.reference,
        effective_on=u.effective_on,
        payment=payment,
        address=u.address,
        insolvency_kind=u.insolvency_kind,
        comment=u.comment,
        outstanding_cents=u.outstanding_cents,
        currency=u.currency,
        recorded_by=u.recorded_by,
        recorded_at=u.recorded_at,
        notices=[
            NoticeOut(
                office_code=n.office_code,
                message_id=n.notice.message_id,
                sent_at=n.notice.sent_at,
                ack_due_by=n.notice.ack_due_by,
                acknowledged_at=n.notice.acknowledged_at,
                overdue=n.overdue,
            )
            for n in view.notices
        ],
        ended_mandates=view.ended_mandates,
    )


CASE_ANSWERS = {**STAFF_ANSWERS, 404: "No case with this reference (`case.not_found`)"}


@router.post(
    "/cases/{ref}/updates",
    status_code=status.HTTP_201_CREATED,
    summary="Record a case update: payment, address, dispute, plan, death, insolvency, limitation",
    responses=problems(
        {
            **CASE_ANSWERS,
            409: "This `reference` is already recorded on the case (`case_update.duplicate`): a retry",
            422: "Invalid update, every error listed (e.g. `case_update.payment_exceeds_balance`)",
        }
    ),
)
async def record_update(ref: CaseRef, body: CaseUpdateIn, session: SessionDep, user: Staff) -> CaseUpdateOut:
    """Records what changed on a case after it was opened, with who (the staff token's user) and when,
    and applies it to the facts the rules read: a payment received adds to the payments (the balance
    falls), a new address replaces the debtor's, a dispute or payment plan is set or cleared (a
    dispute or plan holds coercive acts for review), the debtor's death and the limitation reached
    block every act, insolvency declared blocks enforcement and insolvency ended lifts that block.
    Every office holding a live mandate on the case is sent a `case_update` to acknowledge
    (`case_update_ack`) by `HUB_CASE_UPDATE_ACK_HOURS`. A payment that clears the balance also ends
    those mandates (`mandate_cancel`, cause `balance_cleared`); one above the balance is refused
    (422 `case_update.payment_exceeds_balance`). Staff only; every error listed, nothing written on a
    refusal; a retry with the same `reference` answers 409 and applies nothing.
    """
    return update_out(await service.record_update(session, ref, body, actor=user.email))


@router.get(
    "/cases/{ref}/updates",
    summary="A case's updates, in the order recorded, with each office's acknowledgement",
    responses=problems(CASE_ANSWERS),
)
async def list_updates(
    ref: CaseRef,
    session: SessionDep,
    _user: Staff,
    after: Annotated[int | None, Query(description="The last `id` already read")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CaseUpdatePage:
    """The updates recorded on a case, oldest first, `limit` at a time after `after`: what changed, who
    recorded it and when, the balance after it, and for each office it was sent to, its
    acknowledgement deadline and when it acknowledged (`overdue` when not by then). Staff only.
    """
    views = await service.list_updates(session, ref, after=after, limit=limit)
    items = [update_out(v) for v in views]
    return CaseUpdatePage(items=items, next_after=items[-1].id if len(items) == limit else None)


CASE_UPDATE_ACK_DOC = (
    f"{BODY_DOC} The acknowledgement (`case_update_ack`) quotes the case update's `message_id` as "
    "`update_id` and its `case_ref`. A case update is acknowledged once: a second acknowledgement "
    "answers 409 `case_update.already_acknowledged`; another office's update answers 404 "
    "`case_update.not_found`. A late one is recorded, and staff see when it came."
)


@router.post(
    "/case-update-acks",
    tags=["offices"],
    status_code=202,
    summary="Acknowledge a case update (case_update_ack), by its deadline ack_due_by",
    description=CASE_UPDATE_ACK_DOC,
    responses=RECEIPT_RESPONSES,
    openapi_extra=message_body("case_update_ack"),
)
async def post_case_update_ack(
    request: Request, office: LimitedOffice, session: SessionDep, key: IdempotencyKey = None
) -> Response:
    return await receive_office_message(request, office, session, key, kind="case_update_ack")
