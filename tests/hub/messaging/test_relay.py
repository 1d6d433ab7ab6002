"""The relay on committed rows, as in production: its own sessions and transactions."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, select, text
from sqlalchemy.engine.interfaces import ExecuteStyle
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.database import create_engine, session_factory, unit_of_work
from hub.kit.clock import utcnow
from hub.messaging import outbound, service
from hub.messaging.models import MailboxItem, MessageEvent, OutboxEntry, Status, StoredMessage
from hub.messaging.relay import Outgoing, Relay
from hub.messaging.repository import MessageRepository, lifecycle
from hub.messaging.service import Envelope
from hub.offices import service as offices
from hub.offices.models import DeliveryChannel
from tests.conftest import database_like


def office_code() -> str:
    return "CJ" + secrets.token_hex(4).upper()


async def enqueue(session: AsyncSession, recipient: str, n: int = 1) -> list[int]:
    ids = []
    for _ in range(n):
        envelope = Envelope(f"MND-{secrets.token_hex(6)}", "mandate", "AGENCY", recipient)
        entry = await service.enqueue_outbound(
            session,
            envelope,
            b"<mandate/>",
            "application/xml",
            exchange="hub.outbound",
            routing_key=f"office.{recipient}",
        )
        await session.flush()  # staged: the outbox row gets its id when written
        ids.append(entry.id)
    return ids


async def drain(relay: Relay) -> int:
    total = 0
    while sent := await relay.run_once():
        total += sent
    return total


async def mailbox_ids(sessions: async_sessionmaker[AsyncSession], recipient: str) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(StoredMessage.message_id)
            .join(MailboxItem, MailboxItem.message_pk == StoredMessage.id)
            .where(MailboxItem.recipient == recipient)
            .order_by(MailboxItem.id)
        )
        return list(rows)


@asynccontextmanager
async def office_database(url: str, folder: Path) -> AsyncIterator[tuple[AsyncEngine, str]]:
    """A migrated database of its own, like ``url``'s, holding one office: (its engine, the code).
    For tests that commit and drain every due row."""
    async with database_like(url, folder) as own:
        engine = create_engine(own)
        code = office_code()
        try:
            async with unit_of_work(session_factory(engine)) as session:
                await offices.add_office(session, code=code, name="Étude")
            yield engine, code
        finally:
            await engine.dispose()


async def test_embedded_relay_delivers_to_the_mailbox_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    code = office_code()
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code=code, name="Étude")
        await enqueue(session, code, 3)
    relay = Relay(sessions)
    assert await drain(relay) >= 3
    assert len(await mailbox_ids(sessions, code)) == 3
    assert await drain(relay) == 0  # nothing is sent twice
    assert len(await mailbox_ids(sessions, code)) == 3


@pytest.mark.postgres
async def test_rows_committed_out_of_id_order_are_not_skipped(
    postgres_committed_url: str, tmp_path: Path
) -> None:
    """T1 takes the smaller id but commits after T2 and after a relay pass: it is still sent.
    (PostgreSQL only: SQLite has one writer at a time, so T1 cannot stay open while T2 commits.)
    In a database of its own: the test commits, and its relay drains every due row."""
    async with office_database(postgres_committed_url, tmp_path) as (engine, code):
        sessions = session_factory(engine)
        relay = Relay(sessions)
        await drain(relay)

        async with sessions() as late:
            async with late.begin():
                [late_id] = await enqueue(late, code)
                async with unit_of_work(sessions) as early:
                    [early_id] = await enqueue(early, code)
                assert late_id < early_id
                await drain(relay)
                assert len(await mailbox_ids(sessions, code)) == 1
        await drain(relay)
        assert len(await mailbox_ids(sessions, code)) == 2


async def test_several_relays_at_once_send_each_row_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    code = office_code()
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code=code, name="Étude")
        await enqueue(session, code, 300)
    relays = [Relay(sessions, batch_size=25) for _ in range(4)]
    await asyncio.gather(*(drain(r) for r in relays))
    ids = await mailbox_ids(sessions, code)
    assert len(ids) == 300 and len(set(ids)) == 300


async def test_a_message_resent_before_its_first_row_went_gets_one_mailbox_item(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Both of its outbox rows are claimed in one batch: both are marked sent, each with its lifecycle
    step, and the office finds the message once in its mailbox."""
    code = office_code()
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code=code, name="Étude")
        [first] = await enqueue(session, code)
    async with unit_of_work(sessions) as session:
        entry = await session.get(OutboxEntry, first)
        assert entry is not None
        again = await service.resend(session, entry.message_pk, actor="ops")
        message_pk, second = entry.message_pk, again.id
    await drain(Relay(sessions))
    assert len(await mailbox_ids(sessions, code)) == 1
    async with sessions() as session:
        rows = await session.scalars(select(OutboxEntry.status).where(OutboxEntry.id.in_([first, second])))
        assert list(rows) == ["sent", "sent"]
        steps = await MessageRepository(session).events(message_pk)
        assert [(s.status, s.detail) for s in steps] == [
            ("routed", None),
            ("routed", f"resent as outbox {second}"),
            ("delivered", f"outbox {first}"),
            ("delivered", f"outbox {second}"),
        ]
        message = await session.get(StoredMessage, message_pk)
        assert message is not None and message.status == "delivered"


