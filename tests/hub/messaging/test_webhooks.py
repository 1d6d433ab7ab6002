"""Webhook push to a real HTTP endpoint on loopback, checked by a verifier written from the
Standard Webhooks spec in this file (not the hub's signing code), and by the sample verifier
shipped to office IT teams."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.webhooks import new_secret
from hub.database import unit_of_work
from hub.kit.crypto import SecretBox
from hub.messaging import service
from hub.messaging.models import MailboxItem
from hub.messaging.relay import Relay
from hub.messaging.service import Envelope
from hub.messaging.webhooks import WebhookPusher
from hub.offices import service as offices
from hub.offices.repository import OfficeRepository
from schemas.examples.verify_webhook import WebhookRefused, WebhookVerifier
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


async def send_mandate(sessions: async_sessionmaker[AsyncSession], code: str, body: bytes) -> None:
    async with unit_of_work(sessions) as session:
        envelope = Envelope(f"MND-{secrets.token_hex(6)}", "mandate", "AGENCY", code)
        await service.enqueue_outbound(
            session, envelope, body, "application/xml", exchange="hub.outbound", routing_key=f"office.{code}"
        )
    while await Relay(sessions).run_once():
        pass


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
