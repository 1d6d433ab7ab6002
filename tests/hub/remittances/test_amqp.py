"""A remittance over AMQP: one refused (every failing line on the signed negative receipt, nothing
posted) and one accepted (posted to the ledger), each answered on the office's queue."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from aio_pika.abc import AbstractIncomingMessage
from fastapi import FastAPI

from adapters.amqp import topology
from adapters.xml import codec
from schemas import v1
from tests.hub.messaging.test_amqp import (  # noqa: F401 - fixtures
    Hub,
    collect,
    committed_database_url,
    committed_engine,
    hub,
    office_code,
    publish_as_office,
)
from tests.hub.remittances.factories import encoded, remittance, world
from tests.hub.remittances.test_api import stored, unremitted

pytestmark = pytest.mark.rabbitmq


async def test_a_remittance_over_amqp_is_refused_line_by_line_then_accepted(
    hub: Hub,  # noqa: F811
    vhost_url: str,
    office_code: str,  # noqa: F811
    app: FastAPI,
    client: httpx.AsyncClient,
) -> None:
    w = await world(app, [10_000, 2_000], code=office_code)
    to_office: list[AbstractIncomingMessage] = []
    listener = await collect(vhost_url, topology.office_queue(office_code), to_office)
    refused = remittance(
        office_code, [(w.a.ref(0), 10_001), ("C-NO-SUCH-CASE", 5), (w.a.ref(1), 2_000)], n="1"
    )
    accepted = remittance(office_code, [(w.a.ref(0), 10_000), (w.a.ref(1), 2_000)], n="2")
    as_xml = codec.encode(v1.Remittance.model_validate_json(encoded(accepted)))
    await publish_as_office(vhost_url, office_code, encoded(refused), content_type="application/json")
    await publish_as_office(vhost_url, office_code, as_xml, content_type="application/xml")

    def receipts() -> dict[str, v1.Receipt]:
        read = (codec.decode(m.body) for m in to_office if m.headers["x-hub-kind"] == "receipt")
        return {r.message_id: r for r in read if isinstance(r, v1.Receipt)}

    async with asyncio.timeout(60):  # a liveness bound: one receipt per message
        while len(receipts()) < 2:
            await hub.drain()
            await asyncio.sleep(0.05)
    await listener.close()

    got = receipts()
    no, yes = got[refused["envelope"]["message_id"]], got[accepted["envelope"]["message_id"]]
    assert not no.accepted
    assert [(e.path, e.code) for e in no.errors] == [
        ("/lines/0/amount_cents", "remittance.above_collected"),
        ("/lines/1/case_ref", "remittance.case_unknown"),
    ]
    assert yes.accepted and not yes.errors
    assert await stored(app, w) == (1, 2)
    assert (await unremitted(client, w))["offices"] == []
