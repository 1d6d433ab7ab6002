"""Webhook push to a real HTTP endpoint on loopback, checked by a verifier written from the
Standard Webhooks spec in this file (not the hub's signing code), and by the sample verifier
shipped to office IT teams."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select
from sqlalchemy.engine.interfaces import ExecuteStyle
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.webhooks import new_secret
from hub.database import create_engine, session_factory, unit_of_work
from hub.kit.crypto import KeyWrap, SecretBox, new_data_key
from hub.messaging import sealing, service
from hub.messaging.models import MailboxItem, MessageEvent, StoredMessage
from hub.messaging.relay import Relay
from hub.messaging.repository import MessageRepository
from hub.messaging.service import Envelope
from hub.messaging.webhooks import WebhookPusher
from hub.offices import service as offices
from hub.offices.repository import OfficeRepository
from schemas.examples.verify_webhook import WebhookRefused, WebhookVerifier
from tests.conftest import database_like
from tests.hub.ledger.factories import add_creditors_with_cases
from tests.hub.messaging.conftest import Endpoint

BOX = SecretBox("w" * 40)


def spec_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks, written from the spec: base64(HMAC-SHA256(base64decode(secret without
    "whsec_"), id + "." + timestamp + "." + body))."""
    key = base64.b64decode(secret.split("_", 1)[1])
    mac = hmac.new(key, msg_id.encode() + b"." + timestamp.encode() + b"." + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


async def webhook_office(sessions: async_sessionmaker[AsyncSession], url: str) -> tuple[str, str]:
    code = "CJ" + secrets.token_hex(4).upper()
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code=code, name="Étude")
        secret = await offices.set_webhook(session, BOX, code, url)
    return code, secret


async def send_mandate(
    sessions: async_sessionmaker[AsyncSession], code: str, body: bytes, case_id: uuid.UUID | None = None
) -> uuid.UUID:
    """The mandate stored (sealed with its case's key when it has a case) and put in the office's
    mailbox; its message's key."""
    async with unit_of_work(sessions) as session:
        envelope = Envelope(f"MND-{secrets.token_hex(6)}", "mandate", "AGENCY", code)
        entry = await service.enqueue_outbound(
            session,
            envelope,
            body,
            "application/xml",
            exchange="hub.outbound",
            routing_key=f"office.{code}",
            case_id=case_id,
        )
        message_pk = entry.message_pk
    while await Relay(sessions).run_once():
        pass
    return message_pk


