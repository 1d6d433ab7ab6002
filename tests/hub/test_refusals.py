"""Every refusal path of every kind an office sends, over HTTP and over AMQP: bad input is a 4xx
with a signed receipt (HTTP) or a signed negative receipt on the office's queue (AMQP), each error
code in the wire form, never a 500. The table: per kind (mandate_ack, act_report, fee_invoice,
cost_request, hold_notice_ack, case_update_ack, remittance, reminder_ack) its schema, a duplicate JSON
key, its meaning (unknown mandate, notice, update, case, currency, reminder), a forged sender, the
wrong route; an invoice's total VAT its lines do not give; then an unreadable body in each syntax, a
DOCTYPE, a content type the hub does not read, a kind offices may not send, an EN 16931 rule breach,
and a duplicate."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aio_pika.abc import AbstractIncomingMessage
from fastapi import FastAPI

from adapters.amqp import topology
from adapters.xml import codec
from hub.messaging.signing import ReceiptSigner, signed_time, verify
from schemas import v1
from schemas.v1 import SAMPLES_DIR
from tests.hub.acts.factories import report_json
from tests.hub.invoices.einvoices import SIRET
from tests.hub.invoices.factories import World, world
from tests.hub.invoices.test_rule_breaches import breaking
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

WIRE_CODE = re.compile(r"^[a-z][a-z0-9_.]{1,63}$")
JSON, XML = "application/json", "application/xml"
ROUTES = {
    "mandate_ack": "/v1/mandate-acks",
    "act_report": "/v1/act-reports",
    "fee_invoice": "/v1/invoices",
    "cost_request": "/v1/cost-requests",
    "hold_notice_ack": "/v1/hold-notice-acks",
    "case_update_ack": "/v1/case-update-acks",
    "remittance": "/v1/remittances",
    "reminder_ack": "/v1/reminders/RMD-0c4e2f7a9b1d4c3e8f6a5b4c3d2e1f0a/ack",
}
SAMPLES = {
    "mandate_ack": "mandate_ack_accepted.json",
    "act_report": "act_report.json",
    "fee_invoice": "fee_invoice.json",
    "cost_request": "cost_request.json",
    "hold_notice_ack": "hold_notice_ack.json",
    "case_update_ack": "case_update_ack.json",
    "remittance": "remittance.json",
    "reminder_ack": "reminder_ack.json",
}


@dataclass(frozen=True)
class Bad:
    name: str
    route: str
    body: bytes
    content_type: str
    status: int  # the HTTP answer
    code: str  # the first error's code


def message(kind: str, sender: str, name: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES_DIR / "valid" / SAMPLES[kind]).read_text(encoding="utf-8"))
    data["envelope"] = {
        **data["envelope"],
        "sender": sender,
        "message_id": f"BAD-{name}-{secrets.token_hex(3)}",
    }
    data.update(changes)
    return data


def encoded(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def table(w: World) -> list[Bad]:
    code, other = w.code, "CJ" + secrets.token_hex(4).upper()
    bad: list[Bad] = []
    meaning = {
        "mandate_ack": (404, "mandate.not_found", {}),
        "act_report": (404, "mandate.not_found", {}),
        "fee_invoice": (
            422,
            "invoice.currency_not_accepted",
            {"currency": "USD", "seller": {"office_code": code, "siret": SIRET, "name": "Étude"}},
        ),
        "cost_request": (404, "mandate.not_found", {}),
        "hold_notice_ack": (404, "hold_notice.not_found", {}),
        "case_update_ack": (404, "case_update.not_found", {}),
        "remittance": (422, "remittance.case_unknown", {}),
        "reminder_ack": (404, "reminder.not_found", {}),
    }
    for kind, route in ROUTES.items():
        schema = message(kind, code, f"{kind}-schema")
        schema.pop(next(k for k in schema if k != "envelope"))
        bad.append(Bad(f"{kind}: schema", route, encoded(schema), JSON, 422, "value.missing"))
        twice = encoded(message(kind, code, f"{kind}-dup-key")).replace(
            b'"version": "1"', b'"version": "2", "version": "1"', 1
        )
        bad.append(Bad(f"{kind}: duplicate key", route, twice, JSON, 422, "json.duplicate_key"))
        status, meaning_code, changes = meaning[kind]
        body = encoded(message(kind, code, f"{kind}-meaning", **changes))
        bad.append(Bad(f"{kind}: meaning", route, body, JSON, status, meaning_code))
        forged = encoded(message(kind, other, f"{kind}-forged"))
        bad.append(Bad(f"{kind}: forged sender", route, forged, JSON, 403, "envelope.sender_mismatch"))
        elsewhere = ROUTES["act_report" if kind != "act_report" else "mandate_ack"]
        wrong = encoded(message(kind, code, f"{kind}-route"))
        bad.append(Bad(f"{kind}: wrong route", elsewhere, wrong, JSON, 422, "envelope.kind_not_for_route"))
    # An invoice whose total VAT its lines do not give (the sample's 18.48 stated as 28.48).
    seller = {"office_code": code, "siret": SIRET, "name": "Étude"}
    vat = message(
        "fee_invoice", code, "fee_invoice-vat", seller=seller, total_vat_cents=2848, total_gross_cents=12970
    )
    bad.append(
        Bad(
            "fee_invoice: total VAT",
            ROUTES["fee_invoice"],
            encoded(vat),
            JSON,
            422,
            "invoice.total_vat_mismatch",
        )
    )
    agency_kind = json.loads((SAMPLES_DIR / "valid" / "mandate_per_act.json").read_text(encoding="utf-8"))
    agency_kind["envelope"] = {**agency_kind["envelope"], "sender": code, "recipient": "AGENCY"}
    doctype = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><actReport xmlns="urn:agency-hub:edi:v1"/>'
    bad += [
        Bad("unreadable xml", "/v1/messages", b"<actReport><<", XML, 422, "xml.syntax"),
        Bad("unreadable json", "/v1/messages", b'{"envelope": ', JSON, 422, "value.json_invalid"),
        Bad("doctype", "/v1/messages", doctype, XML, 422, "xml.doctype_forbidden"),
        Bad("content type", "/v1/messages", b"a;b\n1;2", "text/csv", 415, "content_type.unsupported"),
        Bad("agency kind", "/v1/messages", encoded(agency_kind), JSON, 422, "envelope.kind_not_accepted"),
        Bad("en 16931 rule", "/v1/invoices", breaking("BR-CO-10", "ubl", "F-WALK"), XML, 422, ""),
    ]
    return bad


def check_codes(errors: list[dict[str, Any]], bad: Bad) -> None:
    assert errors, bad.name
    assert all(WIRE_CODE.match(e["code"]) for e in errors), (bad.name, errors)
    if bad.code:
        assert errors[0]["code"].startswith(bad.code), (bad.name, errors)


async def test_every_refusal_over_http_is_a_4xx_with_a_signed_receipt(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    w = await world(app)
    public_key = (await client.get("/v1/receipts/public-key")).json()["public_key_base64"]
    for bad in table(w):
        headers = {"Authorization": f"Bearer {w.key}", "Content-Type": bad.content_type}
        answer = await client.post(bad.route, content=bad.body, headers=headers)
        assert answer.status_code == bad.status, (bad.name, answer.text)
        problem = answer.json()
        assert WIRE_CODE.match(problem["code"]), (bad.name, problem)
        check_codes(problem["errors"], bad)
        receipt = problem["receipt"]
        assert receipt["accepted"] is False, bad.name
        check_codes(receipt["errors"], bad)
        assert verify(public_key, signed_fields(receipt), receipt["signature"]), bad.name
        v1.Receipt.model_validate_json(json.dumps(receipt))

    # A duplicate: 409 with the first receipt, signed.
    first = report_json(w.code, w.seeded.mandate.ref, 990)
    headers = {"Authorization": f"Bearer {w.key}", "Content-Type": JSON}
    assert (await client.post("/v1/act-reports", content=first, headers=headers)).status_code == 202
    again = await client.post("/v1/act-reports", content=first, headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "message.duplicate"
    assert verify(public_key, signed_fields(again.json()["receipt"]), again.json()["receipt"]["signature"])

    too_large = await client.post("/v1/messages", content=b" " * (2 << 20), headers=headers)
    assert too_large.status_code == 413 and too_large.json()["code"] == "payload_too_large"


@pytest.mark.rabbitmq
async def test_every_refusal_over_amqp_gets_a_signed_negative_receipt(
    hub: Hub,  # noqa: F811
    vhost_url: str,
    office_code: str,  # noqa: F811
    app: FastAPI,
) -> None:
    w = await world(app, code=office_code)
    from hub.kit.http import BodyLimits

    bads = [b for b in table(w) if b.code != "envelope.kind_not_for_route"]  # AMQP has no routes
    hub.consumer.limits = BodyLimits(body=8192, invoice=8192, batch=8192)  # as HUB_MAX_BODY_BYTES
    big = encoded(message("act_report", w.code, "too-large", comment="x" * 9000))
    bads.append(Bad("too large", "", big, JSON, 413, "payload_too_large"))
    to_office: list[AbstractIncomingMessage] = []
    listener = await collect(vhost_url, topology.office_queue(office_code), to_office)
    for bad in bads:
        await publish_as_office(vhost_url, office_code, bad.body, content_type=bad.content_type)

    def receipts() -> list[v1.Receipt]:
        read = (codec.decode(m.body) for m in to_office if m.headers["x-hub-kind"] == "receipt")
        return [r for r in read if isinstance(r, v1.Receipt)]

    async with asyncio.timeout(60):  # a liveness bound: one receipt per message
        while len(receipts()) < len(bads):
            await hub.drain()
            await asyncio.sleep(0.05)
    await listener.close()

    got = receipts()
    assert len(got) == len(bads) and not any(r.accepted for r in got)
    public_key = ReceiptSigner("k" * 40).public_key_b64()
    by_first_code = sorted(r.errors[0].code for r in got)
    for receipt in got:
        errors = [e.model_dump(exclude_none=True) for e in receipt.errors]
        assert all(WIRE_CODE.match(e["code"]) for e in errors)
        signed = {
            "message_id": receipt.message_id,
            "sender": office_code,
            "sha256": receipt.sha256,
            "received_at": signed_time(receipt.received_at),
            "accepted": False,
            "errors": errors,
        }
        if receipt.key_id is not None:  # the key that signed it, named in what it signs
            signed["key_id"] = receipt.key_id
        assert verify(public_key, signed, receipt.signature), receipt
    for bad in bads:
        if bad.code:
            assert any(c.startswith(bad.code) for c in by_first_code), (bad.name, by_first_code)
    assert any(c == "en16931.br_co_10" for r in got for c in (e.code for e in r.errors))
