"""Fixtures for the AMQP adapter tests, on the test session's virtual host of the shared broker.

The topology's names are fixed (``hub.outbound``, ``hub.dead``...), so tests cannot share a
virtual host with other engineers' tests or with a running hub: each run has one of its own, and
each test finds it empty (``vhost`` in tests/conftest.py deletes what the test declared).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aio_pika.abc import AbstractChannel, AbstractRobustConnection

from adapters.amqp.connection import connect
from adapters.amqp.publisher import OutgoingMessage
from adapters.amqp.topology import declare_topology
from tests.conftest import eventually, rabbitmqctl  # noqa: F401 - re-exported for the tests here

OFFICES = ("CJ75001", "CJ13001")


@pytest.fixture
async def connection(vhost_url: str) -> AsyncIterator[AbstractRobustConnection]:
    connection = await connect(vhost_url, name="hub-tests")
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def channel(connection: AbstractRobustConnection) -> AbstractChannel:
    """A confirming channel on a vhost where the whole topology is declared."""
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    await declare_topology(channel, OFFICES)
    return channel


def mandate(message_id: str, *, office: str = "CJ75001", body: bytes = b"<mandate/>") -> OutgoingMessage:
    return OutgoingMessage(
        message_id=message_id,
        exchange="hub.outbound",
        routing_key=f"office.{office}",
        body=body,
        content_type="application/xml",
        headers={"x-hub-kind": "mandate"},
        correlation_id=f"case-{message_id}",
    )


async def message_count(channel: AbstractChannel, queue_name: str) -> int:
    """Ready messages now. Not via ``channel.declare_queue(passive=True)``: a robust channel hands
    back its cached queue object, with the count of its first declaration."""
    underlay = await channel.get_underlay_channel()
    declared = await underlay.queue_declare(queue_name, passive=True)
    return declared.message_count or 0