async def push_all(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with httpx.AsyncClient() as client:
        await WebhookPusher(sessions, BOX, client).run_once()


async def test_push_is_signed_per_the_spec(
    sessions: async_sessionmaker[AsyncSession], endpoint: Endpoint
) -> None:
    code, secret = await webhook_office(sessions, endpoint.url)
    await send_mandate(sessions, code, b"<mandate>1</mandate>")
    await push_all(sessions)

    [(headers, body)] = endpoint.received
    assert body == b"<mandate>1</mandate>"
    expected = spec_signature(secret, headers["webhook-id"], headers["webhook-timestamp"], body)
    assert f"v1,{expected}" in headers["webhook-signature"].split()
    WebhookVerifier([secret]).verify(headers, body)  # the sample verifier agrees


async def test_sample_verifier_refuses_tampered_and_stale_and_acknowledges_a_redelivery(
    sessions: async_sessionmaker[AsyncSession], endpoint: Endpoint
) -> None:
    code, secret = await webhook_office(sessions, endpoint.url)
    await send_mandate(sessions, code, b"<mandate>2</mandate>")
    await push_all(sessions)
    [(headers, body)] = endpoint.received
    sent_at = int(headers["webhook-timestamp"])

    with pytest.raises(WebhookRefused, match="signature"):
        WebhookVerifier([secret]).verify(headers, body + b" ")
    with pytest.raises(WebhookRefused, match="signature"):
        WebhookVerifier([new_secret()]).verify(headers, body)
    with pytest.raises(WebhookRefused, match="tolerance"):
        WebhookVerifier([secret], now=lambda: sent_at + 301).verify(headers, body)
    verifier = WebhookVerifier([secret], now=lambda: sent_at + 299)
    assert verifier.verify(headers, body) == headers["webhook-id"]
    # Processed once, the same id again is the hub's redelivery: acknowledged, not processed.
    processed: list[bytes] = []
    assert verifier.receive(headers, body, processed.append) == 200
    assert verifier.receive(headers, body, processed.append) == 200
    assert processed == [body]


async def test_rotation_sends_both_signatures(
    sessions: async_sessionmaker[AsyncSession], endpoint: Endpoint
) -> None:
    code, old = await webhook_office(sessions, endpoint.url)
    async with unit_of_work(sessions) as session:
        new = await offices.rotate_webhook_secret(session, BOX, code)
    await send_mandate(sessions, code, b"<m/>")
    await push_all(sessions)
    [(headers, body)] = endpoint.received
    signatures = headers["webhook-signature"].split()
    for secret in (old, new):
        assert (
            f"v1,{spec_signature(secret, headers['webhook-id'], headers['webhook-timestamp'], body)}"
            in signatures
        )
        WebhookVerifier([secret]).verify(headers, body)
    async with unit_of_work(sessions) as session:
        await offices.finish_webhook_rotation(session, code)
        office = await OfficeRepository(session).get_by_code(code)
        assert office is not None and [BOX.open(s) for s in office.webhook_secrets] == [new]


async def test_failures_are_retried_later_and_410_disables_the_endpoint(
    sessions: async_sessionmaker[AsyncSession], endpoint: Endpoint
) -> None:
    code, _ = await webhook_office(sessions, endpoint.url)
    endpoint.statuses = [500, 410]
    await send_mandate(sessions, code, b"<m/>")
    await push_all(sessions)
    async with sessions() as session:
        item = await session.scalar(select(MailboxItem).where(MailboxItem.recipient == code))
        assert item is not None
        assert item.push_state == "due" and item.push_attempts == 1 and item.last_push_error == "HTTP 500"
        assert item.next_push_at is not None and item.next_push_at > item.created_at
        item.next_push_at = item.created_at  # the retry is due now
        await session.commit()
    await push_all(sessions)
    async with sessions() as session:
        item = await session.scalar(select(MailboxItem).where(MailboxItem.recipient == code))
        office = await OfficeRepository(session).get_by_code(code)
        assert item is not None and office is not None
        assert item.push_state == "disabled" and office.webhook_disabled_at is not None
        assert item.acked_at is None  # still in the pull inbox: nothing is lost
    assert len(endpoint.received) == 2


async def test_an_office_whose_secret_no_key_opens_waits_and_the_others_are_pushed(
    sessions: async_sessionmaker[AsyncSession], endpoint: Endpoint
) -> None:
    # Its secret sealed under another HUB_SECRET_KEY (rotated without HUB_PREVIOUS_SECRET_KEYS).
    code = "CJ" + secrets.token_hex(4).upper()
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code=code, name="Étude")
        await offices.set_webhook(
            session, SecretBox("another secret key, not the hub's one"), code, endpoint.url
        )
    other, secret = await webhook_office(sessions, endpoint.url)
    await send_mandate(sessions, code, b"<m>unreadable</m>")
    await send_mandate(sessions, other, b"<m>readable</m>")
    await push_all(sessions)

    [(headers, body)] = endpoint.received  # the other office's, whatever order they were claimed in
    assert body == b"<m>readable</m>"
    WebhookVerifier([secret]).verify(headers, body)
    async with sessions() as session:
        item = await session.scalar(select(MailboxItem).where(MailboxItem.recipient == code))
        assert item is not None and item.push_state == "due" and item.push_attempts == 1
        assert item.last_push_error is not None and "HUB_PREVIOUS_SECRET_KEYS" in item.last_push_error
        assert item.next_push_at is not None and item.next_push_at > item.created_at
        assert item.acked_at is None  # still in the pull inbox: nothing is lost