class RecordingTransport:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, bytes, str]] = []

    async def send(self, session: AsyncSession, batch: Sequence[Outgoing]) -> list[str | None]:
        for out in batch:
            self.sent.append(
                (out.entry.routing_key, out.message.message_id, out.message.body, out.message.direction)
            )
        return [None for _ in batch]


async def test_several_relays_at_once_publish_and_deliver_each_row_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Relays with a broker, rows to an AMQP office and to a pull office mixed: each row is claimed by
    one relay (SKIP LOCKED on PostgreSQL), published or put in the mailbox once, and marked sent."""
    amqp, pull = office_code(), office_code()
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code=amqp, name="Étude", delivery_channel=DeliveryChannel.AMQP)
        await offices.add_office(session, code=pull, name="Étude")
        ids = [*await enqueue(session, amqp, 150), *await enqueue(session, pull, 150)]
    broker = RecordingTransport()
    relays = [Relay(sessions, broker=broker, batch_size=25) for _ in range(4)]
    await asyncio.gather(*(drain(r) for r in relays))
    published = [message_id for key, message_id, _body, _direction in broker.sent if key == f"office.{amqp}"]
    assert len(published) == 150 and len(set(published)) == 150
    delivered = await mailbox_ids(sessions, pull)
    assert len(delivered) == 150 and len(set(delivered)) == 150
    async with sessions() as session:
        statuses = await session.execute(
            select(OutboxEntry.status, func.count())
            .where(OutboxEntry.id.in_(ids))
            .group_by(OutboxEntry.status)
        )
        assert dict(statuses.all()) == {"sent": 300}


class GatedTransport:
    """Confirms nothing until ``together`` batches are being published at once (then everything)."""

    def __init__(self, together: int) -> None:
        self.together = together
        self.in_flight = self.peak = 0
        self.opened = asyncio.Event()
        self.confirmed: list[int] = []

    async def send(self, session: AsyncSession, batch: Sequence[Outgoing]) -> list[str | None]:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        if self.in_flight >= self.together:
            self.opened.set()
        await asyncio.wait_for(self.opened.wait(), timeout=10)  # one after the other: times out
        self.in_flight -= 1
        self.confirmed.extend(out.entry.id for out in batch)
        return [None for _ in batch]


async def test_the_next_batch_is_published_while_the_one_before_awaits_its_confirms(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """With a broker on PostgreSQL the relay keeps two batches in flight, each in its own
    transaction: each row published once and marked sent after its confirm. SQLite: one at a time."""
    code = office_code()
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code=code, name="Étude", delivery_channel=DeliveryChannel.AMQP)
        ids = await enqueue(session, code, 100)
    passes = 2 if sessions.kw["bind"].dialect.name == "postgresql" else 1
    broker = GatedTransport(passes)
    relay = Relay(sessions, broker=broker, batch_size=25)
    assert relay.passes == passes
    assert await relay.drain() >= 100
    assert broker.peak == passes
    confirmed = [outbox_id for outbox_id in broker.confirmed if outbox_id in set(ids)]
    assert sorted(confirmed) == ids
    async with sessions() as session:
        statuses = await session.scalars(select(OutboxEntry.status).where(OutboxEntry.id.in_(ids)))
        assert set(statuses) == {"sent"}


async def test_a_forward_to_the_agency_sends_the_stored_inbound_message_and_keeps_its_status(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    code = office_code()
    body = b"<actReport>as received</actReport>"
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code=code, name="Étude")
        stored = await service.store_inbound(
            session, Envelope(f"CR-{code}-1", "act_report", code, "AGENCY"), body, "application/xml"
        )
        await service.mark_applied(session, stored)
        await outbound.forward_to_agency(session, stored)
    async with sessions() as session:
        forwarded = (
            await session.scalars(select(OutboxEntry).where(OutboxEntry.message_pk == stored.id))
        ).one()
        copies = await session.scalar(
            select(func.count()).select_from(StoredMessage).where(StoredMessage.message_id == f"CR-{code}-1")
        )
    assert (forwarded.recipient, forwarded.routing_key, copies) == ("AGENCY", "act_report.received", 1)

    broker = RecordingTransport()
    await drain(Relay(sessions, broker=broker))
    assert ("act_report.received", f"CR-{code}-1", body, "inbound") in broker.sent
    async with sessions() as session:
        message = await session.get(StoredMessage, stored.id)
        entry = await session.get(OutboxEntry, forwarded.id)
        assert message is not None and message.status == "validated"  # not the relay's "confirmed"
        assert entry is not None and entry.status == "sent" and entry.sent_at is not None
    async with unit_of_work(sessions) as session:  # resent as any message the hub sent
        again = await service.resend(session, stored.id, actor="ops")
        assert again.routing_key == "act_report.received" and again.message_pk == stored.id


class FailingTransport:
    def __init__(self) -> None:
        self.calls = 0

    async def send(self, session: AsyncSession, batch: Sequence[Outgoing]) -> list[str | None]:
        self.calls += 1
        return ["returned: NO_ROUTE" for _ in batch]


async def test_an_unconfirmed_message_stays_pending_with_backoff(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    code = office_code()
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code=code, name="Étude", delivery_channel=DeliveryChannel.AMQP)
        [entry_id] = await enqueue(session, code)
    broker = FailingTransport()
    relay = Relay(sessions, broker=broker)
    await drain(relay)
    async with sessions() as session:
        entry = await session.get(OutboxEntry, entry_id)
        assert entry is not None
        assert entry.status == "pending" and entry.attempts == 1
        assert entry.last_error == "returned: NO_ROUTE"
        assert entry.next_attempt_at > entry.created_at
    assert broker.calls >= 1
    await drain(relay)  # not due yet: not retried at once
    async with sessions() as session:
        assert (await session.get(OutboxEntry, entry_id)).attempts == 1  # type: ignore[union-attr]


@pytest.mark.postgres
async def test_the_relay_updates_each_message_status_in_place(pg_session: AsyncSession) -> None:
    """The relay's status update of a message is a HOT update (PostgreSQL): the new row version on
    its page, no entry written in the ten indexes of ``messages`` (its fillfactor leaves the room;
    full pages would put the new versions elsewhere and count none HOT)."""
    code = office_code()
    await offices.add_office(pg_session, code=code, name="Étude")
    await enqueue(pg_session, code, 200)
    delivered = await MessageRepository(pg_session).deliver_due_to_mailboxes(utcnow(), 500)
    counts = await pg_session.execute(
        text(
            "SELECT pg_stat_get_xact_tuples_updated('messages'::regclass),"
            " pg_stat_get_xact_tuples_hot_updated('messages'::regclass)"
        )
    )
    updated, hot = counts.one()
    assert len(delivered) == updated == 200
    assert hot == updated


@pytest.mark.postgres
async def test_the_mailbox_statement_names_the_kind_of_every_row_it_sent(pg_session: AsyncSession) -> None:
    """PostgreSQL's one statement reads the kind from the status update's rows: a message claimed twice
    (resent before its first row went) is counted twice, and an inbound message forwarded to the
    agency, whose status stays, still gets its kind (looked up by key)."""
    code = office_code()
    await offices.add_office(pg_session, code=code, name="Étude")
    [first] = await enqueue(pg_session, code)
    entry = await pg_session.get(OutboxEntry, first)
    assert entry is not None
    await service.resend(pg_session, entry.message_pk, actor="ops")
    stored = await service.store_inbound(
        pg_session, Envelope(f"CR-{code}-1", "act_report", code, "AGENCY"), b"<r/>", "application/xml"
    )
    await service.mark_applied(pg_session, stored)
    await outbound.forward_to_agency(pg_session, stored)
    await pg_session.flush()
    delivered = await MessageRepository(pg_session).deliver_due_to_mailboxes(utcnow(), 500)
    assert sorted(kind for kind, _at in delivered) == ["act_report", "mandate", "mandate"]
    statuses = dict(
        (
            await pg_session.execute(
                select(StoredMessage.kind, StoredMessage.status).where(
                    StoredMessage.id.in_([entry.message_pk, stored.id])
                )
            )
        ).all()
    )
    assert statuses == {"mandate": "delivered", "act_report": "validated"}
    items = await pg_session.scalar(
        select(func.count()).select_from(MailboxItem).where(MailboxItem.message_pk == entry.message_pk)
    )
    assert items == 1


async def test_pull_inbox_lists_and_acknowledges(app: FastAPI, client: httpx.AsyncClient) -> None:
    sessions = app.state.sessions
    code, other = office_code(), office_code()
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code=code, name="Étude")
        await offices.add_office(session, code=other, name="Autre étude")
        await enqueue(session, code, 2)
        await enqueue(session, other, 1)
        key = (await offices.create_key(session, code)).secret
        other_key = (await offices.create_key(session, other)).secret
    await drain(Relay(sessions))
    auth = {"Authorization": f"Bearer {key}"}

    page = (await client.get("/v1/inbox", headers=auth)).json()
    assert [i["kind"] for i in page["items"]] == ["mandate", "mandate"]
    first = page["items"][0]["id"]

    # Another office can neither see nor acknowledge it.
    other_page = (await client.get("/v1/inbox", headers={"Authorization": f"Bearer {other_key}"})).json()
    assert first not in [i["id"] for i in other_page["items"]]
    refused = await client.post(f"/v1/inbox/{first}/ack", headers={"Authorization": f"Bearer {other_key}"})
    assert refused.status_code == 404

    assert (await client.post(f"/v1/inbox/{first}/ack", headers=auth)).status_code == 200
    assert (await client.post(f"/v1/inbox/{first}/ack", headers=auth)).status_code == 200  # twice is harmless
    remaining = (await client.get("/v1/inbox", headers=auth)).json()["items"]
    assert [i["id"] for i in remaining] == [page["items"][1]["id"]]
    # Its lifecycle as before the delivery step was folded into the outbox row (ADR 0018).
    detail = (await client.get(f"/v1/messages/{page['items'][0]['message_id']}", headers=auth)).json()
    steps = [(s["status"], s["actor"], s["detail"]) for s in detail["lifecycle"]]
    async with sessions() as session:
        [outbox_id] = await session.scalars(
            select(OutboxEntry.id).where(OutboxEntry.message_pk == uuid.UUID(detail["id"]))
        )
    assert steps == [
        ("routed", "hub", None),
        ("delivered", "relay", f"outbox {outbox_id}"),
        ("acknowledged", code, None),
    ]
    assert detail["status"] == "acknowledged"

    async with sessions() as session:
        acked = await session.scalar(
            select(func.count())
            .select_from(MailboxItem)
            .where(MailboxItem.acked_at.is_not(None), MailboxItem.recipient == code)
        )
        assert acked == 1


async def until_waiting_or_done(engine: AsyncEngine, task: asyncio.Task[Any]) -> None:
    """Returns once ``task`` is done or a session of ``engine``'s database waits on an advisory lock."""
    async with engine.connect() as connection:
        for _ in range(500):
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
                )
            )
            if waiting or task.done():
                return
            await connection.rollback()  # a fresh snapshot of the activity at each look
            await asyncio.sleep(0.02)
    raise AssertionError("the second relay neither waited nor finished within 10 s")


