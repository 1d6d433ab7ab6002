"""An e-invoice whose totals break an EN 16931 rule (BR-CO-10, BR-CO-13) is refused like any bad
input, on every transport: 422 with a signed receipt over HTTP, a negative receipt on the office's
queue over AMQP, each naming the rule (wire code ``en16931.br_co_10``, message ``BR-CO-10: ...``).
It answered 500 with no receipt: the rule id failed the wire pattern of error codes."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from aio_pika.abc import AbstractIncomingMessage
from fastapi import FastAPI

from adapters.amqp import topology
from adapters.xml import codec
from hub.messaging.signing import verify
from schemas import v1
from tests.hub.invoices.einvoices import Line, cii, ubl
from tests.hub.invoices.factories import World, count_messages, world
from tests.hub.messaging.test_amqp import (  # noqa: F401 - fixtures
    Hub,
    collect,
    committed_database_url,
    committed_engine,
    hub,
    office_code,
    publish_as_office,
)
from tests.hub.messaging.test_embedded_flow import signed_fields


def breaking(rule: str, form: str, number: str) -> bytes:
    """An invoice of one 51.58 line whose document totals break ``rule``: BR-CO-10, the sum of
    the lines (BT-106) stated as 50.00; BR-CO-13, the total without VAT (BT-109) stated as 50.00."""
    if form == "ubl":
        body = ubl(number, [Line(5158, ref="A/1")]).decode()
        stated = {
            "BR-CO-10": '<cbc:LineExtensionAmount currencyID="EUR">51.58</cbc:LineExtensionAmount>\n'
            "    <cbc:TaxExclusiveAmount",
            "BR-CO-13": '<cbc:TaxExclusiveAmount currencyID="EUR">51.58</cbc:TaxExclusiveAmount>',
        }[rule]
    else:
        body = cii(number, [Line(5158, ref="A/1")]).decode()
        stated = {
            "BR-CO-10": "<ram:LineTotalAmount>51.58</ram:LineTotalAmount>\n        <ram:TaxBasisTotalAmount>",
            "BR-CO-13": "<ram:TaxBasisTotalAmount>51.58</ram:TaxBasisTotalAmount>",
        }[rule]
    assert body.count(stated) == 1, stated
    return body.replace(stated, stated.replace("51.58", "50.00")).encode()


def named(errors: list[dict[str, object]], rule: str) -> list[dict[str, object]]:
    code = "en16931." + rule.lower().replace("-", "_")
    return [e for e in errors if e["code"] == code and str(e["message"]).startswith(f"{rule}: ")]


@pytest.mark.parametrize("form", ["ubl", "cii"])
@pytest.mark.parametrize("rule", ["BR-CO-10", "BR-CO-13"])
async def test_a_rule_breach_over_http_is_422_with_a_signed_receipt_naming_the_rule(
    app: FastAPI, client: httpx.AsyncClient, rule: str, form: str
) -> None:
    w: World = await world(app)
    headers = {"Authorization": f"Bearer {w.key}", "Content-Type": "application/xml"}
    public_key = (await client.get("/v1/receipts/public-key")).json()["public_key_base64"]
    body = breaking(rule, form, f"F-{rule}")
    for attempt in (1, 2):  # sent again: the same clear answer, never a 500
        refused = await client.post("/v1/invoices", content=body, headers=headers)
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert named(problem["errors"], rule), problem["errors"]
        receipt = problem["receipt"]
        assert receipt["accepted"] is False and named(receipt["errors"], rule)
        assert verify(public_key, signed_fields(receipt), receipt["signature"])
        v1.Receipt.model_validate_json(json.dumps(receipt))  # valid on the wire
        assert await count_messages(app, "error_report", w.code) == attempt


@pytest.mark.rabbitmq
async def test_a_rule_breach_over_amqp_gets_a_negative_receipt_naming_the_rule(
    hub: Hub,  # noqa: F811
    vhost_url: str,
    office_code: str,  # noqa: F811
    app: FastAPI,
) -> None:
    await world(app, code=office_code)  # gives the office its SIRET, the e-invoices' seller
    to_office: list[AbstractIncomingMessage] = []
    listener = await collect(vhost_url, topology.office_queue(office_code), to_office)
    await publish_as_office(vhost_url, office_code, breaking("BR-CO-10", "ubl", "F-AMQP-BR"))
    await publish_as_office(vhost_url, office_code, breaking("BR-CO-13", "cii", "F-AMQP-CII"))
    async with asyncio.timeout(30):  # a liveness bound: a receipt and an error report for each
        while len(to_office) < 4:
            await hub.drain()  # what the consumer committed so far
            await asyncio.sleep(0.05)
    await listener.close()
    read = [codec.decode(m.body) for m in to_office]
    receipts = [m for m in read if isinstance(m, v1.Receipt)]
    reports = [m for m in read if isinstance(m, v1.ErrorReport)]
    assert len(receipts) == 2 and len(reports) == 2
    assert not any(r.accepted for r in receipts)
    for rule in ("BR-CO-10", "BR-CO-13"):
        assert any(named([e.model_dump() for e in r.errors], rule) for r in receipts), rule
        assert any(named([e.model_dump() for e in r.errors], rule) for r in reports), rule
