"""Each AMQP office's own RabbitMQ user, on a private node with the management plugin (never the
machine's shared broker): made, rotated and revoked by `hub offices amqp-user` run as an operator
runs it, then used as the office's IT would use it. One office cannot read another's queue,
publish as another, publish anywhere but ``hub.inbound``, or declare anything."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import aiormq
import pytest
from aio_pika.exceptions import ProbableAuthenticationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.amqp import topology
from adapters.amqp.management import management_url_for, office_permissions, vhost_of
from hub.database import unit_of_work
from hub.kit.errors import Conflict, NotFound
from hub.offices import broker_users
from hub.offices import service as offices
from hub.offices.models import DeliveryChannel
from hub.settings import Settings
from tests.rabbitmq_node import RabbitNode, private_node_fixture

pytestmark = pytest.mark.rabbitmq
node = private_node_fixture(management=True)
HUB = [sys.executable, "-m", "hub"]


@pytest.fixture(scope="module")
def hub_env(node: RabbitNode, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    db = tmp_path_factory.mktemp("amqp-users") / "hub.db"
    env = dict(os.environ)
    env.update(
        HUB_DATABASE_URL=f"sqlite+aiosqlite:///{db}",
        HUB_AMQP_URL=node.url,
        HUB_RABBITMQ_MANAGEMENT_URL=node.management_url or "",
        HUB_ENV="development",
    )
    asyncio.run(_declare_topology(node))  # what `hub serve` declares when it connects
    hub(env, "migrate")
    for code in ("CJ75001", "CJ13001"):
        hub(env, "offices", "add", code, "--name", f"Étude {code}", "--channel", "amqp")
    hub(env, "offices", "add", "CJ69001", "--name", "Étude Lyon")  # pulls over HTTP
    yield env


async def _declare_topology(node: RabbitNode) -> None:
    connection = await aio_pika.connect(node.url)
    async with connection:
        await topology.declare_topology(await connection.channel(), ())


def hub(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*HUB, *args], env=env, capture_output=True, text=True, timeout=120)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def issued_url(env: dict[str, str], code: str) -> str:
    result = hub(env, "offices", "amqp-user", code)
    url = result.stdout.strip().splitlines()[-1]
    assert url.startswith(f"amqp://{code}:"), result.stdout
    return url


async def _publish_as_hub(node: RabbitNode, code: str, body: bytes) -> None:
    connection = await aio_pika.connect(node.url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(topology.OUTBOUND_EXCHANGE)
        await exchange.publish(
            aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=topology.office_routing_key(code),
        )


async def _inbound_user_ids(node: RabbitNode) -> list[str | None]:
    """What reached ``hub.inbound`` (read as the hub reads it), emptied."""
    connection = await aio_pika.connect(node.url)
    seen: list[str | None] = []
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(topology.INBOUND_QUEUE)
        while (message := await queue.get(fail=False, no_ack=False)) is not None:
            seen.append(message.user_id)
            await message.ack()
    return seen


async def test_an_office_user_reads_its_queue_and_publishes_as_itself_only(
    node: RabbitNode, hub_env: dict[str, str]
) -> None:
    paris, marseille = issued_url(hub_env, "CJ75001"), issued_url(hub_env, "CJ13001")
    await _publish_as_hub(node, "CJ75001", b"<mandate/>")

    office = await aio_pika.connect(paris)
    async with office:
        # Its own queue: the mandate is there (quorum queues may take a moment to show it).
        channel = await office.channel()
        queue = await channel.get_queue(topology.office_queue("CJ75001"), ensure=True)
        async with asyncio.timeout(30):
            while (got := await queue.get(fail=False, no_ack=True)) is None:  # noqa: ASYNC110 - no event to await
                await asyncio.sleep(0.1)
        assert got.body == b"<mandate/>"

        # Another office's queue: refused by the broker.
        channel = await office.channel()
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            other = await channel.get_queue(topology.office_queue("CJ13001"), ensure=False)
            await other.get(fail=False)

        # Publishing as itself to hub.inbound: accepted, and the hub sees the office's code.
        channel = await office.channel(publisher_confirms=True)
        inbound = await channel.get_exchange(topology.INBOUND_EXCHANGE, ensure=False)
        await inbound.publish(
            aio_pika.Message(b"<act_report/>", user_id="CJ75001"), routing_key=topology.INBOUND_ROUTING_KEY
        )
        # Publishing as another office: the broker closes the channel (the user-id is checked).
        with pytest.raises(aiormq.exceptions.ChannelPreconditionFailed):
            await inbound.publish(
                aio_pika.Message(b"<act_report/>", user_id="CJ13001"),
                routing_key=topology.INBOUND_ROUTING_KEY,
            )
        # Publishing to the agency's exchanges, or declaring anything: refused.
        channel = await office.channel(publisher_confirms=True)
        outbound = await channel.get_exchange(topology.OUTBOUND_EXCHANGE, ensure=False)
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await outbound.publish(aio_pika.Message(b"x"), routing_key=topology.office_routing_key("CJ13001"))
        channel = await office.channel()
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await channel.declare_queue("office.CJ75001.mine", durable=True)

    assert await _inbound_user_ids(node) == ["CJ75001"]
    # The other office's own user reads its own queue (it is the same rule, not a special case).
    other = await aio_pika.connect(marseille)
    async with other:
        channel = await other.channel()
        await channel.get_queue(topology.office_queue("CJ13001"), ensure=True)


async def test_rotation_and_revocation_stop_the_old_credentials(
    node: RabbitNode, hub_env: dict[str, str]
) -> None:
    first = issued_url(hub_env, "CJ13001")
    open_before = await aio_pika.connect(first)
    # The management API lists a connection once its statistics are emitted (every 5 s by default).
    await asyncio.sleep(6)
    rotated = hub(hub_env, "offices", "amqp-user", "CJ13001")
    assert "password rotated" in rotated.stderr
    second = rotated.stdout.strip().splitlines()[-1]
    assert second != first
    # The connection opened with the old password was closed by the broker: it can do nothing more.
    with pytest.raises((aiormq.exceptions.AMQPError, RuntimeError, ConnectionError)):
        await open_before.channel()
    await open_before.close()  # left open, it would be closed by the collector, never awaited
    with pytest.raises(ProbableAuthenticationError):
        await aio_pika.connect(first)
    connection = await aio_pika.connect(second)
    await connection.close()

    revoked = hub(hub_env, "offices", "amqp-user", "CJ13001", "--revoke")
    assert revoked.stdout.strip().splitlines()[-1] == "broker user CJ13001 revoked"
    with pytest.raises(ProbableAuthenticationError):
        await aio_pika.connect(second)
    again = hub(hub_env, "offices", "amqp-user", "CJ13001", "--revoke")
    assert again.stdout.strip().splitlines()[-1] == "office CJ13001 had no broker user"

    # Every change is on the office's record, with who made it (a revocation of nothing is not one).
    db = sqlite3.connect(hub_env["HUB_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///"))
    rows = db.execute(
        "SELECT e.actor, e.changes FROM office_events e JOIN offices o ON o.id = e.office_id "
        "WHERE o.code = 'CJ13001' ORDER BY e.id"
    ).fetchall()
    db.close()
    made = [json.loads(changes)["amqp_user"][1] for _, changes in rows]
    assert made[0] == "created" and made[-2:] == ["rotated", "revoked"]
    assert all(actor.startswith("cli:") for actor, _ in rows)


def test_refusals_name_the_cause(hub_env: dict[str, str]) -> None:
    pulled = hub(hub_env, "offices", "amqp-user", "CJ69001", ok=False)
    assert pulled.returncode == 1
    assert "not AMQP" in pulled.stderr and "--channel amqp" in pulled.stderr
    unknown = hub(hub_env, "offices", "amqp-user", "CJ99999", ok=False)
    assert unknown.returncode == 1 and "no office with code CJ99999" in unknown.stderr
    down = hub(
        {**hub_env, "HUB_RABBITMQ_MANAGEMENT_URL": "http://guest:guest@127.0.0.1:9"},
        "offices", "amqp-user", "CJ75001", ok=False,
    )  # fmt: skip
    assert down.returncode == 1 and "management API at http://127.0.0.1:9 is unreachable" in down.stderr
    assert "Traceback" not in down.stderr


async def test_without_a_broker_there_are_no_office_users(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code="CJ33001", name="Étude", delivery_channel=DeliveryChannel.AMQP)
    with pytest.raises(Conflict) as refused:
        async with unit_of_work(sessions) as session:
            await broker_users.issue_amqp_user(session, Settings(amqp_url=""), "CJ33001", actor="t")
    assert refused.value.code == "broker.not_configured"
    with pytest.raises(NotFound):
        async with unit_of_work(sessions) as session:
            await broker_users.revoke_amqp_user(
                session, Settings(amqp_url="amqp://guest:guest@127.0.0.1/"), "CJ00000", actor="t"
            )


def test_permissions_and_urls() -> None:
    rules = office_permissions("CJ75001")
    assert (rules.configure, rules.write, rules.read) == ("^$", r"^hub\.inbound$", r"^office\.CJ75001$")
    with pytest.raises(ValueError):
        office_permissions("cj75001.*")
    assert management_url_for("amqp://adm:s3cret@rabbit.internal:5672/hub") == (
        "http://adm:s3cret@rabbit.internal:15672"
    )
    assert vhost_of("amqp://a:b@h:5672/hub%2Fprod") == "hub/prod"
    assert vhost_of("amqp://a:b@h:5672/") == "/"
    assert vhost_of("amqp://a:b@h") == "/"