async def test_an_office_reading_after_its_last_id_never_passes_an_item_committed_late(
    postgres_committed_url: str, tmp_path: Path
) -> None:
    """Two relays put messages in one office's mailbox at once: the first (a relay with a broker,
    its mailbox rows settled before its commit) drew the smaller item id. The second waits for that
    commit before drawing its own, so the office, reading meanwhile and then after the last id it
    read, gets both messages. (PostgreSQL: SQLite has one writer at a time.)"""
    async with office_database(postgres_committed_url, tmp_path) as (engine, code):
        sessions = session_factory(engine)
        async with unit_of_work(sessions) as session:
            await enqueue(session, code, 2)

        async def office_reads(after: int) -> list[MailboxItem]:
            async with sessions() as session:
                return list(await MessageRepository(session).mailbox(code, after_id=after))

        async with sessions() as first, first.begin():
            repo = MessageRepository(first)
            [row] = await repo.claim_pending(utcnow(), 1)
            sent = [(row.entry.id, row.message.id, True)]
            await repo.settle_sent(sent, utcnow(), Status.DELIVERED, mailbox=True)
            second = asyncio.create_task(Relay(sessions).run_once())
            await until_waiting_or_done(engine, second)
            read = await office_reads(0)
        last = max((item.id for item in read), default=0)
        assert await second == 1
        read += await office_reads(last)
        assert len({item.message_pk for item in read}) == 2


