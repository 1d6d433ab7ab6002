"""Every query of the messaging module."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    CTE,
    BigInteger,
    BindParameter,
    ColumnElement,
    CompoundSelect,
    DateTime,
    LargeBinary,
    Row,
    Select,
    String,
    Table,
    Uuid,
    any_,
    bindparam,
    case,
    false,
    func,
    insert,
    literal,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy import Sequence as SqlSequence
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Bundle
from sqlalchemy.sql.dml import ReturningInsert

from hub.kit.db import Base, RowBuffer, UtcDateTime, advisory_locks, in_chunks
from hub.kit.pagination import after_row
from hub.messaging.models import (
    CaseKey,
    Direction,
    InboxEntry,
    MailboxItem,
    MessageEvent,
    OutboxEntry,
    OutboxStatus,
    Receipt,
    Status,
    StoredMessage,
)
from hub.offices.models import DeliveryChannel, Office

_Row = TypeVar("_Row", bound=Base)

# Which of a sender's message ids were applied (``inbox_entries``, read for every office message):
# built once, its parameters bound by name.
_INBOX_ENTRIES = select(InboxEntry.message_id, InboxEntry.message_pk).where(
    InboxEntry.sender == bindparam("sender"),
    InboxEntry.message_id.in_(bindparam("message_ids", expanding=True)),
)


# Held by every transaction that puts items in the mailboxes, from before their ids are drawn until
# it commits (``hub.kit.db.advisory_locks``): items become visible in id order, so an office reading
# its inbox after the last id it read never passes one committed late
# (docs/adr/0023-mailbox-items-in-commit-order.md).
MAILBOX_ORDER = "mailbox order"


def _case_keys_added() -> CompoundSelect[uuid.UUID, bytes | None]:
    """``case_keys_added``'s statement, built once: its cases and keys bound as two arrays (its text
    the same whatever their number, so compiled once and prepared once a connection; a multi-row
    VALUES was compiled again at each call: 1.45 ms of CPU a call against 0.23, docs/performance.md)."""
    case_ids = bindparam("case_ids", type_=ARRAY(Uuid()))
    keys = bindparam("keys", type_=ARRAY(LargeBinary()))
    given = func.unnest(case_ids, keys).table_valued("case_id", "wrapped_key").render_derived()
    added = (
        postgresql.insert(CaseKey)
        .from_select(["case_id", "wrapped_key"], select(given.c.case_id, given.c.wrapped_key))
        .on_conflict_do_nothing(index_elements=["case_id"])
        .returning(CaseKey.case_id, CaseKey.wrapped_key)
        .cte("added")
    )
    # The statement's snapshot: the rows it inserts are not seen by its own read of the table.
    held = select(CaseKey.case_id, CaseKey.wrapped_key).where(CaseKey.case_id == any_(case_ids))
    return union_all(select(added.c.case_id, added.c.wrapped_key), held)


_CASE_KEYS_ADDED = _case_keys_added()


@functools.cache
def _case_keys_inserted(dialect: str) -> ReturningInsert[uuid.UUID]:
    """``add_case_keys``'s statement on ``dialect``, built once."""
    insert_into = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert_into(CaseKey).on_conflict_do_nothing(index_elements=["case_id"]).returning(CaseKey.case_id)


