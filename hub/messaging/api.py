"""Routes of the messaging module: the pull inbox of offices without AMQP, the message store
(an office sees only what it sent or received; staff see all), operators' resend, and the key
that verifies the hub's receipts."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from hub.deps import CurrentCaller, CurrentOffice, SessionDep, staff_with
from hub.kit.clock import utcnow
from hub.kit.errors import NotFound
from hub.kit.openapi import problems
from hub.kit.pagination import DEFAULT_LIMIT, Limit, Page, fetch, page_of
from hub.messaging import inbound, sealing, service
from hub.messaging.models import Status, StoredMessage
from hub.messaging.receiving import (
    OFFICE_MESSAGE_BODY,
    RECEIPT_RESPONSES,
    IdempotencyKey,
    LimitedOffice,
    receipt_response,
    receive_office_message,
)
from hub.messaging.repository import MessageRepository
from hub.messaging.service import record
from hub.messaging.signing import ALGORITHM, ReceiptKeys
from hub.offices.models import Office
from hub.offices.repository import OfficeRepository
from hub.staff.models import Role, StaffUser
from schemas import v1

router = APIRouter(prefix="/v1", tags=["messaging"])
MAX_ID = 2**63 - 1  # ids are 64-bit integers in every database
NO_KEY = "No API key or staff token, or one unknown or revoked"
ERASED = "The message's case was erased (`message.erased`): its content is gone, its receipt stays"


def _inbox_example() -> dict[str, Any]:
    """The inbox as an office reads it: the sample mandate cancellation, XML, waiting."""
    body = (v1.SAMPLES_DIR / "valid" / "mandate_cancel.xml").read_bytes()
    item = {
        "id": 41,
        "message_id": "HUB-CNL-2026-0000009",
        "kind": "mandate_cancel",
        "sender": "AGENCY",
        "correlation_id": "M-2026-000042",
        "content_type": "application/xml",
        "body_base64": base64.b64encode(body).decode(),
        "sha256": hashlib.sha256(body).hexdigest(),
        "created_at": "2026-03-10T08:00:00Z",
    }
    return {"items": [item], "next_after": 41}


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
    model_config = ConfigDict(json_schema_extra={"examples": [_inbox_example()]})

    items: list[InboxMessage]
    next_after: int | None  # pass as ?after= to read the next page


class InboxAck(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": 41, "acknowledged_at": "2026-03-10T08:05:12Z"}]}
    )

    id: int
    acknowledged_at: datetime


# The key of HUB_SECRET_KEY=sample (tests/hub/acts/test_office_receipts.py verifies the receipt
# samples with it), and one of a secret it replaced.
_SAMPLE_KEY = {
    "key_id": "b839416518ed7149",
    "algorithm": "Ed25519",
    "public_key_base64": "Sf+BOy5y7uOxYuDN1SXc1YSxbBzRCQ1Qksw3mpsXO+s=",
}
_PREVIOUS_SAMPLE_KEY = {
    "key_id": "6fe87ddf1ea34b8e",
    "algorithm": "Ed25519",
    "public_key_base64": "4Hn5e74bbrP8Pwa151nUAccTYQEy9PxVmSl6YL6Ys0s=",
}


class PublicKey(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_SAMPLE_KEY]})

    key_id: str
    algorithm: str
    public_key_base64: str


class PublishedKey(PublicKey):
    model_config = ConfigDict(json_schema_extra={"examples": [{**_SAMPLE_KEY, "current": True}]})

    current: bool


class PublicKeyList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"items": [{**_SAMPLE_KEY, "current": True}, {**_PREVIOUS_SAMPLE_KEY, "current": False}]}
            ]
        }
    )

    items: list[PublishedKey]


class MessageSummary(BaseModel):
    id: uuid.UUID
    direction: str
    message_id: str
    kind: str
    sender: str
    recipient: str
    correlation_id: str | None
    parent_id: uuid.UUID | None
    status: str
    sha256: str
    created_at: datetime


class MessagePage(Page[MessageSummary, uuid.UUID]):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": "7a1c2e9b-4d3f-4b8a-9e6d-1f2a3b4c5d6e",
                            "direction": "inbound",
                            "message_id": "CJ75001-AR-2026-0000117",
                            "kind": "act_report",
                            "sender": "CJ75001",
                            "recipient": "AGENCY",
                            "correlation_id": "M-20261204-FC56DCD94D",
                            "parent_id": "0c9b8a7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d",
                            "status": "acknowledged",
                            "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                            "created_at": "2026-12-04T09:12:44Z",
                        }
                    ],
                    "next_after": "7a1c2e9b-4d3f-4b8a-9e6d-1f2a3b4c5d6e",
                }
            ]
        }
    )


class LifecycleStep(BaseModel):
    status: str
    at: datetime
    actor: str
    detail: str | None


class ReceiptOut(BaseModel):
    message_id: str
    sender: str
    sha256: str
    received_at: datetime
    accepted: bool
    errors: list[dict[str, Any]]
    signature: str
    signature_alg: Literal["Ed25519", "Ed25519-Merkle"]
    # A batch record's receipt (``Ed25519-Merkle``): its inclusion proof in its chunk's signed Merkle
    # root, in the v1 form (``v1.ReceiptProof``, docs/adr/0006-batch-receipts.md); null for a receipt
    # signed alone.
    proof: v1.ReceiptProof | None = None
    # The id of the key that signed (GET /v1/receipts/public-keys); null on receipts signed before
    # key ids, which verify with any published key.
    key_id: str | None = None


class MessageDetail(MessageSummary):
    lifecycle: list[LifecycleStep]
    receipt: ReceiptOut | None
    children: list[uuid.UUID]


def _summary(m: StoredMessage) -> MessageSummary:
    return MessageSummary.model_validate(m, from_attributes=True)


@router.get(
    "/inbox",
    response_model=InboxPage,
    summary="Messages waiting for this office, oldest first",
    responses=problems({401: NO_KEY, 422: "Invalid query, every error listed"}),
)
async def read_inbox(
    office: CurrentOffice,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="The last id already read")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> InboxPage:
    """The messages the hub holds for the calling office (mandates, cancellations, hold notices, cost
    decisions, invoice disputes...), oldest first, `limit` at a time after the id `after`. Each stays
    until acknowledged with `POST /v1/inbox/{item_id}/ack`; poll with the last id read: items become
    readable in id order, and a message the hub sends again comes back under a new id, so that poll
    never passes one. Office API key only.
    """
    repo = MessageRepository(session)
    items = await repo.mailbox(office.code, after_id=after, limit=limit)
    messages = await repo.messages_by_pk([i.message_pk for i in items])
    bodies = await sealing.open_bodies(session, list(messages.values()))
    page = [
        InboxMessage(
            id=item.id,
            message_id=(m := messages[item.message_pk]).message_id,
            kind=m.kind,
            sender=m.sender,
            correlation_id=m.correlation_id,
            content_type=m.content_type,
            # A message of a case erased since it was queued: empty (erasure takes it out of the inbox).
            body_base64=base64.b64encode(bodies[m.id] or b"").decode(),
            sha256=m.sha256,
            created_at=m.created_at,
        )
        for item in items
    ]
    return InboxPage(items=page, next_after=page[-1].id if len(page) == limit else None)


@router.post(
    "/inbox/{item_id}/ack",
    response_model=InboxAck,
    summary="Acknowledge a message: it leaves the inbox",
    responses=problems({401: NO_KEY, 404: "No such message in this office's inbox", 422: "Not a valid id"}),
)
async def ack_inbox_item(
    item_id: Annotated[int, Path(ge=1, le=MAX_ID)], office: CurrentOffice, session: SessionDep
) -> InboxAck:
    """Tells the hub the office has stored an inbox message: it leaves the inbox and the message is marked
    acknowledged. Acknowledging twice is harmless; an id not in this office's inbox answers 404. Office
    API key only.
    """
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
    "/messages",
    response_model=MessagePage,
    summary="Search the message store, a page at a time",
    responses=problems({401: NO_KEY, 422: "Invalid query, every error listed"}),
)
async def list_messages(
    caller: CurrentCaller,
    session: SessionDep,
    message_id: str | None = None,
    correlation_id: str | None = None,
    office: Annotated[str | None, Query(description="Sender or recipient (staff only)")] = None,
    kind: str | None = None,
    status: Status | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: Annotated[uuid.UUID | None, Query(description="The id of the last message already read")] = None,
    limit: Limit = DEFAULT_LIMIT,
) -> MessagePage:
    """Searches inbound and outbound messages by message id, correlation id, kind, status and time window,
    oldest first, `limit` at a time after the message `after` (the answer's `next_after`; null on the
    last page). An office sees only the messages it sent or received; staff see all and may filter by
    `office`.
    """
    party = caller.code if isinstance(caller, Office) else office
    found = await MessageRepository(session).find(
        message_id=message_id,
        correlation_id=correlation_id,
        party=party,
        kind=kind,
        status=status.value if status else None,
        since=since,
        until=until,
        after=after,
        limit=fetch(limit),
    )
    page, cursor = page_of(found, limit, lambda m: m.id)
    return MessagePage(items=[_summary(m) for m in page], next_after=cursor)


async def _visible_message(session: SessionDep, caller: Office | StaffUser, ref: str) -> StoredMessage:
    """By the hub's id, or (for an office) by the message id it chose. Others' messages are 404."""
    repo = MessageRepository(session)
    message: StoredMessage | None = None
    try:
        message = await repo.get(uuid.UUID(ref))
    except ValueError:
        if isinstance(caller, Office):
            found = await repo.find(message_id=ref, party=caller.code, limit=1)
            message = found[0] if found else None
    if message is None or (
        isinstance(caller, Office) and caller.code not in (message.sender, message.recipient)
    ):
        raise NotFound(f"no message {ref}", code="message.not_found")
    return message


@router.get(
    "/messages/{ref}",
    response_model=MessageDetail,
    summary="A message, its lifecycle and its receipt",
    responses=problems({401: NO_KEY, 404: "No such message, or not this office's", 422: "Invalid request"}),
)
async def get_message(ref: str, caller: CurrentCaller, session: SessionDep) -> MessageDetail:
    """One message by the hub's id (UUID) or, for an office, by the message id it chose: its headers,
    status, every lifecycle event (received, validated, delivered, acknowledged...) and, for an inbound
    message, the signed receipt the hub returned. Another office's message answers 404.
    """
    message = await _visible_message(session, caller, ref)
    repo = MessageRepository(session)
    receipt = await repo.receipt_for(message.id)
    return MessageDetail(
        **_summary(message).model_dump(),
        lifecycle=[
            LifecycleStep.model_validate(e, from_attributes=True) for e in await repo.events(message.id)
        ],
        receipt=ReceiptOut.model_validate(receipt, from_attributes=True) if receipt else None,
        children=[c.id for c in await repo.children(message.id)],
    )


@router.get(
    "/messages/{ref}/raw",
    summary="A message's content, exactly as received or sent",
    response_class=Response,
    responses={
        200: {
            "description": "The message as received or sent, in its own content type (XML or JSON)",
            "content": {
                "application/json": {
                    "schema": {"type": "object"},
                    "example": {"envelope": {"kind": "mandate"}},
                },
            },
        },
        **problems(
            {
                401: NO_KEY,
                404: "No such message, or not this office's",
                410: ERASED,
                422: "Invalid request",
            }
        ),
    },
)
async def get_message_raw(ref: str, caller: CurrentCaller, session: SessionDep) -> Response:
    """The bytes of one message as the hub received or sent them, whose SHA-256 is the `sha256` of the
    message and of its signed receipt. A message of an erased case answers 410 `message.erased`: its
    personal data is gone, while its hash and receipt still verify. Another office's message answers 404.
    """
    message = await _visible_message(session, caller, ref)
    body = await sealing.open_body(session, message)
    return Response(body, media_type=message.content_type)


@router.post(
    "/messages/{message_pk}/resend",
    response_model=MessageSummary,
    status_code=202,
    summary="Send an outbound message again, with the same message id (admin)",
    responses=problems(
        {
            401: NO_KEY,
            403: "Not an admin",
            404: "No such outbound message",
            410: ERASED,
            422: "Not a UUID",
        }
    ),
)
async def resend_message(
    message_pk: uuid.UUID, session: SessionDep, user: Annotated[StaffUser, staff_with(Role.ADMIN)]
) -> MessageSummary:
    """Queues an outbound message for delivery again with its original message id, so the office can
    deduplicate it; used when an office lost a message. Staff with the admin role only; 404 for an
    unknown or inbound message.
    """
    entry = await service.resend(session, message_pk, actor=user.email)
    message = await MessageRepository(session).get(entry.message_pk)
    assert message is not None
    return _summary(message)


@router.post(
    "/messages",
    status_code=202,
    summary="Send a message to the agency (act report, mandate acknowledgement, invoice, cost request)",
    description=(
        "The body is one v1 message, `application/xml` (canonical XML, `schemas/xsd/v1`) or "
        "`application/json` (`schemas/json/v1`). 202 returns the hub's signed receipt. A refusal "
        "is problem+json listing every error, with the signed receipt under `receipt`: 422 syntax "
        "or meaning, 403 sender other than the key's office, 404 unknown object, 415 other content "
        "types, 409 a message id already applied (its first receipt is returned)."
    ),
    responses=RECEIPT_RESPONSES,
    openapi_extra=OFFICE_MESSAGE_BODY,
)
async def send_message(
    request: Request, office: LimitedOffice, session: SessionDep, key: IdempotencyKey = None
) -> Response:
    return await receive_office_message(request, office, session, key)


@router.post(
    "/messages/{message_pk}/replay",
    summary="Run an inbound message through validation again (admin)",
    description="Answers like `POST /v1/messages`: 202 with the new receipt, or the refusal.",
    status_code=202,
    responses={**RECEIPT_RESPONSES, **problems({410: ERASED})},
)
async def replay_message(
    message_pk: uuid.UUID,
    request: Request,
    session: SessionDep,
    user: Annotated[StaffUser, staff_with(Role.ADMIN)],
) -> JSONResponse:
    outcome = await inbound.replay(session, request.app.state.processor, message_pk, actor=user.email)
    office = await OfficeRepository(session).get_by_code(outcome.message.sender)
    assert office is not None  # replay refuses unknown senders
    return receipt_response(outcome, office)


@router.get(
    "/receipts/public-key", response_model=PublicKey, summary="The key that verifies the hub's receipts"
)
async def receipts_public_key(request: Request) -> PublicKey:
    """The Ed25519 public key (base64) that signs the receipts the hub returns now, with its `key_id`
    (see schemas/README.md, 'Receipts'). Public: no credentials. A receipt names the key that signed
    it (`key_id`): after a key rotation, older receipts name a previous key, listed at
    `GET /v1/receipts/public-keys`.
    """
    current = request.app.state.receipt_keys.current
    return PublicKey(key_id=current.key_id, algorithm=ALGORITHM, public_key_base64=current.public_key_b64)


@router.get(
    "/receipts/public-keys",
    response_model=PublicKeyList,
    summary="Every key that verifies the hub's receipts, current and previous",
)
async def receipts_public_keys(request: Request) -> PublicKeyList:
    """Every Ed25519 public key the hub's receipts may name in `key_id`: the current one
    (`current: true`, the one of `GET /v1/receipts/public-key`) first, then the keys it replaced,
    newest first, so a receipt signed before a rotation still verifies. Verify a receipt with the key
    whose `key_id` it names; a receipt without `key_id` (signed before key ids) with any of them.
    Public: no credentials; offices keep the keys they fetched, and fetch again for an id they do
    not know.
    """
    keys: ReceiptKeys = request.app.state.receipt_keys
    return PublicKeyList(
        items=[
            PublishedKey(
                key_id=k.key_id, algorithm=k.algorithm, public_key_base64=k.public_key_b64, current=k.current
            )
            for k in keys.keys
        ]
    )