async def relay_statements(
    sessions: async_sessionmaker[AsyncSession], committed_engine: AsyncEngine, n: int, resend: bool
) -> tuple[int, list[str]]:
    """Statements of one relay batch of ``n`` messages to a pull and a webhook office (and, with
    ``resend``, one message put back in the mailbox), and the new messages' statuses afterwards."""
    pull, push = office_code(), office_code()
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code=pull, name="Étude")
        await offices.add_office(session, code=push, name="Étude", delivery_channel=DeliveryChannel.WEBHOOK)
        ids = await enqueue(session, pull, n) + await enqueue(session, push, n)
    relay = Relay(sessions)
    await drain(relay)
    if resend:
        async with unit_of_work(sessions) as session:
            entry = await session.get(OutboxEntry, ids[0])
            assert entry is not None
            session.add(
                OutboxEntry(message_pk=entry.message_pk, recipient=pull, exchange="x", routing_key="y")
            )
        async with unit_of_work(sessions) as session:
            await enqueue(session, pull, n - 1)
    else:
        async with unit_of_work(sessions) as session:
            await enqueue(session, pull, n)
    statements: list[str] = []

    def count(_c: object, _cur: object, statement: str, params: Any, context: Any, _many: bool) -> None:
        # A plain executemany runs its statement once per row (pipelined or not): counted as many;
        # an "insertmanyvalues" batch is one multi-row INSERT.
        many = context.execute_style is ExecuteStyle.EXECUTEMANY
        statements.extend([statement] * (len(params) if many else 1))

    event.listen(committed_engine.sync_engine, "before_cursor_execute", count)
    try:
        assert await relay.run_once() == n
    finally:
        event.remove(committed_engine.sync_engine, "before_cursor_execute", count)
    async with sessions() as session:
        repo = MessageRepository(session)
        delivered = []
        for m in await session.scalars(select(StoredMessage).where(StoredMessage.recipient == pull)):
            steps = await repo.events(m.id)
            delivered.append(f"{m.status}:{sum(e.status == 'delivered' for e in steps)}")
        delivered.sort()
    assert len(await mailbox_ids(sessions, pull)) == 2 * n - 1
    return len(statements), delivered


