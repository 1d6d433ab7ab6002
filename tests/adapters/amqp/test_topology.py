"""The topology: names, queue arguments, the checked-in definitions document, the live broker."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from aio_pika.abc import AbstractRobustConnection

from adapters.amqp.topology import (
    SAMPLE_OFFICE_CODES,
    declare_office_queue,
    declare_topology,
    definitions,
    office_queue,
    quorum_queue_arguments,
    render_definitions,
)
from tests.adapters.amqp.conftest import OFFICES, rabbitmqctl

DEFINITIONS_FILE = Path(__file__).parents[3] / "deploy" / "rabbitmq" / "definitions.json"
REGENERATE = "python -m adapters.amqp.topology > deploy/rabbitmq/definitions.json"


def test_the_checked_in_definitions_are_generated_from_the_topology() -> None:
    assert DEFINITIONS_FILE.read_text() == render_definitions(SAMPLE_OFFICE_CODES), (
        f"{DEFINITIONS_FILE} drifted from adapters/amqp/topology.py; regenerate it with: {REGENERATE}"
    )


def test_every_work_queue_is_a_quorum_queue_that_dead_letters_after_its_delivery_limit() -> None:
    document = definitions(["CJ75001"], delivery_limit=3)
    queues = {q["name"]: q["arguments"] for q in document["queues"]}
    assert set(queues) == {"hub.inbound", "agency.events", "office.CJ75001", "hub.dead"}
    dead_lettered = {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": "hub.dead",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }
    for name in ("agency.events", "office.CJ75001"):
        assert queues[name] == {**dead_lettered, "x-delivery-limit": 3}
    # The hub's consumer of hub.inbound counts deliveries itself (ADR 0021): no broker limit.
    assert queues["hub.inbound"] == dead_lettered
    # hub.dead keeps what it receives: no delivery limit (without a DLX it would drop messages).
    assert queues["hub.dead"] == {"x-queue-type": "quorum"}
    exchanges = {e["name"]: e["type"] for e in document["exchanges"]}
    assert exchanges == {
        "hub.outbound": "direct",
        "hub.inbound": "direct",
        "hub.agency": "topic",
        "hub.dead": "fanout",
    }
    assert {
        "source": "hub.outbound",
        "destination": "office.CJ75001",
        "routing_key": "office.CJ75001",
    }.items() <= (next(b for b in document["bindings"] if b["destination"] == "office.CJ75001").items())


@pytest.mark.parametrize("code", ["", "c", "cj75001", "CJ.75001", "CJ#", "A" * 17, "CJ 1"])
def test_an_office_code_that_could_break_a_routing_key_is_refused(code: str) -> None:
    with pytest.raises(ValueError, match="office code"):
        office_queue(code)


def test_a_delivery_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        quorum_queue_arguments(delivery_limit=0)


def _broker_definitions(vhost: str) -> dict[str, list[dict[str, Any]]]:
    """What the broker really has in ``vhost``, in the definitions format."""
    exported = json.loads(rabbitmqctl("export_definitions", "--format", "json", "-"))
    return {
        kind: _sorted([item for item in exported[kind] if item.get("vhost") == vhost])
        for kind in ("exchanges", "queues", "bindings")
    }


def _sorted(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))


def _expected(codes: tuple[str, ...], vhost: str) -> dict[str, list[dict[str, Any]]]:
    document = definitions(codes, vhost=vhost)
    return {kind: _sorted(document[kind]) for kind in ("exchanges", "queues", "bindings")}


@pytest.mark.rabbitmq
async def test_declare_topology_yields_exactly_the_definitions(
    connection: AbstractRobustConnection, vhost: str
) -> None:
    channel = await connection.channel()
    await declare_topology(channel, OFFICES)
    await declare_topology(channel, OFFICES)  # idempotent: the hub declares at every start

    assert _broker_definitions(vhost) == _expected(OFFICES, vhost)


@pytest.mark.rabbitmq
async def test_adding_an_office_declares_its_queue_and_binding(
    connection: AbstractRobustConnection, vhost: str
) -> None:
    channel = await connection.channel()
    await declare_topology(channel, OFFICES)

    assert await declare_office_queue(channel, "CJ69001") == "office.CJ69001"
    assert await declare_office_queue(channel, "CJ69001") == "office.CJ69001"

    assert _broker_definitions(vhost) == _expected((*OFFICES, "CJ69001"), vhost)


@pytest.mark.rabbitmq
async def test_the_checked_in_definitions_loaded_first_are_exactly_what_the_hub_declares_at_start(
    vhost_url: str, vhost: str
) -> None:
    """deploy/compose.yaml imports deploy/rabbitmq/definitions.json into the cluster before the hub
    starts: the hub's declaration at start (hub.broker.Broker, as `hub serve` runs it) must then
    find equivalent objects (RabbitMQ refuses a redeclaration with other arguments) and add none."""
    from hub.broker import Broker  # the hub's start path; adapters themselves never import hub

    document = json.loads(DEFINITIONS_FILE.read_text().replace('"vhost": "/"', f'"vhost": "{vhost}"'))
    document.pop("vhosts")
    # rabbitmqctl runs as the rabbitmq user: the file must be readable by it.
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir="/tmp", delete=False) as file:
        json.dump(document, file)
    try:
        os.chmod(file.name, 0o644)
        rabbitmqctl("import_definitions", file.name)
    finally:
        os.unlink(file.name)
    loaded = _broker_definitions(vhost)

    broker = Broker(vhost_url, SAMPLE_OFFICE_CODES)
    await broker.start()
    try:
        async with asyncio.timeout(30):
            await broker.ready()
    finally:
        await broker.stop()

    assert _broker_definitions(vhost) == loaded == _expected(SAMPLE_OFFICE_CODES, vhost)