async def test_a_case_key_no_secret_opens_fails_its_items_alone_and_an_erased_case_is_never_pushed(
    sessions: async_sessionmaker[AsyncSession], endpoint: Endpoint
) -> None:
    code, secret = await webhook_office(sessions, endpoint.url)
    async with unit_of_work(sessions) as session:
        unusable, gone, readable = await add_creditors_with_cases(session, [3])
    for case_id, body in [(unusable, b"<m>unusable</m>"), (gone, b"<m>erased</m>"), (readable, b"<m>1</m>")]:
        await send_mandate(sessions, code, body, case_id)
    async with unit_of_work(sessions) as session:
        repo = MessageRepository(session)
        [old] = (await repo.case_keys([unusable])).values()
        assert old is not None
        # Wrapped again under another HUB_SECRET_KEY, as if rotated without HUB_PREVIOUS_SECRET_KEYS.
        other = KeyWrap("another secret key, not the hub's one").wrap(new_data_key(), unusable.bytes)
        assert await repo.replace_case_key(unusable, old, other)
        await sealing.destroy_key(session, gone)
    await push_all(sessions)

    [(headers, body)] = endpoint.received
    assert body == b"<m>1</m>"
    WebhookVerifier([secret]).verify(headers, body)
    async with sessions() as session:
        items = await session.execute(
            select(StoredMessage.case_id, MailboxItem)
            .join(MailboxItem, MailboxItem.message_pk == StoredMessage.id)
            .where(MailboxItem.recipient == code)
        )
        by_case = {case_id: item for case_id, item in items.all()}
    assert by_case[readable].push_state == "delivered" and by_case[readable].push_attempts == 1
    assert by_case[gone].push_state == "disabled" and by_case[gone].push_attempts == 0
    waiting = by_case[unusable]
    assert waiting.push_state == "due" and waiting.push_attempts == 1
    assert waiting.last_push_error is not None and "HUB_PREVIOUS_SECRET_KEYS" in waiting.last_push_error
    assert waiting.next_push_at is not None and waiting.next_push_at > waiting.created_at


async def pusher_statements(
    sessions: async_sessionmaker[AsyncSession], endpoint: Endpoint, n: int
) -> tuple[int, list[str]]:
    """Statements of one pusher round of ``n`` sealed messages, each to an office of its own (as
    ``relay_statements`` counts them: an executemany's rows each), and the messages' lifecycles."""
    codes = [(await webhook_office(sessions, endpoint.url))[0] for _ in range(n)]
    async with unit_of_work(sessions) as session:
        cases = list(await add_creditors_with_cases(session, [n]))
    pks = [await send_mandate(sessions, code, b"<m/>", case) for code, case in zip(codes, cases, strict=True)]
    statements: list[str] = []

    def count(_c: object, _cur: object, statement: str, params: Any, context: Any, _many: bool) -> None:
        many = context.execute_style is ExecuteStyle.EXECUTEMANY
        statements.extend([statement] * (len(params) if many else 1))

    engine = sessions.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with httpx.AsyncClient() as client:
            assert await WebhookPusher(sessions, BOX, client).run_once() == n
    finally:
        event.remove(engine, "before_cursor_execute", count)
    async with sessions() as session:
        lifecycles = []
        for pk in pks:
            message = await session.get(StoredMessage, pk)
            steps = await session.scalars(
                select(MessageEvent).where(MessageEvent.message_pk == pk).order_by(MessageEvent.id)
            )
            assert message is not None
            lifecycles.append(f"{message.status}: {', '.join(f'{s.status} by {s.actor}' for s in steps)}")
    return len(statements), lifecycles


async def test_one_round_is_a_fixed_number_of_statements_whatever_its_size(
    committed_database_url: str, endpoint: Endpoint, tmp_path: Path
) -> None:
    # A database of its own: other tests' items come due at any time, and a round would take them too.
    async with database_like(committed_database_url, tmp_path) as url:
        engine = create_engine(url)
        try:
            sessions = session_factory(engine)
            few, lifecycles_few = await pusher_statements(sessions, endpoint, 2)
            many, lifecycles_many = await pusher_statements(sessions, endpoint, 40)
            dialect = engine.dialect.name
        finally:
            await engine.dispose()
    # Lease: the claim, the offices, the messages, their case keys, the lease. Settle: the items
    # delivered, their messages' status, their lifecycle steps. SQLite: BEGIN IMMEDIATE for each of
    # the two transactions, and the claim's write lock (a no-op UPDATE). Before, 1 + 8n on PostgreSQL
    # (17 for 2 pushes, 321 for 40): an office, a message and a case key read a push, an item and a
    # message a delivery, the items' and messages' changes an executemany's row each.
    assert few == many == (8 if dialect == "postgresql" else 11)
    assert len(endpoint.received) == 42
    assert lifecycles_few == ["delivered: routed by hub, delivered by webhook"] * 2
    assert lifecycles_many == ["delivered: routed by hub, delivered by webhook"] * 40