async def test_one_batch_is_a_fixed_number_of_statements_whatever_its_size(
    committed_database_url: str, tmp_path: Path
) -> None:
    # A database of its own: rows other tests leave pending in theirs come due (their retry's
    # backoff) at any time, and a batch would take them too.
    async with database_like(committed_database_url, tmp_path) as url:
        engine = create_engine(url)
        try:
            sessions = session_factory(engine)
            few, delivered_few = await relay_statements(sessions, engine, 2, resend=True)
            many, delivered_many = await relay_statements(sessions, engine, 40, resend=True)
            dialect = engine.dialect.name
        finally:
            await engine.dispose()
    # PostgreSQL: the mailboxes' order lock (ADR 0023), then one statement claims, delivers and
    # settles the batch (data-modifying CTEs). SQLite: BEGIN IMMEDIATE, the write lock, the claim, the
    # existing items, the new items, the resent one, the outbox rows and the messages' status (their
    # delivery steps are the outbox rows, ADR 0018).
    assert few == many == (2 if dialect == "postgresql" else 8)
    # Each delivery is one lifecycle step; the resent message has two, and one mailbox item.
    assert delivered_few == ["delivered:1"] * 2 + ["delivered:2"]
    assert delivered_many == ["delivered:1"] * 78 + ["delivered:2"]


def test_a_folded_delivery_step_takes_the_place_its_row_would_have_had() -> None:
    """``lifecycle``: each sent outbox row no written step names gets its ``delivered`` step, after
    the steps of its time or earlier and before the later ones; a row with its own step (a broker's
    confirm, a delivery written before ADR 0018) gets none."""
    pk, t = uuid.uuid4(), utcnow()

    def step(status: str, minutes: int, detail: str | None = None) -> MessageEvent:
        return MessageEvent(message_pk=pk, status=status, at=t + timedelta(minutes=minutes), detail=detail)

    written = [step("routed", 0), step("acknowledged", 2), step("routed", 3, "resent as outbox 9")]
    sent = [(7, t), (9, t + timedelta(minutes=4))]
    steps = lifecycle(pk, written, sent)
    assert [(s.status, s.detail) for s in steps] == [
        ("routed", None),
        ("delivered", "outbox 7"),
        ("acknowledged", None),
        ("routed", "resent as outbox 9"),
        ("delivered", "outbox 9"),
    ]
    assert steps[1].actor == "relay" and steps[1].at == t
    confirmed = [step("routed", 0), step("confirmed", 1, "outbox 7")]
    assert lifecycle(pk, confirmed, [(7, t + timedelta(minutes=1))]) == confirmed
