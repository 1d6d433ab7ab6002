"""Fixtures for the AMQP adapter tests: a virtual host of the test's own on the shared broker.

The topology's names are fixed (``hub.outbound``, ``hub.dead``...), so tests cannot share a
virtual host with each other, with other engineers' tests or with a running hub. Each test gets a
fresh one (``rabbitmqctl add_vhost``, ~0.3 s), deleted afterwards with everything in it.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from urllib.parse import quote

import pytest
from aio_pika.abc import AbstractChannel, AbstractRobustConnection

from adapters.amqp.connection import connect
from adapters.amqp.publisher import OutgoingMessage
from adapters.amqp.topology import declare_topology
from tests.conftest import require

OFFICES = ("CJ75001", "CJ13001")


def rabbitmqctl(*args: str) -> str:
    """The shared broker's ``rabbitmqctl``: only vhost-scoped commands, never stop or kill."""
    try:
        done = subprocess.run(
            ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        require(f"rabbitmqctl ({error})", False)
        raise
    if done.returncode != 0:
        require(f"rabbitmqctl {args[0]} ({done.stderr.strip()})", False)
    return done.stdout


@pytest.fixture
def vhost(amqp_url: str) -> Iterator[str]:
    name = f"hubt_{secrets.token_hex(4)}"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield name
    finally:
        rabbitmqctl("delete_vhost", name)


@pytest.fixture
def vhost_url(amqp_url: str, vhost: str) -> str:
    return amqp_url.rstrip("/") + "/" + quote(vhost, safe="")


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


async def eventually(condition: Callable[[], bool], *, within: float = 30.0, every: float = 0.05) -> None:
    """Waits until ``condition()`` is true; a liveness bound, not a timing assertion."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - polls state that has no event to await
            await asyncio.sleep(every)
