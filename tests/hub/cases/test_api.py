"""POST/GET /v1/cases for staff; office keys are refused."""

from __future__ import annotations

import secrets

import httpx
from fastapi import FastAPI

from hub.database import unit_of_work
from hub.offices import service as offices
from hub.staff import service as staff
from hub.staff.models import Role
from tests.hub.cases.factories import bearer, case_body


async def test_staff_open_and_read_a_case(app: FastAPI, client: httpx.AsyncClient) -> None:
    code = "CJ" + secrets.token_hex(4).upper()
    async with unit_of_work(app.state.sessions) as session:
        _, token = await staff.add_staff(session, f"{code.lower()}@agence.example", Role.STAFF)
        await offices.add_office(session, code=code, name="Étude")
        office_key = (await offices.create_key(session, code)).secret
    body = case_body(evidence={"bank_balance_cents": 2_000_000})

    created = await client.post("/v1/cases", json=body, headers=bearer(token))
    assert created.status_code == 201, created.text
    read = (await client.get(f"/v1/cases/{body['ref']}", headers=bearer(token))).json()
    assert read["outstanding_cents"] == 500_000
    assert read["evidence"]["bank_balance_cents"] == 2_000_000
    assert read["evidence"]["monthly_net_income_cents"] is None
    assert read["debtor"]["address"]["departement"] == "75"

    again = await client.post("/v1/cases", json=body, headers=bearer(token))
    assert again.status_code == 409 and again.json()["code"] == "case.exists"
    assert (await client.get("/v1/cases/NOPE", headers=bearer(token))).status_code == 404
    refused = await client.get(f"/v1/cases/{body['ref']}", headers=bearer(office_key))
    assert refused.status_code == 401


async def test_a_malformed_case_lists_every_error(app: FastAPI, client: httpx.AsyncClient) -> None:
    async with unit_of_work(app.state.sessions) as session:
        _, token = await staff.add_staff(session, f"{secrets.token_hex(4)}@agence.example", Role.STAFF)
    body = case_body(claim={"principal_cents": -1}, claim_kind="gambling")
    answer = await client.post("/v1/cases", json=body, headers=bearer(token))
    assert answer.status_code == 422
    paths = {e["path"] for e in answer.json()["errors"]}
    assert {"claim.principal_cents", "claim_kind"} <= paths
