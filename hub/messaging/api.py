"""Routes of the messaging module: the pull inbox of offices without AMQP, and the key that
verifies the hub's receipts."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from hub.deps import CurrentOffice, SessionDep
from hub.kit.clock import utcnow
from hub.kit.errors import NotFound
from hub.messaging.models import Status
from hub.messaging.repository import MessageRepository
from hub.messaging.service import record
from hub.messaging.signing import ALGORITHM

router = APIRouter(prefix="/v1", tags=["messaging"])


class InboxMessage(BaseModel):
    id: int
    message_id: str
    kind: str
    sender: str
    correlation_id: str | None
    content_type: str
    body_base64: str
    sha256: str
    created_at: datetime


class InboxPage(BaseModel):
    items: list[InboxMessage]
    next_after: int | None  # pass as ?after= to read the next page


class InboxAck(BaseModel):
    id: int
    acknowledged_at: datetime


class PublicKey(BaseModel):
    algorithm: str
    public_key_base64: str


@router.get("/inbox", response_model=InboxPage, summary="Messages waiting for this office, oldest first")
async def read_inbox(
    office: CurrentOffice,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, description="The last id already read")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> InboxPage:
    repo = MessageRepository(session)
    items = await repo.mailbox(office.code, after_id=after, limit=limit)
    messages = await repo.messages_by_pk([i.message_pk for i in items])
    page = [
        InboxMessage(
            id=item.id,
            message_id=(m := messages[item.message_pk]).message_id,
            kind=m.kind,
            sender=m.sender,
            correlation_id=m.correlation_id,
            content_type=m.content_type,
            body_base64=base64.b64encode(m.body).decode(),
            sha256=m.sha256,
            created_at=m.created_at,
        )
        for item in items
    ]
    return InboxPage(items=page, next_after=page[-1].id if len(page) == limit else None)


@router.post(
    "/inbox/{item_id}/ack", response_model=InboxAck, summary="Acknowledge a message: it leaves the inbox"
)
async def ack_inbox_item(item_id: int, office: CurrentOffice, session: SessionDep) -> InboxAck:
    repo = MessageRepository(session)
    item = await repo.mailbox_item(office.code, item_id)
    if item is None:
        raise NotFound(f"no message {item_id} in this office's inbox", code="inbox.not_found")
    if item.acked_at is None:  # acknowledging twice is harmless
        item.acked_at = utcnow()
        message = await repo.get(item.message_pk)
        if message is not None:
            await record(session, message, Status.ACKNOWLEDGED, actor=office.code)
    return InboxAck(id=item.id, acknowledged_at=item.acked_at)


@router.get(
    "/receipts/public-key", response_model=PublicKey, summary="The key that verifies the hub's receipts"
)
async def receipts_public_key(request: Request) -> PublicKey:
    return PublicKey(algorithm=ALGORITHM, public_key_base64=request.app.state.signer.public_key_b64())
