"""The one path of every message an office sends, whatever carried it (HTTP, AMQP, a batch file,
``hub replay``, ``hub dead requeue``): read (a translator for a form without a v1 envelope, else
decode by content type) -> syntax (schema) -> the sender is the credential -> duplicate check ->
the kind's preloader reads, once for the whole set, what its checks need -> the kind's handler
checks meaning and applies effects -> signed receipt. Refused input is kept raw with a refused
receipt and a negative acknowledgement for the office, and nothing else: the handler's writes are
rolled back to a savepoint, or, for a kind that checks before it writes, were never made.

Nothing registers itself here: ``hub.bootstrap`` builds the processor from an explicit table of
kinds (docs/pipeline.md), and every entry point gets it from there. What a step needs is an
argument (``Delivery``), what it finds is its return value or the typed error it raises."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import structlog
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.xml import codec
from adapters.xml.hardened import XmlRejected
from hub.kit.db import RowBuffer
from hub.kit.errors import MAX_ERRORS, Conflict, ErrorItem, HubError, InvalidInput, NotFound
from hub.messaging import outbound, sealing, service
from hub.messaging.models import Status
from hub.messaging.outbound import JSON, XML
from hub.messaging.repository import MessageRepository
from hub.messaging.service import AGENCY_PARTY, Envelope, InboundMessage, IssuedReceipt
from hub.messaging.signing import ReceiptSigner
from hub.observability import metrics
from hub.offices.models import Office
from hub.offices.repository import OfficeRepository
from schemas import v1

log = structlog.get_logger()
__all__ = ["JSON", "OFFICE_KINDS", "XML", "Delivery", "InboundProcessor", "KindHandling", "Reading"]

# What an office may send the agency; the agency's own kinds (mandate, receipt...) are refused.
OFFICE_KINDS = frozenset(
    {
        "mandate_ack",
        "act_report",
        "fee_invoice",
        "cost_request",
        "hold_notice_ack",
        "case_update_ack",
        "remittance",
        "reminder_ack",
    }
)


@dataclass(frozen=True)
class Reading:
    """What a reader made of a body: the message, or None when it cannot be read; ``errors``: what
    it found wrong. A message read with errors is refused with them and its handler's own, so
    every error is listed at once (an e-invoice whose seller is not the sending office)."""

    message: v1.MessageModel | None
    errors: list[ErrorItem] = field(default_factory=list)


# A reader of bodies that carry no v1 envelope (EN 16931 e-invoices, docs/adr/0004-invoices.md): the
# message it read, with an envelope made up for the credential's office, or None when the body is
# not its form.
Translator = Callable[[bytes, str, Office], Reading | None]
# The case each message concerns (None: none, or several), in order: its stored body is sealed with
# that case's key (docs/adr/0015-personal-data.md). Reads what it needs for the whole set at once.
CaseResolver = Callable[[AsyncSession, Sequence[v1.MessageModel]], Awaitable[list[uuid.UUID | None]]]
# Whether reading a body is CPU work to do in a worker thread, off the event loop (an e-invoice,
# checked by the official EN 16931 stylesheets): given the body and its content type.
SlowBody = Callable[[bytes, str], bool]


def _never(raw: bytes, content_type: str) -> bool:
    return False


@dataclass(frozen=True)
class Delivery:
    """One routable office message, as its kind's handler receives it."""

    message: v1.MessageModel
    stored: InboundMessage  # a batch chunk's record: a row of its buffer (``service.StagedMessage``)
    office: Office  # the credential's, which is the envelope's sender
    found: list[ErrorItem] = field(default_factory=list)  # what reading it found wrong
    preloaded: Any = None  # what the kind's preloader read for the set this message came in


# Checks the meaning of a message and applies its effects; raises a HubError listing every error
# found to refuse it. Returns the id of the invoice a fee invoice recorded, which its receipt names
# (``invoice_id``); None for every other kind.
Handler = Callable[[AsyncSession, Delivery], Awaitable[uuid.UUID | None]]
# Reads, in a few queries, what the handler of a kind reads for many messages of that kind (a
# batch chunk, or a set of one); its result is each delivery's ``preloaded``.
Preloader = Callable[[AsyncSession, Office, Sequence[v1.MessageModel]], Awaitable[object]]
# The case of a message as its kind's preload found it, that case's key remembered with it
# (``sealing.remember_keys``); None: not found there, the case resolver looks.
PreloadedCase = Callable[[Any, v1.MessageModel], uuid.UUID | None]
# The message ids of a set of one kind applied already (message id -> the stored message), as its
# preload read them after locking them; None: not read there, the processor reads them.
PreloadedApplied = Callable[[Any], Mapping[str, uuid.UUID] | None]


