"""The body limit of HTTP (``HUB_MAX_BODY_BYTES``) holds over AMQP too, on the real RabbitMQ: a
50 MB JSON body is refused before it is parsed or stored (it was stored raw, whatever its size),
with a signed negative receipt ``payload_too_large`` for its office and the reason in hub.dead."""

from __future__ import annotations

import asyncio
import json
import secrets

import pytest
from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy import func, select

from adapters.amqp import topology
from adapters.xml import codec
from hub.messaging.models import StoredMessage
from hub.messaging.signing import ReceiptSigner, signed_time, verify
from hub.settings import Settings
from schemas import v1
from tests.hub.messaging.test_amqp import (  # noqa: F401 - fixtures
    Hub,
    collect,
    committed_database_url,
    committed_engine,
    count,
    hub,
    office_code,
    publish_as_office,
)

pytestmark = pytest.mark.rabbitmq
FIFTY_MB = 50 * 1024 * 1024


def huge_json(size: int) -> bytes:
    head = b'{"envelope": {"kind": "act_report"}, "comment": "'
    return head + b"x" * (size - len(head) - 2) + b'"}'


async def test_a_body_over_the_limit_is_refused_unread_and_unstored(
    hub: Hub,  # noqa: F811
    vhost_url: str,
    office_code: str,  # noqa: F811
) -> None:
    limit = Settings.model_fields["max_body_bytes"].default  # HUB_MAX_BODY_BYTES, as over HTTP
    assert limit < FIFTY_MB
    stored = select(func.count()).select_from(StoredMessage)
    inbound = stored.where(StoredMessage.direction == "inbound")
    before, inbound_before = await count(hub.sessions, stored), await count(hub.sessions, inbound)
    to_office: list[AbstractIncomingMessage] = []
    dead: list[AbstractIncomingMessage] = []
    listeners = [
        await collect(vhost_url, topology.office_queue(office_code), to_office),
        await collect(vhost_url, topology.DEAD_LETTER_QUEUE, dead),
    ]

    await publish_as_office(vhost_url, office_code, huge_json(FIFTY_MB), content_type="application/json")
    # And from an AMQP user that is no office: dead-lettered with the reason, not stored either.
    await publish_as_office(
        vhost_url, "guest", huge_json(limit + 1), user_id="guest", content_type="application/json"
    )
    async with asyncio.timeout(60):  # a liveness bound: 2 dead letters, a receipt and a report
        while len(dead) < 2 or len(to_office) < 2:
            await hub.drain()
            await asyncio.sleep(0.05)
    for listener in listeners:
        await listener.close()

    # Nothing of either body was stored: no inbound message, only the small answers and letters.
    assert await count(hub.sessions, inbound) == inbound_before
    assert await count(hub.sessions, stored) == before + 4
    biggest = await count(hub.sessions, select(func.max(func.length(StoredMessage.body))))
    assert biggest < limit

    assert sorted(str(m.headers["x-hub-reason"]) for m in dead) == ["payload_too_large"] * 2
    assert all(m.body == b"" for m in dead)
    assert sorted(str(m.headers["x-hub-sender"]) for m in dead) == sorted([office_code, "UNKNOWN"])
    [receipt] = [codec.decode(m.body) for m in to_office if m.headers["x-hub-kind"] == "receipt"]
    [report] = [codec.decode(m.body) for m in to_office if m.headers["x-hub-kind"] == "error_report"]
    assert isinstance(receipt, v1.Receipt) and isinstance(report, v1.ErrorReport)
    assert receipt.accepted is False and [e.code for e in receipt.errors] == ["payload_too_large"]
    assert [e.code for e in report.errors] == ["payload_too_large"]
    assert receipt.sha256 == report.sha256 and len(receipt.sha256) == 64
    signed = {
        "message_id": receipt.message_id,
        "sender": office_code,
        "sha256": receipt.sha256,
        "received_at": signed_time(receipt.received_at),
        "accepted": False,
        "errors": [e.model_dump(exclude_none=True) for e in receipt.errors],
        "key_id": ReceiptSigner("k" * 40).key_id,
    }
    assert receipt.key_id == signed["key_id"]
    assert verify(ReceiptSigner("k" * 40).public_key_b64(), signed, receipt.signature)


async def test_a_body_within_the_limit_still_goes_through(
    hub: Hub,  # noqa: F811
    vhost_url: str,
    office_code: str,  # noqa: F811
) -> None:
    inbound = select(func.count()).select_from(StoredMessage).where(StoredMessage.sender == office_code)
    body = json.dumps({"envelope": {"message_id": f"M-{secrets.token_hex(4)}"}}).encode()
    await publish_as_office(vhost_url, office_code, body, content_type="application/json")
    async with asyncio.timeout(30):
        while await count(hub.sessions, inbound) < 1:  # noqa: ASYNC110 - polls the database
            await asyncio.sleep(0.05)
