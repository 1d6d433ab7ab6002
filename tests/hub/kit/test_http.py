"""The HTTP plumbing every route shares: the body limits (the same object the AMQP consumer uses)
and the refusal of JSON bodies that give a key twice, on the routes FastAPI reads the body of."""

from __future__ import annotations

import secrets

import httpx
from fastapi import FastAPI

from hub.database import unit_of_work
from hub.kit.http import BodyLimits, body_too_large
from hub.settings import Settings
from hub.staff import service as staff
from hub.staff.models import Role
from tests.hub.cases.factories import bearer, case_body


def test_the_limits_of_each_route_and_of_a_message_without_one() -> None:
    limits = BodyLimits(body=1000, invoice=5000, batch=90000)
    assert limits.for_path("/v1/messages") == limits.for_path("/v1/cases") == 1000
    assert limits.for_path("/v1/invoices") == 5000 and limits.for_path("/v1/act-reports/batch") == 90000
    assert limits.for_message("application/json") == limits.for_message("application/xml") == 1000
    assert limits.for_message("application/pdf") == limits.for_message("Application/PDF; x=1") == 5000
    assert BodyLimits(body=9000, invoice=5000, batch=1).for_message("application/pdf") == 9000
    assert body_too_large(1000, 1000) is None
    refusal = body_too_large(1001, 1000)
    assert refusal is not None and (refusal.status, refusal.code) == (413, "payload_too_large")
    settings = Settings(max_body_bytes=2048, max_invoice_bytes=4096, max_batch_bytes=8192)
    assert BodyLimits.from_settings(settings) == BodyLimits(2048, 4096, 8192)
    assert BodyLimits.defaults() == BodyLimits.from_settings(Settings(_env_file=None))


async def test_a_staff_json_body_giving_a_key_twice_is_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with unit_of_work(app.state.sessions) as session:
        _, token = await staff.add_staff(session, f"{secrets.token_hex(4)}@agence.example", Role.STAFF)
    body = case_body()
    raw = httpx.Request("POST", "/", json=body).content.decode()
    twice = raw.replace('"principal_cents":', '"principal_cents":1,"principal_cents":', 1)
    assert twice != raw
    headers = {**bearer(token), "Content-Type": "application/json"}
    answer = await client.post("/v1/cases", content=twice, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "json.duplicate_key"
    assert [(e["path"], e["code"]) for e in answer.json()["errors"]] == [
        ("claim.principal_cents", "json.duplicate_key")
    ]
    assert (await client.get(f"/v1/cases/{body['ref']}", headers=bearer(token))).status_code == 404
    assert (await client.post("/v1/cases", content=raw, headers=headers)).status_code == 201