@dataclass(frozen=True)
class KindHandling:
    """How the hub applies one kind of office message."""

    handle: Handler
    preload: Preloader | None = None
    # False: the handler refuses before it writes anything (it checks from its preload first), so a
    # refusal needs no savepoint and a batch chunk writes the rows of its messages together.
    savepoint: bool = True
    # True: the preloader locks, before the duplicate check, the message ids and everything a unique
    # row of the kind depends on (act reports: their mandates, their references), so a concurrent
    # copy waits and then answers as the duplicate it is: ``receive`` needs no savepoint for it.
    locks_first: bool = False
    # The case of each message, from what the preloader read (act reports: their mandates, read
    # with their cases' keys): the case resolver then sends no query for them.
    case_of: PreloadedCase | None = None
    # The messages' inbox entries, read by the preloader with its other reads once its locks are held
    # (act reports on PostgreSQL: one statement for all): the processor then reads no inbox for them.
    applied_of: PreloadedApplied | None = None


@dataclass(frozen=True)
class Received:
    raw: bytes
    content_type: str
    parent_id: uuid.UUID | None = None
    # The kinds the route that took it is for (POST /v1/act-reports: act reports); None: any kind an
    # office may send (POST /v1/messages, AMQP).
    kinds: frozenset[str] | None = None
    # The message already read from ``raw``'s element where it was parsed (a batch file's record):
    # not parsed a second time. None: read from ``raw``.
    decoded: v1.MessageModel | None = None
    # What carried it, for the metrics and logs: http, amqp, batch or replay.
    transport: str = "http"


@dataclass(frozen=True)
class Outcome:
    message: InboundMessage
    receipt: IssuedReceipt  # a batch chunk's record's: the values of its staged row
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
            return codec.decode(raw)
        if kind == JSON:
            return v1.parse_json(raw)
    except XmlRejected as exc:
        raise Refused([ErrorItem(e.path or "/", e.code, e.message, e.line) for e in exc.errors]) from exc
    except ValidationError as exc:
        raise Refused([ErrorItem(e.path, e.code, e.message) for e in v1.message_errors(exc)]) from exc
    raise Refused([ErrorItem("/", "content_type.unsupported", f"send {XML} or {JSON}, not {content_type!r}")])


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


