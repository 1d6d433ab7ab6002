"""/readyz follows the real broker when HUB_AMQP_URL is set."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from adapters.amqp import topology
from adapters.amqp.connection import connect
from hub import broker as broker_module
from hub.app import create_app
from hub.settings import Settings
from tests.conftest import sqlite_database

pytestmark = pytest.mark.rabbitmq


async def _readyz(settings: Settings, *, wait_s: float) -> httpx.Response:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as client,
    ):
        deadline = asyncio.get_running_loop().time() + wait_s
        while True:
            response = await client.get("/readyz")
            if response.status_code == 200 or asyncio.get_running_loop().time() > deadline:
                return response
            await asyncio.sleep(0.2)


async def test_readyz_is_200_with_the_broker_up(settings: Settings, vhost_url: str, tmp_path: Path) -> None:
    # The run's own virtual host (emptied after the test) and a database of the test's own: the hub
    # declares a quorum queue for every office it knows, and with the shared test database on the
    # broker's default vhost those piled up run after run (hundreds) until RabbitMQ stopped answering.
    own = {"amqp_url": vhost_url, "database_url": await sqlite_database(tmp_path)}
    response = await _readyz(settings.model_copy(update=own), wait_s=15)
    assert response.status_code == 200
    assert response.json()["broker"] == "up"


async def test_readyz_is_503_when_the_broker_is_unreachable(settings: Settings) -> None:
    response = await _readyz(
        settings.model_copy(update={"amqp_url": "amqp://guest:guest@127.0.0.1:1/"}), wait_s=1
    )
    assert response.status_code == 503
    assert "broker unreachable" in response.json()["detail"]


async def test_readyz_names_a_queue_made_with_other_arguments_until_an_operator_replaces_it(
    settings: Settings, vhost_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broker set up before ADR 0021 has hub.inbound with a broker delivery limit: the hub cannot
    redeclare it, says why in /readyz (and its log), and comes up once the queue is replaced."""
    monkeypatch.setattr(broker_module, "RETRY_TOPOLOGY_S", 0.2)
    old = {**topology.quorum_queue_arguments(delivery_limit=None), "x-delivery-limit": 5}
    connection = await connect(vhost_url, name="hub-tests")
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(topology.INBOUND_QUEUE, durable=True, arguments=old)
        own = {"amqp_url": vhost_url, "database_url": await sqlite_database(tmp_path)}
        app = create_app(settings.model_copy(update=own))
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as client,
        ):
            async with asyncio.timeout(15):
                while "topology" not in (refused := await client.get("/readyz")).text:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
            assert refused.status_code == 503
            detail = refused.json()["detail"]
            assert "x-delivery-limit" in detail and "rabbitmqctl delete_queue" in detail

            await channel.queue_delete(topology.INBOUND_QUEUE)  # what the hint says, the queue empty
            async with asyncio.timeout(15):
                while (ready := await client.get("/readyz")).status_code != 200:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
            assert ready.json()["broker"] == "up"
            declared = await channel.declare_queue(topology.INBOUND_QUEUE, passive=True)
            assert declared.name == topology.INBOUND_QUEUE
