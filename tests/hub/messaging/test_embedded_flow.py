"""The embedded default end to end (no broker): offices send over HTTP and get signed receipts;
what the hub sends back reaches them through the pull inbox or a signed webhook push."""

from __future__ import annotations

import base64
import json
import secrets

import httpx
import pytest
from fastapi import FastAPI

from hub.database import unit_of_work
from hub.kit.crypto import SecretBox
from hub.kit.errors import NotFound
from hub.messaging.inbound import KindHandling
from hub.messaging.relay import Relay
from hub.messaging.signing import verify
from hub.messaging.webhooks import WebhookPusher
from hub.offices import service as offices
from hub.staff import service as staff
from hub.staff.models import Role
from schemas.examples.verify_webhook import WebhookVerifier
from schemas.v1 import SAMPLES_DIR
from tests.hub.messaging.conftest import Endpoint

SAMPLE = (SAMPLES_DIR / "valid" / "act_report.xml").read_text()
SEVERAL_ERRORS = (SAMPLES_DIR / "invalid" / "act_report_several_errors.xml").read_text()


def as_office(text: str, code: str) -> bytes:
    return text.replace("CJ75001-2026-000123", f"{code}-1").replace("CJ75001", code).encode()


async def new_office(app: FastAPI, *, webhook: str | None = None) -> tuple[str, dict[str, str], str | None]:
    code = "CJ" + secrets.token_hex(4).upper()
    async with unit_of_work(app.state.sessions) as session:
        await offices.add_office(session, code=code, name="Étude")
        secret = (
            await offices.set_webhook(session, SecretBox(app.state.settings.secret_key), code, webhook)
            if webhook
            else None
        )
        key = (await offices.create_key(session, code)).secret
    return code, {"Authorization": f"Bearer {key}"}, secret


def signed_fields(receipt: dict[str, object]) -> dict[str, object]:
    return {k: receipt[k] for k in ("message_id", "sha256", "received_at", "accepted")} | {
        "sender": receipt["envelope"]["recipient"],  # type: ignore[index]
        "errors": receipt.get("errors", []),
        "key_id": receipt["key_id"],  # the id of the key that signed, signed with the rest
    }


async def test_http_receipts_and_the_pull_inbox(app: FastAPI, client: httpx.AsyncClient) -> None:
    code, auth, _ = await new_office(app)
    public_key = (await client.get("/v1/receipts/public-key")).json()["public_key_base64"]
    xml = {**auth, "content-type": "application/xml"}

    accepted = await client.post("/v1/messages", content=as_office(SAMPLE, code), headers=xml)
    assert accepted.status_code == 202
    receipt = accepted.json()
    assert receipt["accepted"] is True and receipt["envelope"]["kind"] == "receipt"
    assert verify(public_key, signed_fields(receipt), receipt["signature"])

    again = await client.post("/v1/messages", content=as_office(SAMPLE, code), headers=xml)
    assert again.status_code == 409 and again.json()["code"] == "message.duplicate"
    assert again.json()["receipt"]["signature"] == receipt["signature"]

    refused = await client.post("/v1/messages", content=as_office(SEVERAL_ERRORS, code), headers=xml)
    assert refused.status_code == 422
    problem = refused.json()
    assert refused.headers["content-type"] == "application/problem+json"
    assert len(problem["errors"]) > 1 and problem["receipt"]["accepted"] is False
    assert verify(public_key, signed_fields(problem["receipt"]), problem["receipt"]["signature"])

    forged = json.loads((SAMPLES_DIR / "valid" / "act_report.json").read_text())
    forged["envelope"]["message_id"] = f"{code}-forged"
    forged_response = await client.post("/v1/messages", json=forged, headers=auth)
    assert forged_response.status_code == 403 and forged_response.json()["code"] == "envelope.sender_mismatch"

    csv = await client.post("/v1/messages", content=b"a;b", headers={**auth, "content-type": "text/csv"})
    assert csv.status_code == 415

    while await Relay(app.state.sessions).run_once():
        pass
    inbox = (await client.get("/v1/inbox", headers=auth)).json()["items"]
    assert [i["kind"] for i in inbox] == ["error_report", "error_report", "error_report"]
    nack = base64.b64decode(inbox[0]["body_base64"])
    assert b"<errorReport" in nack and problem["receipt"]["sha256"].encode() in nack

    detail = (await client.get(f"/v1/messages/{code}-1", headers=auth)).json()
    assert [s["status"] for s in detail["lifecycle"]] == ["received", "validated"]
    assert detail["receipt"]["signature"] == receipt["signature"]


@pytest.mark.usefixtures("client")
async def test_webhook_offices_get_their_messages_pushed(
    app: FastAPI, endpoint: Endpoint, client: httpx.AsyncClient
) -> None:
    code, auth, secret = await new_office(app, webhook=endpoint.url)
    bad = await client.post(
        "/v1/messages",
        content=as_office(SEVERAL_ERRORS, code),
        headers={**auth, "content-type": "application/xml"},
    )
    assert bad.status_code == 422
    while await Relay(app.state.sessions).run_once():
        pass
    async with httpx.AsyncClient() as http:
        await WebhookPusher(app.state.sessions, SecretBox(app.state.settings.secret_key), http).run_once()
    [(headers, body)] = endpoint.received
    assert secret is not None
    WebhookVerifier([secret]).verify(headers, body)
    assert b"<errorReport" in body


async def test_replay_applies_a_message_refused_earlier(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, auth, _ = await new_office(app)
    async with unit_of_work(app.state.sessions) as session:
        _, admin = await staff.add_staff(session, f"ops-{code.lower()}@agence.example", Role.ADMIN)

    async def mandate_unknown(*args: object) -> None:
        raise NotFound("no mandate M-2026-000042 for this office", code="mandate.unknown")

    monkeypatch.setitem(app.state.processor.kinds, "act_report", KindHandling(mandate_unknown))
    sent = await client.post(
        "/v1/messages", content=as_office(SAMPLE, code), headers={**auth, "content-type": "application/xml"}
    )
    assert sent.status_code == 404 and sent.json()["code"] == "mandate.unknown"
    [stored] = (await client.get("/v1/messages", params={"message_id": f"{code}-1"}, headers=auth)).json()[
        "items"
    ]

    monkeypatch.delitem(app.state.processor.kinds, "act_report")  # the mandate now exists
    url = f"/v1/messages/{stored['id']}/replay"
    assert (await client.post(url, headers=auth)).status_code == 401  # an office key
    replayed = await client.post(url, headers={"Authorization": f"Bearer {admin}"})
    assert replayed.status_code == 202 and replayed.json()["accepted"] is True
    again = await client.post(url, headers={"Authorization": f"Bearer {admin}"})
    assert again.status_code == 409  # applied once only
    lifecycle = (await client.get(f"/v1/messages/{stored['id']}", headers=auth)).json()["lifecycle"]
    assert [s["status"] for s in lifecycle][-1] == "replayed"