class InboundProcessor:
    """Applies office messages; built by ``hub.bootstrap.inbound_processor`` with the handling of
    each kind an office may send and the readers of other forms."""

    def __init__(
        self,
        signer: ReceiptSigner,
        *,
        kinds: Mapping[str, KindHandling],
        translators: Sequence[Translator] = (),
        slow_body: SlowBody = _never,
        cases_of: CaseResolver | None = None,
    ) -> None:
        unknown = set(kinds) - OFFICE_KINDS
        if unknown:
            raise ValueError(f"offices do not send {', '.join(sorted(unknown))}")
        self.signer = signer
        self.kinds = dict(kinds)
        self.translators = tuple(translators)
        self.slow_body = slow_body
        self.cases_of = cases_of

    async def receive(
        self, session: AsyncSession, office: Office, received: Received, *, reply_receipt: bool = False
    ) -> Outcome:
        """Applies one message from ``office`` (the credential's). ``reply_receipt``: also send the
        receipt back as a message (AMQP senders, replays; over HTTP it is the response body); for a
        duplicate sent over AMQP, the first receipt again (``outbound.resend_receipt``).

        On PostgreSQL the message's writes are flushed in a savepoint: a concurrent copy committed
        meanwhile (its inbox row, or a reference only one message may use) fails this flush rather
        than the caller's commit; the message is then read again, and answers as the duplicate it
        is (409 with the first receipt) instead of an error. Nothing is applied twice either way.
        A kind whose preloader locks first (``KindHandling.locks_first``: act reports) needs none:
        the copy waits on its locks. SQLite has one writer at a time, so no copy commits in between."""
        read = [await self._read_off_loop(office, received)]
        first = read[0]
        if isinstance(first, tuple) or first.message is not None:  # later log lines name the message
            envelope = first[0] if isinstance(first, tuple) else first.message.envelope  # type: ignore[union-attr]
            structlog.contextvars.bind_contextvars(message_id=envelope.message_id, office=office.code)
        if self._locks_first(read[0]) and RowBuffer.of(session) is None:
            # No savepoint to roll back, so its insert-only rows go through a row buffer, as a
            # batch chunk's do: no ORM object for each, one statement for them all (PostgreSQL; SQLite
            # one per table).
            rows = RowBuffer.open(session, one_statement=True)
            try:
                outcome = (await self._process(session, office, [received], read))[0]
                await rows.write()
            finally:
                rows.close()
        elif session.get_bind().dialect.name != "postgresql":
            outcome = (await self._process(session, office, [received], read))[0]
        else:
            try:
                async with session.begin_nested():
                    outcome = (await self._process(session, office, [received], read))[0]
                    await session.flush()
            except IntegrityError:
                outcome = (await self._process(session, office, [received], read))[0]
        if reply_receipt and outcome.duplicate and received.transport == "amqp":
            # The office sent it again: it saw no receipt. (An operator's replay or requeue of a
            # message applied already is told so, and sends nothing.)
            await outbound.resend_receipt(session, office, outcome.receipt, parent_id=outcome.message.id)
        elif reply_receipt and not outcome.duplicate:
            await outbound.send_receipt(session, office, outcome.receipt, parent_id=outcome.message.id)
        _account(office, received, outcome)
        return outcome

    def _locks_first(self, reading: Reading | tuple[Envelope, list[ErrorItem], int]) -> bool:
        if not isinstance(reading, Reading) or reading.message is None:
            return False
        handling = self.kinds.get(reading.message.envelope.kind)
        return handling is not None and handling.locks_first

    async def receive_many(
        self, session: AsyncSession, office: Office, many: Sequence[Received]
    ) -> list[Outcome]:
        """Applies messages from ``office`` in order, each exactly as ``receive`` would, reading what
        their checks need (duplicates, the kinds' preloads) once for all of them."""
        read = [await self._read_off_loop(office, received) for received in many]
        outcomes = await self._process(session, office, many, read)
        for received, outcome in zip(many, outcomes, strict=True):
            _account(office, received, outcome)
        return outcomes

    async def _process(
        self,
        session: AsyncSession,
        office: Office,
        many: Sequence[Received],
        read: Sequence[Reading | tuple[Envelope, list[ErrorItem], int]],
    ) -> list[Outcome]:
        """Applies ``many`` as ``read`` (their readings, in order).

        Locks come before the duplicate check: a kind's preloader locks what its checks protect (act
        reports: their mandates, references and message ids), other kinds lock their message ids.
        A concurrent copy of a message then waits, and is answered as the duplicate it is (409, the
        first receipt)."""
        readable = [r.message for r in read if isinstance(r, Reading) and r.message is not None]
        preloaded: dict[str, object] = {}
        unlocked: set[str] = set()
        applied: dict[str, uuid.UUID] = {}
        unread = {m.envelope.message_id for m in readable}  # not yet looked up in the inbox
        for kind in sorted({m.envelope.kind for m in readable}):
            handling = self.kinds.get(kind)
            of_kind = [m for m in readable if m.envelope.kind == kind]
            if handling is not None and handling.preload is not None:
                preloaded[kind] = await handling.preload(session, office, of_kind)
                if (
                    handling.applied_of is not None
                    and (found := handling.applied_of(preloaded[kind])) is not None
                ):
                    applied |= found
                    unread -= {m.envelope.message_id for m in of_kind}
            if handling is None or not handling.locks_first:
                unlocked |= {m.envelope.message_id for m in of_kind}
        await MessageRepository(session).lock_message_ids(office.code, unlocked)
        if unread:  # none when every message is unreadable or its preload read them
            applied |= await service.applied_among(session, office.code, unread)
        cases = await self._cases(session, readable, preloaded)
        outcomes = []
        for received, reading in zip(many, read, strict=True):
            if isinstance(reading, Reading):
                case_id = cases.get(id(reading.message))
                outcome = await self._apply(session, office, received, reading, applied, preloaded, case_id)
            else:
                envelope, errors, status = reading
                outcome = await self._refuse(
                    session, office, received, envelope, errors, unreadable=True, status=status
                )
            outcomes.append(outcome)
        return outcomes

    async def _cases(
        self, session: AsyncSession, readable: Sequence[v1.MessageModel], preloaded: dict[str, object]
    ) -> dict[int, uuid.UUID | None]:
        """The case of each readable message (by the object's id), their keys read in one query:
        as its kind's preload found it (``KindHandling.case_of``), else by the case resolver."""
        if self.cases_of is None or not readable:
            return {}
        cases: dict[int, uuid.UUID | None] = {}
        for message in readable:
            handling = self.kinds.get(message.envelope.kind)
            if handling is None or handling.case_of is None or message.envelope.kind not in preloaded:
                continue
            if (case_id := handling.case_of(preloaded[message.envelope.kind], message)) is not None:
                cases[id(message)] = case_id
        if rest := [message for message in readable if id(message) not in cases]:
            found = await self.cases_of(session, rest)
            cases |= {id(message): case_id for message, case_id in zip(rest, found, strict=True)}
        await sealing.load_keys(session, cases.values(), create=True)
        return cases

    def read(self, office: Office, received: Received) -> Reading:
        """The message in ``received``: as decoded already, else a translator's reading, else the v1
        decoding."""
        if received.decoded is not None:
            return Reading(received.decoded)
        for translator in self.translators:
            reading = translator(received.raw, received.content_type, office)
            if reading is not None:
                return reading
        try:
            return Reading(decode(received.raw, received.content_type))
        except Refused as refused:
            return Reading(None, refused.errors)

    @staticmethod
    def _unreadable(office: Office) -> Envelope:
        return Envelope(f"unreadable-{uuid.uuid4().hex[:12]}", "unknown", office.code, AGENCY_PARTY)

    async def _read_off_loop(
        self, office: Office, received: Received
    ) -> Reading | tuple[Envelope, list[ErrorItem], int]:
        """``_read``, in a worker thread when the body is slow to read (``slow_body``)."""
        if received.decoded is None and self.slow_body(received.raw, received.content_type):
            return await anyio.to_thread.run_sync(self._read, office, received)
        return self._read(office, received)

    def _read(self, office: Office, received: Received) -> Reading | tuple[Envelope, list[ErrorItem], int]:
        """The reading of a routable message, or why it cannot be routed: (the envelope to store
        it under, errors, status)."""
        reading = self.read(office, received)
        if reading.message is None:
            errors = reading.errors[:MAX_ERRORS]
            status = 415 if errors and errors[0].code == "content_type.unsupported" else 422
            return self._unreadable(office), errors, status
        env = reading.message.envelope
        if errors := _envelope_errors(reading.message, office, received.kinds):
            # Stored under the credential's office: a forged sender never gets a row in its name.
            forged = Envelope(
                env.message_id, env.kind, office.code, env.recipient, env.version, env.correlation_id
            )
            return forged, errors, 403 if errors[0].code == "envelope.sender_mismatch" else 422
        return reading

    async def _apply(
        self,
        session: AsyncSession,
        office: Office,
        received: Received,
        reading: Reading,
        applied: dict[str, uuid.UUID],
        preloaded: dict[str, object],
        case_id: uuid.UUID | None = None,
    ) -> Outcome:
        """Applies one routable message; ``applied`` (message id -> stored message) is kept current."""
        message = reading.message
        assert message is not None
        env = message.envelope
        envelope = Envelope(
            env.message_id, env.kind, env.sender, env.recipient, env.version, env.correlation_id
        )
        if env.message_id in applied:
            if (rows := RowBuffer.of(session)) is not None:
                await rows.write()  # the first copy's receipt may be buffered, from this chunk
            repo = MessageRepository(session)
            earlier = await repo.get(applied[env.message_id])
            first = await repo.receipt_for(applied[env.message_id])
            assert earlier is not None and first is not None, "an applied message always has its receipt"
            return Outcome(earlier, service.signed_alone(self.signer, first), duplicate=True, status=409)

        handling = self.kinds.get(env.kind)
        stored = await service.store_inbound(
            session,
            envelope,
            received.raw,
            received.content_type,
            parent_id=received.parent_id,
            case_id=case_id,
            # A message of a kind that checks before it writes, in a unit of work with a row buffer (a
            # batch chunk's record, an act report's request): a row of the buffer, no ORM object (its
            # status is final before the buffer is written), written with the buffer's other rows.
            staged=handling is not None and not handling.savepoint and RowBuffer.of(session) is not None,
        )
        delivery = Delivery(message, stored, office, reading.errors[:MAX_ERRORS], preloaded.get(env.kind))
        try:
            if handling is not None and not handling.savepoint:
                if delivery.found:  # refused before the handler writes anything
                    raise _refusal(delivery.found)
                invoice_id = await _apply_effects(session, handling, delivery)
            elif (rows := RowBuffer.of(session)) is not None:
                async with rows.paused(), session.begin_nested():
                    invoice_id = await _apply_effects(session, handling, delivery)
            else:
                async with session.begin_nested():
                    invoice_id = await _apply_effects(session, handling, delivery)
        except HubError as exc:
            errors = exc.errors or [ErrorItem("/", exc.code, exc.detail)]
            return await self._refuse(
                session, office, received, envelope, errors, stored=stored, status=exc.status
            )
        applied[env.message_id] = stored.id
        receipt = await service.issue_receipt(
            session, self.signer, stored, accepted=True, invoice_id=invoice_id
        )
        return Outcome(stored, receipt, duplicate=False)

    async def _refuse(
        self,
        session: AsyncSession,
        office: Office,
        received: Received,
        envelope: Envelope,
        errors: list[ErrorItem],
        *,
        stored: InboundMessage | None = None,
        unreadable: bool = False,
        status: int = 422,
    ) -> Outcome:
        if stored is None:
            stored = await service.store_inbound(
                session,
                envelope,
                received.raw,
                received.content_type,
                parent_id=received.parent_id,
                staged=RowBuffer.folds_lifecycle(session),  # refused: nothing but its receipt follows
            )
        receipt = await service.issue_receipt(session, self.signer, stored, accepted=False, errors=errors)
        await outbound.negative_ack(session, office, stored, errors)
        return Outcome(stored, receipt, duplicate=False, unreadable=unreadable, status=status)


