"""Routes of the remittances module: an office sends a remittance (one bank transfer of money it
collected, split per case) and reads its own; staff read every office's."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from hub.deps import CurrentCaller, SessionDep
from hub.kit.openapi import problems
from hub.messaging.receiving import (
    BODY_DOC,
    RECEIPT_RESPONSES,
    IdempotencyKey,
    LimitedOffice,
    message_body,
    receive_office_message,
)
from hub.offices.models import Office
from hub.remittances import service

router = APIRouter(prefix="/v1", tags=["remittances"])
NO_CREDENTIAL = "No office API key or staff token, or one unknown or revoked"

REMITTANCE_DOC = (
    f"{BODY_DOC} A `remittance` is one bank transfer (its reference, value date and currency) of "
    "money the office collected, split per case. Each line is posted to the ledger against what the "
    "office's act reports recorded as collected on that case, less what it already remitted. The "
    "remittance is all or nothing: 422 lists every failing line (`/lines/<i>/case_ref` "
    "`remittance.case_unknown`: a case the office holds no mandate on, unknown and another office's "
    "alike; `/lines/<i>/amount_cents` `remittance.above_collected`, with the amount asked and the "
    "amount available) and nothing is posted; 409 `remittance.duplicate_reference` for a bank "
    "reference the office already remitted; the same message id again answers 409 with its first "
    "receipt and is not posted twice."
)


class RemittanceLineOut(BaseModel):
    position: int  # 0-based, as /lines/<position> in the message
    case_ref: str
    amount_cents: int
    transaction_id: uuid.UUID  # the ledger transaction that posted it


class RemittanceOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b7f3c1e-6a52-4f0e-9d1a-3f5c2b7e8a90",
                    "office_code": "CJ75001",
                    "message_id": "CJ75001-REM-2026-0000009",
                    "bank_reference": "CJ75001-VIR-2026-0409",
                    "value_date": "2026-04-03",
                    "currency": "EUR",
                    "total_cents": 57550,
                    "received_at": "2026-04-02T08:15:03Z",
                    "lines": [
                        {
                            "position": 0,
                            "case_ref": "C-2026-000117",
                            "amount_cents": 45000,
                            "transaction_id": "5d1e9b7a-2c4f-4e8b-a0d3-6f7e8c9b1a24",
                        }
                    ],
                }
            ]
        }
    )

    id: uuid.UUID
    office_code: str
    message_id: str
    bank_reference: str
    value_date: date
    currency: str
    total_cents: int
    received_at: datetime
    lines: list[RemittanceLineOut] | None = None  # in the answer of one remittance


class RemittancePage(BaseModel):
    items: list[RemittanceOut]
    next_after: uuid.UUID | None  # pass as ?after= to read the next page


def remittance_out(view: service.RemittanceView) -> RemittanceOut:
    r = view.remittance
    return RemittanceOut(
        id=r.id,
        office_code=view.office_code,
        message_id=r.message_id,
        bank_reference=r.bank_reference,
        value_date=r.value_date,
        currency=r.currency,
        total_cents=r.total_cents,
        received_at=r.received_at,
        lines=None
        if view.lines is None
        else [
            RemittanceLineOut(
                position=line.position,
                case_ref=case_ref,
                amount_cents=line.amount_cents,
                transaction_id=line.transaction_id,
            )
            for line, case_ref in view.lines
        ],
    )


@router.post(
    "/remittances",
    tags=["offices"],
    status_code=202,
    summary="Remit money collected: one bank transfer split per case (remittance), all lines or none",
    description=REMITTANCE_DOC,
    responses=RECEIPT_RESPONSES,
    openapi_extra=message_body("remittance"),
)
async def post_remittance(
    request: Request, office: LimitedOffice, session: SessionDep, key: IdempotencyKey = None
) -> Response:
    return await receive_office_message(request, office, session, key, kind="remittance")


@router.get(
    "/remittances",
    summary="Remittances received: an office sees its own, staff see all",
    description=(
        "Remittances accepted, oldest id first, `limit` at a time after the id `after` (the answer's "
        "`next_after`). An office API key sees only its own; a staff token sees every office's, or "
        "one office's with `office`. Each line is at `GET /v1/remittances/{id}`."
    ),
    responses=problems({401: NO_CREDENTIAL, 422: "Invalid query, every error listed"}),
)
async def list_remittances(
    session: SessionDep,
    caller: CurrentCaller,
    office: Annotated[str | None, Query(max_length=16, description="An office code (staff)")] = None,
    after: Annotated[uuid.UUID | None, Query(description="The last id already read")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> RemittancePage:
    own = caller if isinstance(caller, Office) else None
    views = await service.list_remittances(
        session, office=own, office_code=None if own is not None else office, after=after, limit=limit
    )
    items = [remittance_out(view) for view in views]
    return RemittancePage(items=items, next_after=items[-1].id if len(items) == limit else None)


@router.get(
    "/remittances/{remittance_id}",
    summary="One remittance with its lines (an office: its own)",
    description=(
        "One remittance with each line's case, amount (integer cents) and the ledger transaction that "
        "posted it. Another office's answers 404, like an unknown one."
    ),
    responses=problems(
        {401: NO_CREDENTIAL, 404: "No such remittance, or another office's", 422: "Not a UUID"}
    ),
)
async def get_remittance(
    remittance_id: uuid.UUID, session: SessionDep, caller: CurrentCaller
) -> RemittanceOut:
    office = caller if isinstance(caller, Office) else None
    return remittance_out(await service.remittance_for(session, remittance_id, office))