async def test_a_rounds_reads_take_more_keys_than_one_statement_holds(
    sessions: async_sessionmaker[AsyncSession], endpoint: Endpoint
) -> None:
    """PostgreSQL takes 32,767 parameters a statement: the reads of a round of a larger batch are
    made in parts, and find what is there among keys that are not."""
    code, _ = await webhook_office(sessions, endpoint.url)
    async with unit_of_work(sessions) as session:
        [case] = await add_creditors_with_cases(session, [1])
    pk = await send_mandate(sessions, code, b"<m/>", case)
    many = 33_000
    async with sessions() as session:
        repo = MessageRepository(session)
        [item_id] = (await repo.mailbox_item_ids_for([pk])).values()
        found = await OfficeRepository(session).by_codes([f"X{i}" for i in range(many)] + [code])
        assert list(found) == [code]
        assert list(await repo.messages_by_pk([uuid.uuid4() for _ in range(many)] + [pk])) == [pk]
        assert list(await repo.case_keys([uuid.uuid4() for _ in range(many)] + [case])) == [case]
        assert list(await repo.mailbox_items([-i for i in range(1, many)] + [item_id])) == [item_id]


async def test_a_message_resent_while_its_push_is_in_flight_is_pushed_again(
    committed_database_url: str, endpoint: Endpoint, tmp_path: Path
) -> None:
    """Staff resend a message while the office's endpoint is still answering its first push: the
    push's 2xx must not mark the resent item delivered (it has a new id, ADR 0023), so the resend is
    pushed too, under the same webhook id, which the office's receiver drops as a copy."""
    # A database of its own: other tests' items come due at any time, and a round would take them too.
    async with database_like(committed_database_url, tmp_path) as url:
        engine = create_engine(url)
        try:
            pushed, first, resent, delivered = await resend_during_a_push(session_factory(engine), endpoint)
        finally:
            await engine.dispose()
    assert resent.id > first.id and resent.push_state == "due" and resent.push_attempts == 0
    assert delivered.id == resent.id and delivered.push_state == "delivered"
    assert pushed == [pushed[0]] * 2  # the same webhook id twice: the office keeps one


async def resend_during_a_push(
    sessions: async_sessionmaker[AsyncSession], endpoint: Endpoint
) -> tuple[list[str], MailboxItem, MailboxItem, MailboxItem]:
    """The webhook ids pushed, and the message's mailbox item before the resend, once the push in
    flight is answered, and after the next round."""
    code, _ = await webhook_office(sessions, endpoint.url)
    message_pk = await send_mandate(sessions, code, b"<m/>")
    arrived, answer = asyncio.Event(), asyncio.Event()
    pushed: list[str] = []

    async def slow_office(request: httpx.Request) -> httpx.Response:
        pushed.append(request.headers["webhook-id"])
        arrived.set()
        await answer.wait()
        return httpx.Response(200)

    async def item() -> MailboxItem:
        async with sessions() as session:
            found = await session.scalar(select(MailboxItem).where(MailboxItem.message_pk == message_pk))
            assert found is not None
            return found

    first = await item()
    async with httpx.AsyncClient(transport=httpx.MockTransport(slow_office)) as client:
        pusher = WebhookPusher(sessions, BOX, client)
        in_flight = asyncio.create_task(pusher.run_once())
        await asyncio.wait_for(arrived.wait(), 10)
        async with unit_of_work(sessions) as session:
            await service.resend(session, message_pk, actor="admin@agence.example")
        while await Relay(sessions).run_once():
            pass
        answer.set()
        assert await in_flight == 1
        resent = await item()
        assert await pusher.run_once() == 1
    return pushed, first, resent, await item()
