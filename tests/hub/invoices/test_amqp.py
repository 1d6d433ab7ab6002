"""Fee invoices over AMQP: a UBL e-invoice and a Factur-X PDF published by an office go through the
intake of ``POST /v1/invoices`` (same parsing, same matching); receipts and the dispute listing the
bad line (once finance disputes it) come back on the office's queue."""

from __future__ import annotations

import aio_pika
import httpx
import pytest
from aio_pika.abc import AbstractIncomingMessage
from fastapi import FastAPI
from sqlalchemy import func, select

from adapters.amqp import topology
from hub.messaging.models import Receipt, StoredMessage
from tests.conftest import eventually
from tests.hub.acts.factories import bearer
from tests.hub.invoices.einvoices import Line, cii, facturx_pdf, ubl
from tests.hub.invoices.factories import world
from tests.hub.invoices.test_api import invoice_of, results
from tests.hub.messaging.test_amqp import (  # noqa: F401 - fixtures
    Hub,
    collect,
    committed_database_url,
    committed_engine,
    hub,
    office_code,
    publish_as_office,
    until_count,
)

pytestmark = pytest.mark.rabbitmq


async def test_einvoices_over_amqp_are_matched_and_the_dispute_reaches_the_office(
    hub: Hub,  # noqa: F811
    vhost_url: str,
    office_code: str,  # noqa: F811
    app: FastAPI,
    client: httpx.AsyncClient,
) -> None:
    w = await world(app, code=office_code)
    to_office: list[AbstractIncomingMessage] = []
    listener = await collect(vhost_url, topology.office_queue(office_code), to_office)

    await publish_as_office(
        vhost_url, office_code, ubl("F-AMQP-1", [Line(5158, ref="A/1"), Line(5158, ref="A/404")])
    )
    paid_at_tariff = Line(9764, ref="A/2", act_code="PAYMENT_ORDER", name="Commandement de payer")
    await publish_as_office(
        vhost_url,
        office_code,
        facturx_pdf(cii("FX-AMQP-1", [paid_at_tariff])),
        content_type="application/pdf",
    )
    receipts = (
        select(func.count()).select_from(Receipt).join(StoredMessage, StoredMessage.id == Receipt.message_pk)
    )
    await until_count(hub.sessions, receipts.where(StoredMessage.sender == office_code), 2)

    disputed = await invoice_of(client, w, f"EINV-{office_code}-F-AMQP-1")
    assert (disputed["syntax"], disputed["state"]) == ("ubl", "disputed")
    assert results(disputed) == [[], ["act_unknown"]]
    matched = await invoice_of(client, w, f"EINV-{office_code}-FX-AMQP-1")
    assert (matched["syntax"], matched["state"]) == ("facturx_pdf", "matched")
    assert results(matched) == [[]]

    decided = await client.post(
        "/v1/invoices/decisions",
        json={"invoice_ids": [disputed["id"]], "decision": "dispute", "comment": "A/404: no such act"},
        headers=bearer(w.finance),
    )
    assert decided.status_code == 200, decided.text
    await hub.drain()
    await eventually(lambda: len(to_office) == 4)
    kinds = sorted(str(m.headers["x-hub-kind"]) for m in to_office)
    assert kinds == ["invoice_dispute", "invoice_dispute", "receipt", "receipt"]
    assert all(m.delivery_mode == aio_pika.DeliveryMode.PERSISTENT for m in to_office)
    # One on receipt (its findings), one from finance (its comment); each lists the line found wrong.
    disputes = [m for m in to_office if m.headers["x-hub-kind"] == "invoice_dispute"]
    for dispute in disputes:
        assert b"F-AMQP-1" in dispute.body and b"act_unknown" in dispute.body
    assert sum(b"A/404: no such act" in d.body for d in disputes) == 1
    await listener.close()