def _account(office: Office, received: Received, outcome: Outcome) -> None:
    """Counts what came of a message, and logs a refusal in one line: its id, kind, office and error
    codes (never the errors' messages, which may quote the body)."""
    stored = outcome.message
    if outcome.duplicate:
        metrics.count_inbound(stored.kind, received.transport, "duplicate", [])
    elif outcome.accepted:
        metrics.count_inbound(stored.kind, received.transport, "accepted", [])
    else:
        codes = [str(error["code"]) for error in outcome.receipt.errors]
        metrics.count_inbound(stored.kind, received.transport, "refused", codes)
        log.info(
            "message_refused",
            message_id=stored.message_id,
            kind=stored.kind,
            office=office.code,
            transport=received.transport,
            status=outcome.status,
            error_codes=codes,
        )


def _refusal(errors: list[ErrorItem]) -> InvalidInput:
    return InvalidInput(f"{len(errors)} error(s) in the message", code=errors[0].code, errors=errors)


async def _apply_effects(
    session: AsyncSession, handling: KindHandling | None, delivery: Delivery
) -> uuid.UUID | None:
    """The kind's effects (none for a kind without handling: it is only routed), the message marked
    applied, and forwarded to the agency. A message read with errors is never accepted, even by a
    handler that did not refuse it. Returns what the handler did (an invoice's id, or None)."""
    invoice_id = await handling.handle(session, delivery) if handling is not None else None
    if delivery.found:
        raise _refusal(delivery.found)
    await service.mark_applied(session, delivery.stored)
    await outbound.forward_to_agency(session, delivery.stored)
    return invoice_id


async def replay(
    session: AsyncSession, processor: InboundProcessor, message_pk: uuid.UUID, *, actor: str
) -> Outcome:
    """Runs a stored inbound message through validation again (e.g. refused because its mandate
    was unknown, and the mandate now exists), as a new message whose parent is the stored one; the
    office is sent the new receipt, whatever carried the first. Already applied: its first
    receipt, nothing more."""
    repo = MessageRepository(session)
    stored = await repo.get(message_pk)
    if stored is None or stored.direction != "inbound":
        raise NotFound(f"no inbound message {message_pk}", code="message.not_found")
    office = await OfficeRepository(session).get_by_code(stored.sender)
    if office is None:
        raise Conflict(
            f"the sender {stored.sender} is not a registered office", code="message.sender_unknown"
        )
    raw = await sealing.open_body(session, stored)  # a message of an erased case: 410 message.erased
    await service.record(session, stored, Status.REPLAYED, actor=actor)
    return await processor.receive(
        session,
        office,
        Received(raw, stored.content_type, parent_id=stored.id, transport="replay"),
        reply_receipt=True,
    )