def message_lock_keys(sender: str, message_ids: Collection[str]) -> set[str]:
    """The advisory lock keys of the (sender, message id) pairs (``hub.kit.db.advisory_locks``)."""
    return {f"{sender} {message_id}" for message_id in message_ids}


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *objects: object) -> None:
        self.session.add_all(objects)
        await self.session.flush()

    def stage(self, *objects: object) -> None:
        """Adds without a round trip: written by the next flush (autoflush or commit)."""
        self.session.add_all(objects)

    def stage_row(self, model: type[_Row], row: dict[str, Any]) -> _Row | None:
        """Stages a row of an insert-only table that nothing reads back in this unit of work: in
        the session's ``RowBuffer`` when one is open (a batch chunk: no ORM object, None), else as
        the ORM object returned."""
        if RowBuffer.stage(self.session, model, row):
            return None
        obj = model(**row)
        self.session.add(obj)
        return obj

    async def insert_rows(self, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
        """Rows of one table (the same keys each) written now as multi-row INSERT ... VALUES, up to
        1,000 rows a statement: SQLAlchemy's "insertmanyvalues", which compiles the statement once
        (cached) and needs a RETURNING. Not a plain executemany, which the drivers run row by row."""
        if not rows:
            return
        table = cast(Table, model.__table__)
        await self.session.execute(insert(table).returning(*table.primary_key.columns), list(rows))

    async def get(self, message_pk: uuid.UUID) -> StoredMessage | None:
        return await self.session.get(StoredMessage, message_pk)

    async def sent_to(self, recipient: str, message_id: str) -> StoredMessage | None:
        """The message the hub sent ``recipient`` as ``message_id`` (``ix_messages_recipient_message_id``)."""
        query = select(StoredMessage).where(
            StoredMessage.recipient == recipient,
            StoredMessage.message_id == message_id,
            StoredMessage.direction == "outbound",
        )
        return await self.session.scalar(query.order_by(StoredMessage.created_at).limit(1))

    async def find(
        self,
        *,
        message_id: str | None = None,
        correlation_id: str | None = None,
        party: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: uuid.UUID | None = None,
        limit: int = 100,
    ) -> Sequence[StoredMessage]:
        """Messages in the order stored (time, then id), ``limit`` of them after the message
        ``after`` (its id; the walk goes on from its place: ``ix_messages_created_at_id``)."""
        query: Select[StoredMessage] = select(StoredMessage)
        if after is not None:
            anchor = select(StoredMessage.created_at).where(StoredMessage.id == after).scalar_subquery()
            query = query.where(after_row([StoredMessage.created_at, StoredMessage.id], [anchor, after]))
        if message_id is not None:
            query = query.where(StoredMessage.message_id == message_id)
        if correlation_id is not None:
            query = query.where(StoredMessage.correlation_id == correlation_id)
        if party is not None:
            query = query.where((StoredMessage.sender == party) | (StoredMessage.recipient == party))
        if kind is not None:
            query = query.where(StoredMessage.kind == kind)
        if status is not None:
            query = query.where(StoredMessage.status == status)
        if since is not None:
            query = query.where(StoredMessage.created_at >= since)
        if until is not None:
            query = query.where(StoredMessage.created_at < until)
        ordered = query.order_by(StoredMessage.created_at, StoredMessage.id).limit(limit)
        return list(await self.session.scalars(ordered))

    async def children(self, parent_pk: uuid.UUID) -> Sequence[StoredMessage]:
        query = (
            select(StoredMessage)
            .where(StoredMessage.parent_id == parent_pk)
            .order_by(StoredMessage.created_at)
        )
        return list(await self.session.scalars(query))

    async def events(self, message_pk: uuid.UUID) -> Sequence[MessageEvent]:
        """The message's lifecycle, in order: the steps written and the ``delivered`` step of each
        outbox row the relay put in a mailbox, which is its outbox row (ADR 0018: ``sent_at``, no
        event row; ``lifecycle`` places it)."""
        query = select(MessageEvent).where(MessageEvent.message_pk == message_pk).order_by(MessageEvent.id)
        written = list(await self.session.scalars(query))
        sent = await self.session.execute(
            select(OutboxEntry.id, OutboxEntry.sent_at)
            .join(StoredMessage, StoredMessage.id == OutboxEntry.message_pk)
            .where(
                OutboxEntry.message_pk == message_pk,
                OutboxEntry.status == OutboxStatus.SENT.value,
                StoredMessage.direction == Direction.OUTBOUND.value,
            )
            .order_by(OutboxEntry.id)
        )
        return lifecycle(message_pk, written, [(outbox_id, at) for outbox_id, at in sent if at is not None])

    async def inbox_entry(self, sender: str, message_id: str) -> InboxEntry | None:
        return await self.session.get(InboxEntry, (sender, message_id))

    async def inbox_entries(self, sender: str, message_ids: Collection[str]) -> dict[str, uuid.UUID]:
        """Message id -> the stored message that applied it, for those of ``message_ids`` applied."""
        found = await self.session.execute(
            _INBOX_ENTRIES, {"sender": sender, "message_ids": list(message_ids)}
        )
        return {message_id: pk for message_id, pk in found}

    async def lock_message_ids(self, sender: str, message_ids: Collection[str]) -> None:
        """Holds each (sender, message id) until commit, in one order (PostgreSQL: an advisory lock
        on its hash; SQLite has one writer at a time): a concurrent copy of a message waits here,
        then finds the first one applied, instead of failing a check the first one changed."""
        await advisory_locks(self.session, message_lock_keys(sender, message_ids))

    async def receipt_for(self, message_pk: uuid.UUID) -> Receipt | None:
        return await self.session.scalar(select(Receipt).where(Receipt.message_pk == message_pk))

    async def claim_pending(self, now: datetime, limit: int) -> Sequence[Row[Any]]:
        """Pending rows that are due, locked for this relay, each with its message and the channel of
        its recipient (None: not an office, e.g. the agency) as Core rows: ``entry`` and ``message``
        (bundles of their columns, no ORM objects) and ``channel``. ``SKIP LOCKED`` lets several relays
        run at once on PostgreSQL without waiting on each other; no "id > last seen" cursor, so a row
        committed late, out of id order, is still picked up.

        SQLite has no row locks: a no-op UPDATE first takes its database write lock, so relays
        there run one after the other instead of reading the same rows."""
        if self.session.get_bind().dialect.name == "sqlite":
            await self.session.execute(update(OutboxEntry).where(false()).values(status=OutboxEntry.status))
        entry: Bundle[Any] = Bundle("entry", *_columns(OutboxEntry, *_ENTRY_SENT))
        message: Bundle[Any] = Bundle("message", *_columns(StoredMessage, *_MESSAGE_SENT))
        query = (
            select(entry, message, Office.delivery_channel.label("channel"))
            .join(StoredMessage, StoredMessage.id == OutboxEntry.message_pk)
            .outerjoin(Office, Office.code == OutboxEntry.recipient)
            .where(_due(now))
            .order_by(OutboxEntry.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=OutboxEntry)
        )
        return list(await self.session.execute(query))

    @property
    def settles_in_one_statement(self) -> bool:
        """PostgreSQL runs a batch's settle as one statement (data-modifying CTEs); SQLite has none."""
        return self.session.get_bind().dialect.name == "postgresql"

    async def deliver_due_to_mailboxes(self, now: datetime, limit: int) -> Sequence[tuple[str, datetime]]:
        """Claims up to ``limit`` due rows (as ``claim_pending``) and delivers them to their
        recipients' mailboxes, in one statement (PostgreSQL): ``_settle_statement`` claiming its rows
        itself. The rows sent, with their messages' ``kind`` and their ``created_at``."""
        statement = _settle_statement(Status.DELIVERED, mailbox=True, claims=True)
        await advisory_locks(self.session, {MAILBOX_ORDER})
        # On the session's connection: Core rows, without the ORM's result machinery per row, all
        # fetched at once (iterating a result fetches row by row).
        connection = await self.session.connection()
        sent = await connection.execute(statement, {"now": now, "limit": limit})
        return sent.all()

    async def settle_sent(
        self, sent: Sequence[tuple[int, uuid.UUID, bool]], now: datetime, status: Status, *, mailbox: bool
    ) -> None:
        """Outbox rows the transport confirmed, claimed by this relay: (outbox id, message, whether it
        is an outbound message), marked sent; the outbound messages go to ``status`` with one
        lifecycle step per row (an inbound message forwarded to the agency keeps its own status, the
        outbox row says when it was sent). ``mailbox``: the rows were put in their recipients'
        mailboxes first (``_settle_statement`` on PostgreSQL, holding ``MAILBOX_ORDER`` until commit;
        on SQLite ``MailboxTransport`` did), and their ``delivered`` step is the outbox row itself
        (``lifecycle``), no event row. One statement on PostgreSQL (and the lock), two or three on
        SQLite, whatever the batch size."""
        if not sent:
            return
        if self.settles_in_one_statement:
            ids = [outbox_id for outbox_id, _pk, _out in sent]
            statement = _settle_statement(status, mailbox=mailbox, claims=False)
            if mailbox:
                await advisory_locks(self.session, {MAILBOX_ORDER})
            await self.session.execute(statement, {"now": now, "ids": ids})
            return
        await self.mark_sent([outbox_id for outbox_id, _pk, _out in sent], now)
        outbound = [(outbox_id, pk) for outbox_id, pk, out in sent if out]
        await self.set_status([pk for _id, pk in outbound], status.value)
        if not mailbox:  # a mailbox's delivery step is its outbox row (``lifecycle``)
            events = [_delivery_event(pk, status, outbox_id, now) for outbox_id, pk in outbound]
            await self.insert_rows(MessageEvent, events)

    async def reschedule(self, outbox_id: int, attempts: int, next_attempt_at: datetime, error: str) -> None:
        """An outbox row its transport did not confirm: tried again at ``next_attempt_at``."""
        await self.session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id == outbox_id)
            .values(attempts=attempts, next_attempt_at=next_attempt_at, last_error=error)
            .execution_options(synchronize_session=False)
        )

    async def mark_erased(self, outbox_ids: Sequence[int]) -> None:
        """Claimed rows whose case was erased meanwhile: never sent."""
        if not outbox_ids:
            return
        await self.session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id.in_(outbox_ids))
            .values(status=OutboxStatus.ERASED.value)
            .execution_options(synchronize_session=False)
        )

    async def messages_by_pk(self, pks: Collection[uuid.UUID]) -> dict[uuid.UUID, StoredMessage]:
        """One statement a thousand keys (``in_chunks``)."""
        found: dict[uuid.UUID, StoredMessage] = {}
        for chunk in in_chunks(pks):
            found |= {
                m.id: m
                for m in await self.session.scalars(select(StoredMessage).where(StoredMessage.id.in_(chunk)))
            }
        return found

    async def set_status(self, pks: Collection[uuid.UUID], status: str) -> set[uuid.UUID]:
        """One UPDATE a thousand keys; objects loaded in the session are not synchronised (the caller
        sets them). The messages found."""
        found: set[uuid.UUID] = set()
        for chunk in in_chunks(pks):
            updated = await self.session.execute(
                update(StoredMessage)
                .where(StoredMessage.id.in_(chunk))
                .values(status=status)
                .returning(StoredMessage.id)
                .execution_options(synchronize_session=False)
            )
            found |= set(updated.scalars())
        return found

    async def mailbox(self, recipient: str, *, after_id: int = 0, limit: int = 100) -> Sequence[MailboxItem]:
        query = (
            select(MailboxItem)
            .where(
                MailboxItem.recipient == recipient, MailboxItem.acked_at.is_(None), MailboxItem.id > after_id
            )
            .order_by(MailboxItem.id)
            .limit(limit)
        )
        return list(await self.session.scalars(query))

    async def mailbox_item(self, recipient: str, item_id: int) -> MailboxItem | None:
        query = select(MailboxItem).where(MailboxItem.recipient == recipient, MailboxItem.id == item_id)
        return await self.session.scalar(query)

    async def mailbox_items(self, item_ids: Collection[int]) -> dict[int, MailboxItem]:
        """The items among ``item_ids`` (one that does not exist is absent), a statement a thousand."""
        found: dict[int, MailboxItem] = {}
        for chunk in in_chunks(item_ids):
            found |= {
                i.id: i
                for i in await self.session.scalars(select(MailboxItem).where(MailboxItem.id.in_(chunk)))
            }
        return found

    async def claim_due_pushes(self, now: datetime, limit: int) -> Sequence[MailboxItem]:
        if self.session.get_bind().dialect.name == "sqlite":  # see claim_pending
            await self.session.execute(
                update(MailboxItem).where(false()).values(push_state=MailboxItem.push_state)
            )
        query = (
            select(MailboxItem)
            .where(MailboxItem.push_state == "due", MailboxItem.next_push_at <= now)
            .order_by(MailboxItem.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(await self.session.scalars(query))

    async def lease_pushes(self, item_ids: Collection[int], until: datetime) -> None:
        """Items being pushed: not due again before ``until``, so that another pusher leaves them alone
        meanwhile. A statement a thousand items; objects loaded in the session are not synchronised."""
        for chunk in in_chunks(item_ids):
            await self.session.execute(
                update(MailboxItem)
                .where(MailboxItem.id.in_(chunk))
                .values(next_push_at=until)
                .execution_options(synchronize_session=False)
            )

    async def disable_pushes(self, item_ids: Collection[int]) -> None:
        """Items never to be pushed (their office has no webhook, their case was erased...): pulled
        only. A statement a thousand items; objects loaded in the session are not synchronised."""
        for chunk in in_chunks(item_ids):
            await self.session.execute(
                update(MailboxItem)
                .where(MailboxItem.id.in_(chunk))
                .values(push_state="disabled")
                .execution_options(synchronize_session=False)
            )

    async def mark_pushed(self, item_ids: Collection[int]) -> dict[int, uuid.UUID]:
        """Items their office's endpoint took (2xx), among those still due (a 410 of the same office
        may have disabled them meanwhile): delivered. Each item marked with its message, a statement a
        thousand items; objects loaded in the session are not synchronised."""
        marked: dict[int, uuid.UUID] = {}
        for chunk in in_chunks(item_ids):
            rows = await self.session.execute(
                update(MailboxItem)
                .where(MailboxItem.id.in_(chunk), MailboxItem.push_state == "due")
                .values(
                    push_state="delivered",
                    push_attempts=MailboxItem.push_attempts + 1,
                    last_push_error=None,
                )
                .returning(MailboxItem.id, MailboxItem.message_pk)
                .execution_options(synchronize_session=False)
            )
            marked |= {item_id: message_pk for item_id, message_pk in rows.all()}
        return marked

    async def stop_pushes(self, recipient: str) -> None:
        await self.session.execute(
            update(MailboxItem)
            .where(MailboxItem.recipient == recipient, MailboxItem.push_state == "due")
            .values(push_state="disabled")
        )

    async def mailbox_item_ids_for(self, message_pks: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """The mailbox item id of each message among ``message_pks`` that has one (no ORM objects)."""
        rows = await self.session.execute(
            select(MailboxItem.message_pk, MailboxItem.id).where(MailboxItem.message_pk.in_(message_pks))
        )
        return {pk: item_id for pk, item_id in rows.all()}

    async def reset_mailbox_items(self, item_ids: Sequence[int], *, push_at: datetime | None) -> None:
        """Puts items back unread (a resend), each with a new id, the next one: to push from
        ``push_at``, or pulled only when None. An office reads its inbox after the last id it read,
        so an item put back under its old id would stay behind that cursor, unseen. One UPDATE an
        item: on SQLite alone (``MailboxTransport``; PostgreSQL's settle statement draws the new ids
        from the sequence), whose one writer at a time makes the largest id plus one the next."""
        for item_id in sorted(item_ids):
            await self.session.execute(
                update(MailboxItem)
                .where(MailboxItem.id == item_id)
                .values(
                    id=select(func.max(MailboxItem.id) + 1).scalar_subquery(),
                    acked_at=None,
                    push_state="none" if push_at is None else "due",
                    push_attempts=0,
                    next_push_at=push_at,
                )
                .execution_options(synchronize_session=False)
            )

    async def outbox_backlog(self) -> tuple[int, datetime | None]:
        """How many outbox rows are pending, and when the oldest of them (the lowest id) was
        written: two walks of the pending rows' partial index, for the metrics scrape."""
        pending = OutboxEntry.status == OutboxStatus.PENDING.value
        count = await self.session.scalar(select(func.count()).select_from(OutboxEntry).where(pending))
        oldest = await self.session.scalar(
            select(OutboxEntry.created_at).where(pending).order_by(OutboxEntry.id).limit(1)
        )
        return int(count or 0), oldest

    async def mark_sent(self, outbox_ids: Sequence[int], now: datetime) -> None:
        """Outbox rows the transport confirmed, in one UPDATE."""
        if not outbox_ids:
            return
        await self.session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id.in_(outbox_ids))
            .values(
                status=OutboxStatus.SENT.value,
                sent_at=now,
                last_error=None,
                attempts=OutboxEntry.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )

    async def last_outbox_entry(self, message_pk: uuid.UUID) -> OutboxEntry | None:
        query = (
            select(OutboxEntry).where(OutboxEntry.message_pk == message_pk).order_by(OutboxEntry.id.desc())
        )
        return await self.session.scalar(query.limit(1))

    async def case_keys(self, case_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, bytes | None]:
        """The wrapped key of each of ``case_ids`` that has a key row (None: erased); a statement a
        thousand cases."""
        found: dict[uuid.UUID, bytes | None] = {}
        for chunk in in_chunks(case_ids):
            rows = await self.session.execute(
                select(CaseKey.case_id, CaseKey.wrapped_key).where(CaseKey.case_id.in_(chunk))
            )
            found |= {case_id: wrapped for case_id, wrapped in rows.all()}
        return found

    async def add_case_keys(self, rows: Sequence[dict[str, Any]]) -> set[uuid.UUID]:
        """New keys; a case given a key meanwhile by a concurrent writer keeps that one. The cases
        whose key was inserted."""
        if not rows:
            return set()
        statement = _case_keys_inserted(self.session.get_bind().dialect.name)
        # The rows as parameters (SQLAlchemy's "insertmanyvalues": multi-row INSERTs of a statement
        # compiled once), not a VALUES list of the statement, which had no cache key.
        connection = await self.session.connection()
        return set((await connection.execute(statement, list(rows))).scalars())

    @property
    def adds_case_keys_in_one_statement(self) -> bool:
        """PostgreSQL gives and reads case keys in one statement (a data-modifying CTE); SQLite has none."""
        return self.session.get_bind().dialect.name == "postgresql"

    async def case_keys_added(self, new: Mapping[uuid.UUID, bytes]) -> dict[uuid.UUID, bytes | None]:
        """PostgreSQL, a statement a thousand cases: each case of ``new`` given its new key when it has
        none, else its key read (None: erased). A case given a key by a concurrent writer after the
        statement began is absent (its key is neither inserted nor seen): read it again."""
        found: dict[uuid.UUID, bytes | None] = {}
        for chunk in in_chunks(new):
            rows = await self.session.execute(
                _CASE_KEYS_ADDED, {"case_ids": chunk, "keys": [new[c] for c in chunk]}
            )
            found |= {case_id: wrapped for case_id, wrapped in rows.all()}
        return found

    async def live_case_keys(
        self, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[tuple[uuid.UUID, bytes]]:
        """The next ``limit`` case keys not erased, by case id, after the case ``after``."""
        query = (
            select(CaseKey.case_id, CaseKey.wrapped_key)
            .where(CaseKey.wrapped_key.is_not(None))
            .order_by(CaseKey.case_id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(CaseKey.case_id > after)
        rows = (await self.session.execute(query)).all()
        return [(case_id, wrapped) for case_id, wrapped in rows if wrapped is not None]

    async def count_live_case_keys(self) -> int:
        query = select(func.count()).select_from(CaseKey).where(CaseKey.wrapped_key.is_not(None))
        return int(await self.session.scalar(query) or 0)

    async def replace_case_key(self, case_id: uuid.UUID, old: bytes, new: bytes) -> bool:
        """The case's wrapped key replaced by ``new`` if it is still ``old``: never a key erased (or
        replaced) meanwhile brought back."""
        done = await self.session.execute(
            update(CaseKey)
            .where(CaseKey.case_id == case_id, CaseKey.wrapped_key == old)
            .values(wrapped_key=new)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(done, "rowcount", 0))

    async def erase_case_key(self, case_id: uuid.UUID, now: datetime) -> None:
        """Destroys the case's key, or records an erased one when it had none."""
        done = await self.session.execute(
            update(CaseKey)
            .where(CaseKey.case_id == case_id)
            .values(wrapped_key=None, erased_at=func.coalesce(CaseKey.erased_at, now))
            .execution_options(synchronize_session=False)
        )
        if not getattr(done, "rowcount", 0):
            await self.add_case_keys([{"case_id": case_id, "wrapped_key": None, "erased_at": now}])

    async def case_messages(self, case_id: uuid.UUID) -> Sequence[StoredMessage]:
        query = (
            select(StoredMessage).where(StoredMessage.case_id == case_id).order_by(StoredMessage.created_at)
        )
        return list(await self.session.scalars(query))

    async def receipts_of(self, message_pks: Collection[uuid.UUID]) -> Sequence[Receipt]:
        return list(await self.session.scalars(select(Receipt).where(Receipt.message_pk.in_(message_pks))))

    async def stop_deliveries(self, message_pks: Collection[uuid.UUID], now: datetime) -> None:
        """Nothing of these messages is sent any more: pending outbox rows are dropped from the relay's
        claim (``erased``), unread mailbox items are taken out of the inbox and their pushes stopped."""
        if not message_pks:
            return
        await self.session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.message_pk.in_(message_pks), OutboxEntry.status == OutboxStatus.PENDING.value)
            .values(status=OutboxStatus.ERASED.value, last_error="case erased")
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            update(MailboxItem)
            .where(MailboxItem.message_pk.in_(message_pks), MailboxItem.acked_at.is_(None))
            .values(acked_at=now, push_state="disabled")
            .execution_options(synchronize_session=False)
        )


# What the relay needs of a claimed row and of its message to send it (``claim_pending``).
_ENTRY_SENT = ("id", "recipient", "exchange", "routing_key", "headers", "attempts", "created_at")
_MESSAGE_SENT = (
    "id",
    "message_id",
    "kind",
    "sender",
    "direction",
    "content_type",
    "correlation_id",
    "body",
    "sealed",
    "case_id",
)


def _columns(model: type[Base], *names: str) -> list[ColumnElement[Any]]:
    return [getattr(model, name) for name in names]


def _due(now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    """Pending outbox rows whose time has come (walked through ``ix_outbox_pending_id``)."""
    return (OutboxEntry.status == OutboxStatus.PENDING.value) & (OutboxEntry.next_attempt_at <= now)


def _delivery_event(message_pk: uuid.UUID, status: Status, outbox_id: int, now: datetime) -> dict[str, Any]:
    """The lifecycle step of a message its outbox row delivered."""
    return {
        "message_pk": message_pk,
        "status": status.value,
        "at": now,
        "actor": "relay",
        "detail": f"outbox {outbox_id}",
    }


def lifecycle(
    message_pk: uuid.UUID, written: Sequence[MessageEvent], sent: Sequence[tuple[int, datetime]]
) -> list[MessageEvent]:
    """A message's lifecycle: its ``written`` steps (in id order) and, for each of its ``sent`` outbox
    rows (id, ``sent_at``; an outbound message's) that no written step names, the ``delivered`` step
    the relay folded into it when it put the message in a mailbox (ADR 0018), as it wrote it before:
    at ``sent_at``, actor ``relay``, detail ``outbox <id>``; not stored (no ``id``). Each goes before
    the first written step that came later, after those of the same time (the step that routed it
    among them), where its row would have been: a row's steps are written by the transaction that
    marks it sent, a later step by a later one. Rows confirmed by the broker have their own step."""
    named = {event.detail for event in written}
    steps = list(written)
    for outbox_id, at in sent:
        detail = f"outbox {outbox_id}"
        if detail in named:
            continue
        step = MessageEvent(
            message_pk=message_pk, status=Status.DELIVERED.value, at=at, actor="relay", detail=detail
        )
        place = next((n for n, e in enumerate(steps) if e.at > at), len(steps))
        steps.insert(place, step)
    return steps


@functools.cache
def _settle_statement(status: Status, *, mailbox: bool, claims: bool) -> Select[str, datetime]:
    """One PostgreSQL statement settling outbox rows, with data-modifying CTEs that all see the same
    snapshot; built once per variant, its parameters are ``now`` and, with ``claims``, ``limit``: the
    due rows it claims itself (``SKIP LOCKED``, as ``claim_pending``), else ``ids``: rows this relay
    claimed already.

    - ``sent``: the rows marked sent (one more attempt, no error);
    - with ``mailbox``, each row's message put in its recipient's mailbox: a new item, pushed by
      webhook (``due`` now) when the recipient's channel is the webhook, else pulled (``none``);
      an item the message already has (a resend) put back unread the same way;
    - the outbound messages among them at ``status``, with a lifecycle step per row (an inbound
      message forwarded to the agency keeps its own status); with ``mailbox`` that step is the sent
      outbox row itself (``lifecycle``, ADR 0018): no event row;

    selecting each sent row's message ``kind`` and the row's ``created_at`` (the metrics).

    Each row is found by its key: the outbox rows by ``id = ANY(ARRAY(claim))`` and their messages by
    ``id = ANY(ARRAY(sent))``, the kind read from the status update's own rows (another look-up only
    for an inbound message, whose status stays). ``IN (claim)`` and joins let the planner hash a
    sequential scan of the whole table, twice for ``messages``, when it takes it for small: a third
    of the statement's time on the bench's 5,000 rows (docs/performance.md, the relay)."""
    now = bindparam("now", type_=UtcDateTime())
    if claims:
        due = select(OutboxEntry.id).where(_due(now)).order_by(OutboxEntry.id).limit(bindparam("limit"))
        which = OutboxEntry.id == any_(func.array(due.with_for_update(skip_locked=True).scalar_subquery()))
    else:
        which = OutboxEntry.id == any_(bindparam("ids", type_=ARRAY(BigInteger)))
    outbox, messages = cast(Table, OutboxEntry.__table__), cast(Table, StoredMessage.__table__)
    sent = (
        update(outbox)
        .where(which)
        .values(status=OutboxStatus.SENT.value, sent_at=now, last_error=None, attempts=outbox.c.attempts + 1)
        .returning(outbox.c.id, outbox.c.message_pk, outbox.c.recipient, outbox.c.created_at)
        .cte("sent")
    )
    sent_messages = func.array(select(sent.c.message_pk).scalar_subquery())
    updated = (
        update(messages)
        .where(messages.c.id == any_(sent_messages), messages.c.direction == Direction.OUTBOUND.value)
        .values(status=status.value)
        .returning(messages.c.id, messages.c.kind)
        .cte("status")
    )
    outbound = sent.join(updated, updated.c.id == sent.c.message_pk)
    steps: list[CTE] = [updated]
    if mailbox:
        steps.append(_into_mailboxes(sent, now).cte("items"))
    else:
        events = insert(MessageEvent).from_select(
            ["message_pk", "status", "at", "actor", "detail"],
            select(
                sent.c.message_pk,
                literal(status.value),
                now,
                literal("relay"),
                literal("outbox ") + sent.c.id.cast(String),
            ).select_from(outbound),
        )
        steps.append(events.cte("events"))
    other = messages.alias("inbound")  # a message whose status stays: its kind read by key
    kind = func.coalesce(
        updated.c.kind, select(other.c.kind).where(other.c.id == sent.c.message_pk).scalar_subquery()
    )
    every = sent.outerjoin(updated, updated.c.id == sent.c.message_pk)
    # ``created_at`` as the driver's aware datetime: the statement is PostgreSQL's, whose
    # ``timestamptz`` needs none of ``UtcDateTime``'s conversion (the relay reads 500 a batch).
    created_at = type_coerce(sent.c.created_at, DateTime(timezone=True))
    return select(kind, created_at).select_from(every).add_cte(*steps)


_MAILBOX_IDS = SqlSequence("mailbox_id_seq")  # the items' BIGSERIAL (migration 20261123_0002)


def _into_mailboxes(sent: CTE, now: BindParameter[datetime]) -> postgresql.Insert:
    """The mailbox items of the rows ``sent``, in outbox order (an office's inbox lists them by item
    id), one per message (a message claimed twice, resent before its first row went, gets one item),
    or the existing ones put back unread with a new id (``reset_mailbox_items`` says why)."""
    push = Office.delivery_channel == DeliveryChannel.WEBHOOK.value
    latest = (
        select(
            sent.c.id,
            sent.c.recipient,
            sent.c.message_pk,
            case((push, "due"), else_="none").label("push_state"),
            case((push, now)).label("next_push_at"),
        )
        .select_from(sent.outerjoin(Office, Office.code == sent.c.recipient))
        .ext(distinct_on(sent.c.message_pk))
        .order_by(sent.c.message_pk, sent.c.id.desc())
        .subquery("latest")
    )
    items = select(
        latest.c.recipient,
        latest.c.message_pk,
        latest.c.push_state,
        literal(0),
        latest.c.next_push_at,
        now,
    ).order_by(latest.c.id)
    statement = postgresql.insert(MailboxItem).from_select(
        ["recipient", "message_pk", "push_state", "push_attempts", "next_push_at", "created_at"], items
    )
    return statement.on_conflict_do_update(
        index_elements=["message_pk"],
        set_={
            "id": _MAILBOX_IDS.next_value(),
            "acked_at": None,
            "push_state": statement.excluded.push_state,
            "push_attempts": 0,
            "next_push_at": statement.excluded.next_push_at,
        },
    )
