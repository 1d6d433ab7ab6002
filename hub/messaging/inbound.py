"""The one path of every message an office sends, whatever the transport (HTTP or AMQP):
decode by content type -> syntax (schema) -> the sender is the credential -> duplicate check ->
the kind's handler checks meaning and applies effects -> signed receipt. Refused input is kept raw
with a refused receipt and a negative acknowledgement for the office, and nothing else: the
handler's writes are rolled back to a savepoint."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from adapters.amqp import topology
from adapters.xml import codec
from adapters.xml.hardened import XmlRejected
from hub.kit.clock import utcnow
from hub.kit.db import RowBuffer
from hub.kit.errors import MAX_ERRORS, Conflict, ErrorItem, HubError, NotFound
from hub.messaging import service
from hub.messaging.models import Receipt, Status, StoredMessage
from hub.messaging.repository import MessageRepository
from hub.messaging.service import AGENCY_PARTY, Envelope
from hub.messaging.signing import ReceiptSigner
from hub.offices.models import Office
from hub.offices.repository import OfficeRepository
from schemas import v1

JSON = "application/json"
XML = "application/xml"
# What an office may send the agency; the agency's own kinds (mandate, receipt...) are refused.
OFFICE_KINDS = frozenset({"mandate_ack", "act_report", "fee_invoice", "cost_request", "hold_notice_ack"})

Handler = Callable[[AsyncSession, v1.MessageModel, StoredMessage, Office], Awaitable[None]]
# Loads, in a few queries, what the handler of a kind reads for many messages of that kind (a batch
# chunk), and returns a context in which the handler reads from it instead of querying per message.
Preloader = Callable[
    [AsyncSession, Office, Sequence[v1.MessageModel]], Awaitable[AbstractContextManager[object]]
]
# Domain use cases by kind (act reports, acknowledgements, invoices...). A kind without one is
# only routed: stored, receipted and forwarded to the agency.
HANDLERS: dict[str, Handler] = {}
PRELOADERS: dict[str, Preloader] = {}
# Readers of bodies that carry no v1 envelope (EN 16931 e-invoices, docs/adr/0004-invoices.md): each
# returns the message it read, with an envelope made up for the credential's office, or None when the
# body is not its form; it raises Refused with every error found.
Translator = Callable[[bytes, str, Office], v1.MessageModel | None]
TRANSLATORS: list[Translator] = []


def handles(kind: str, *, preload: Preloader | None = None) -> Callable[[Handler], Handler]:
    """Registers the use case that checks the meaning of a kind and applies its effects; it raises
    a HubError (with every error found) to refuse the message, before writing anything."""

    def register(handler: Handler) -> Handler:
        HANDLERS[kind] = handler
        if preload is not None:
            PRELOADERS[kind] = preload
        return handler

    return register


def translates(translator: Translator) -> Translator:
    """Registers a reader of a form without a v1 envelope, tried before ``decode``."""
    TRANSLATORS.append(translator)
    return translator


@dataclass(frozen=True)
class Received:
    raw: bytes
    content_type: str
    parent_id: uuid.UUID | None = None
    # The kinds the route that took it is for (POST /v1/act-reports: act reports); None: any kind an
    # office may send (POST /v1/messages, AMQP).
    kinds: frozenset[str] | None = None


@dataclass(frozen=True)
class Outcome:
    message: StoredMessage
    receipt: Receipt
    duplicate: bool  # the same (sender, message id) was applied before: this is its first receipt
    # Refused before its meaning was looked at: unreadable, or an envelope (sender, kind, version)
    # the hub cannot route. Over AMQP such a message is also kept in hub.dead.
    unreadable: bool = False
    status: int = 202  # the HTTP answer: 202 accepted, else the status of the refusal

    @property
    def accepted(self) -> bool:
        return self.receipt.accepted


class Refused(Exception):
    def __init__(self, errors: list[ErrorItem]) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors[:MAX_ERRORS]


def media_type(content_type: str) -> str:
    base = content_type.split(";", 1)[0].strip().lower()
    if base in ("text/xml", XML) or base.endswith("+xml"):
        return XML
    if base == JSON or base.endswith("+json"):
        return JSON
    return base


def decode(raw: bytes, content_type: str) -> v1.MessageModel:
    """Syntax: the bytes as a v1 message, or ``Refused`` with every error found."""
    kind = media_type(content_type)
    try:
        if kind == XML:
            return codec.decode(raw)  # type: ignore[return-value]
        if kind == JSON:
            return v1.parse_json(raw)  # type: ignore[return-value]
    except XmlRejected as exc:
        raise Refused([ErrorItem(e.path or "/", e.code, e.message, e.line) for e in exc.errors]) from exc
    except ValidationError as exc:
        raise Refused([ErrorItem(e.path, e.code, e.message) for e in v1.message_errors(exc)]) from exc
    raise Refused([ErrorItem("/", "content_type.unsupported", f"send {XML} or {JSON}, not {content_type!r}")])


def decode_from(office: Office, raw: bytes, content_type: str) -> v1.MessageModel:
    """``decode``, once the readers of other forms (``translates``) have looked at the bytes."""
    for translator in TRANSLATORS:
        message = translator(raw, content_type, office)
        if message is not None:
            return message
    return decode(raw, content_type)


def _envelope_errors(
    message: v1.MessageModel, office: Office, kinds: frozenset[str] | None = None
) -> list[ErrorItem]:
    env = message.envelope
    errors = []
    if env.sender != office.code:
        errors.append(
            ErrorItem(
                "/envelope/sender",
                "envelope.sender_mismatch",
                f"the sender is {env.sender} but the credential is office {office.code}'s",
            )
        )
    if env.recipient != AGENCY_PARTY:
        errors.append(
            ErrorItem("/envelope/recipient", "envelope.recipient_invalid", "offices send to AGENCY")
        )
    if env.kind not in OFFICE_KINDS:
        accepted = ", ".join(sorted(OFFICE_KINDS))
        errors.append(
            ErrorItem("/envelope/kind", "envelope.kind_not_accepted", f"offices may send: {accepted}")
        )
    elif kinds is not None and env.kind not in kinds:
        errors.append(
            ErrorItem(
                "/envelope/kind",
                "envelope.kind_not_for_route",
                f"this route takes {', '.join(sorted(kinds))}, not {env.kind}: send it to its own "
                "route or to POST /v1/messages",
            )
        )
    return errors


def receipt_message(receipt: Receipt, recipient: str) -> v1.Receipt:
    """The wire form of a stored receipt, as returned to the sender."""
    return v1.Receipt(
        envelope=v1.Envelope(
            message_id=f"RCPT-{receipt.message_pk.hex}",
            kind="receipt",
            version="1",
            sender=AGENCY_PARTY,
            recipient=recipient,
            sent_at=receipt.created_at or utcnow(),
            correlation_id=receipt.message_id,
        ),
        message_id=receipt.message_id,
        sha256=receipt.sha256,
        received_at=receipt.received_at,
        accepted=receipt.accepted,
        errors=[v1.ErrorItem(**e) for e in receipt.errors],
        signature=receipt.signature,
        signature_alg="Ed25519",
    )


class InboundProcessor:
    def __init__(self, signer: ReceiptSigner) -> None:
        self.signer = signer

    async def receive(
        self, session: AsyncSession, office: Office, received: Received, *, reply_receipt: bool = False
    ) -> Outcome:
        """Applies one message from ``office`` (the credential's). ``reply_receipt``: also send the
        receipt back as a message (AMQP senders; over HTTP it is the response body)."""
        outcome = await self._receive(session, office, received)
        if reply_receipt and not outcome.duplicate:
            await send_to_office(
                session, office, receipt_message(outcome.receipt, office.code), parent_id=outcome.message.id
            )
        return outcome

    async def receive_many(
        self, session: AsyncSession, office: Office, many: Sequence[Received]
    ) -> list[Outcome]:
        """Applies messages from ``office`` in order, each exactly as ``receive`` would, reading what
        their checks need (duplicates, the handlers' preloads) once for all of them."""
        decoded = [self._decode(office, received) for received in many]
        readable = [m for m in decoded if isinstance(m, v1.MessageModel)]
        with ExitStack() as preloaded:
            # Locks before the duplicate check: a kind's preload locks what its checks protect (act
            # reports: their mandates), other kinds lock their message ids. A concurrent copy of a
            # message then waits, and is answered as the duplicate it is (409, the first receipt).
            for kind in sorted({m.envelope.kind for m in readable} & PRELOADERS.keys()):
                of_kind = [m for m in readable if m.envelope.kind == kind]
                preloaded.enter_context(await PRELOADERS[kind](session, office, of_kind))
            unlocked = {m.envelope.message_id for m in readable if m.envelope.kind not in PRELOADERS}
            await MessageRepository(session).lock_message_ids(office.code, unlocked)
            applied = await service.applied_among(
                session, office.code, {m.envelope.message_id for m in readable}
            )
            outcomes = []
            for received, message in zip(many, decoded, strict=True):
                if isinstance(message, v1.MessageModel):
                    outcome = await self._apply(session, office, received, message, applied)
                else:
                    envelope, errors, status = message
                    outcome = await self._refuse(
                        session, office, received, envelope, errors, unreadable=True, status=status
                    )
                outcomes.append(outcome)
        return outcomes

    async def _receive(self, session: AsyncSession, office: Office, received: Received) -> Outcome:
        return (await self.receive_many(session, office, [received]))[0]

    def _decode(
        self, office: Office, received: Received
    ) -> v1.MessageModel | tuple[Envelope, list[ErrorItem], int]:
        """The message, or why it cannot be routed: (the envelope to store it under, errors, status)."""
        try:
            message = decode_from(office, received.raw, received.content_type)
        except Refused as refused:
            envelope = Envelope(f"unreadable-{uuid.uuid4().hex[:12]}", "unknown", office.code, AGENCY_PARTY)
            status = 415 if refused.errors[0].code == "content_type.unsupported" else 422
            return envelope, refused.errors, status
        env = message.envelope
        if errors := _envelope_errors(message, office, received.kinds):
            # Stored under the credential's office: a forged sender never gets a row in its name.
            forged = Envelope(
                env.message_id, env.kind, office.code, env.recipient, env.version, env.correlation_id
            )
            return forged, errors, 403 if errors[0].code == "envelope.sender_mismatch" else 422
        return message

    async def _apply(
        self,
        session: AsyncSession,
        office: Office,
        received: Received,
        message: v1.MessageModel,
        applied: dict[str, uuid.UUID],
    ) -> Outcome:
        """Applies one routable message; ``applied`` (message id -> stored message) is kept current."""
        env = message.envelope
        envelope = Envelope(
            env.message_id, env.kind, env.sender, env.recipient, env.version, env.correlation_id
        )
        if env.message_id in applied:
            if (rows := RowBuffer.of(session)) is not None:
                await rows.write()  # the first copy's receipt may be buffered, from this chunk
            repo = MessageRepository(session)
            earlier = await repo.get(applied[env.message_id])
            receipt = await repo.receipt_for(applied[env.message_id])
            assert earlier is not None and receipt is not None, "an applied message always has its receipt"
            return Outcome(earlier, receipt, duplicate=True, status=409)

        stored = await service.store_inbound(
            session, envelope, received.raw, received.content_type, parent_id=received.parent_id
        )
        try:
            if env.kind in PRELOADERS:
                await _apply_staged(session, message, stored, office)
            elif (rows := RowBuffer.of(session)) is not None:
                async with rows.paused(), session.begin_nested():
                    await _apply_effects(session, message, stored, office)
            else:
                async with session.begin_nested():
                    await _apply_effects(session, message, stored, office)
        except HubError as exc:
            errors = exc.errors or [ErrorItem("/", exc.code, exc.detail)]
            return await self._refuse(
                session, office, received, envelope, errors, stored=stored, status=exc.status
            )
        applied[env.message_id] = stored.id
        receipt = await service.issue_receipt(session, self.signer, stored, accepted=True)
        return Outcome(stored, receipt, duplicate=False)

    async def _refuse(
        self,
        session: AsyncSession,
        office: Office,
        received: Received,
        envelope: Envelope,
        errors: list[ErrorItem],
        *,
        stored: StoredMessage | None = None,
        unreadable: bool = False,
        status: int = 422,
    ) -> Outcome:
        if stored is None:
            stored = await service.store_inbound(
                session, envelope, received.raw, received.content_type, parent_id=received.parent_id
            )
        receipt = await service.issue_receipt(session, self.signer, stored, accepted=False, errors=errors)
        await self._negative_ack(session, office, stored, errors)
        return Outcome(stored, receipt, duplicate=False, unreadable=unreadable, status=status)

    async def _negative_ack(
        self, session: AsyncSession, office: Office, refused: StoredMessage, errors: list[ErrorItem]
    ) -> None:
        report = v1.ErrorReport(
            envelope=v1.Envelope(
                message_id=f"NACK-{refused.id.hex}",
                kind="error_report",
                version="1",
                sender=AGENCY_PARTY,
                recipient=office.code,
                sent_at=utcnow(),
                correlation_id=refused.message_id[:64],
            ),
            message_id=refused.message_id,
            sha256=refused.sha256,
            errors=[v1.ErrorItem(path=e.path[:500], code=e.code, message=e.message[:500]) for e in errors],
        )
        await send_to_office(session, office, report, parent_id=refused.id)


async def _apply_effects(
    session: AsyncSession, message: v1.MessageModel, stored: StoredMessage, office: Office
) -> None:
    handler = HANDLERS.get(message.envelope.kind)
    if handler is not None:
        await handler(session, message, stored, office)
    await service.mark_applied(session, stored)
    await forward_to_agency(session, stored)


async def _apply_staged(
    session: AsyncSession, message: v1.MessageModel, stored: StoredMessage, office: Office
) -> None:
    """A kind with a preloader has a handler that reads from its preload and refuses before staging
    anything, so it needs no savepoint: its writes stay in the session until the caller's flush,
    and many messages are written together. Checked: a refusal after a write is a bug."""
    staged = _staged_count(session)
    try:
        await _apply_effects(session, message, stored, office)
    except HubError:
        if _staged_count(session) != staged:
            raise RuntimeError(f"the {message.envelope.kind} handler wrote before refusing") from None
        raise


_STAGED = "hub.staged"


def _staged_count(session: AsyncSession) -> int:
    rows = RowBuffer.of(session)
    return int(session.sync_session.info.get(_STAGED, 0)) + (len(rows) if rows is not None else 0)


@event.listens_for(Session, "transient_to_pending")
def _count_staged(session: Session, _instance: object) -> None:
    """Counts objects added to a session (O(1), unlike measuring ``session.new``)."""
    session.info[_STAGED] = session.info.get(_STAGED, 0) + 1


async def forward_to_agency(session: AsyncSession, message: StoredMessage) -> None:
    """Routes an accepted office message to the agency's systems (``hub.agency``, key ``<kind>.received``)."""
    await service.enqueue_outbound(
        session,
        Envelope(
            message.message_id,
            message.kind,
            message.sender,
            AGENCY_PARTY,
            message.version,
            message.correlation_id,
        ),
        message.body,
        message.content_type,
        exchange=topology.AGENCY_EXCHANGE,
        routing_key=f"{message.kind}.received",
        parent_id=message.id,
    )


async def send_to_office(
    session: AsyncSession, office: Office, message: v1.MessageModel, *, parent_id: uuid.UUID | None = None
) -> None:
    """Queues a message for an office in its codec (canonical XML or JSON) on the outbox."""
    as_json = office.codec.startswith("json")
    body = v1.dump_json(message) if as_json else codec.encode(message)  # type: ignore[arg-type]
    env = message.envelope
    await service.enqueue_outbound(
        session,
        Envelope(env.message_id, env.kind, env.sender, env.recipient, env.version, env.correlation_id),
        body,
        JSON if as_json else XML,
        exchange=topology.OUTBOUND_EXCHANGE,
        routing_key=topology.office_routing_key(office.code),
        parent_id=parent_id,
    )


async def replay(
    session: AsyncSession, processor: InboundProcessor, message_pk: uuid.UUID, *, actor: str
) -> Outcome:
    """Runs a stored inbound message through validation again (e.g. refused because its mandate
    was unknown, and the mandate now exists). Already applied: its first receipt, nothing more."""
    repo = MessageRepository(session)
    stored = await repo.get(message_pk)
    if stored is None or stored.direction != "inbound":
        raise NotFound(f"no inbound message {message_pk}", code="message.not_found")
    office = await OfficeRepository(session).get_by_code(stored.sender)
    if office is None:
        raise Conflict(
            f"the sender {stored.sender} is not a registered office", code="message.sender_unknown"
        )
    await service.record(session, stored, Status.REPLAYED, actor=actor)
    return await processor.receive(
        session, office, Received(stored.body, stored.content_type, parent_id=stored.id)
    )
