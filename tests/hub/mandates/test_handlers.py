"""Office messages about mandates on the inbound path: acknowledgements move the mandate, cost
requests wait for staff, and the decision goes back to the office with its approval id."""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from adapters.xml import codec
from hub.acts.models import ActReport
from hub.database import unit_of_work
from hub.kit.clock import utcnow
from hub.messaging import sealing
from hub.messaging.inbound import decode
from hub.messaging.models import StoredMessage
from hub.offices.models import Office
from hub.staff import service as staff
from hub.staff.models import Role
from schemas import v1
from tests.hub.acts.factories import report
from tests.hub.mandates.factories import RICH
from tests.hub.mandates.test_api import Agency, office_with_key


def office_message(kind: str, code: str, **body: Any) -> dict[str, Any]:
    envelope = {
        "message_id": f"{code}-{secrets.token_hex(6)}",
        "kind": kind,
        "version": "1",
        "sender": code,
        "recipient": "AGENCY",
        "sent_at": "2026-11-23T10:00:00Z",
    }
    return {"envelope": envelope, **body}


async def agency_for(app: FastAPI, client: httpx.AsyncClient, role: Role = Role.STAFF) -> Agency:
    async with unit_of_work(app.state.sessions) as session:
        _, token = await staff.add_staff(session, f"{secrets.token_hex(4)}@agence.example", role)
    return Agency(client, token)


async def test_acknowledgements_accept_or_refuse_only_own_issued_mandates(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    agency = await agency_for(app, client)
    code, key = await office_with_key(app)
    other, other_key = await office_with_key(app)

    async def issued() -> str:
        case_ref = await agency.case(**RICH)
        made = await agency.mandate(case_ref=case_ref, office_code=code, kind="per_act", acts=["SERVE_TITLE"])
        return str(made.json()["ref"])

    accepted_ref, refused_ref = await issued(), await issued()
    ack = office_message("mandate_ack", code, mandate_ref=accepted_ref, accepted=True, office_reference="E-1")
    assert (await client.post("/v1/messages", json=ack, headers=key)).status_code == 202
    no = office_message(
        "mandate_ack", code, mandate_ref=refused_ref, accepted=False, reason="out_of_territory"
    )
    assert (await client.post("/v1/messages", json=no, headers=key)).status_code == 202

    accepted = (await client.get(f"/v1/mandates/{accepted_ref}", headers=agency.auth)).json()
    assert accepted["status"] == "acknowledged"
    assert accepted["events"][-1]["actor"] == code and "E-1" in accepted["events"][-1]["reason"]
    refused = (await client.get(f"/v1/mandates/{refused_ref}", headers=agency.auth)).json()
    assert refused["status"] == "refused" and refused["events"][-1]["reason"] == "out_of_territory"

    twice = office_message("mandate_ack", code, mandate_ref=accepted_ref, accepted=True)
    answer = await client.post("/v1/messages", json=twice, headers=key)
    assert answer.status_code == 422 and answer.json()["errors"][0]["code"] == "mandate.not_awaiting_ack"
    foreign = office_message("mandate_ack", other, mandate_ref=await issued(), accepted=True)
    answer = await client.post("/v1/messages", json=foreign, headers=other_key)
    assert answer.status_code == 404 and answer.json()["errors"][0]["code"] == "mandate.not_found"


async def test_a_cost_request_is_decided_by_staff_and_answered_to_the_office(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    agency = await agency_for(app, client)
    finance = await agency_for(app, client, Role.FINANCE)
    code, key = await office_with_key(app)
    case_ref = await agency.case(**RICH)
    ref = (
        await agency.mandate(case_ref=case_ref, office_code=code, kind="whole_file", fee_budget_cents=20_000)
    ).json()["ref"]
    request = office_message(
        "cost_request",
        code,
        mandate_ref=ref,
        act_code="BANK_GARNISHMENT",
        estimated_fees_cents=12_876,
        justification="Compte identifié (FICOBA)",
    )
    assert (await client.post("/v1/messages", json=request, headers=key)).status_code == 202
    bad = office_message(
        "cost_request",
        code,
        mandate_ref=ref,
        act_code="TELEPORT",
        currency="USD",
        estimated_fees_cents=1,
        justification="?",
    )
    refused = await client.post("/v1/messages", json=bad, headers=key)
    assert {e["code"] for e in refused.json()["errors"]} == {"act.unknown", "currency.mismatch"}

    pending = (await client.get("/v1/approvals", params={"office": code}, headers=finance.auth)).json()
    [asked] = [p for p in pending["items"] if p["request_message_id"] == request["envelope"]["message_id"]]
    assert asked["decision"] is None and asked["amount_cents"] == 12_876 and asked["requested_by"] == code
    # What staff need to decide it: the case, debtor and balance, the act and its cost, the reasons.
    assert asked["justification"] == "Compte identifié (FICOBA)" and asked["mandate_ref"] == ref
    assert asked["case_ref"] == case_ref and asked["kind_fr"] == "mandat au dossier"
    assert asked["debtor_name"] and asked["outstanding_cents"] == 500_000 and asked["currency"] == "EUR"
    assert asked["act"]["fees_cents"] == 12_876 and "saisie-attribution" in asked["act"]["name_fr"]
    assert asked["act"]["cost_cents"] > 0 and asked["act"]["flagged"] is False
    one = await client.get(f"/v1/approvals/{asked['approval_id']}", headers=finance.auth)
    assert one.status_code == 200 and one.json() == asked
    assert (await client.get("/v1/approvals", headers=key)).status_code == 401

    no_reason = await client.post(
        f"/v1/approvals/{asked['approval_id']}/decide", json={"decision": "refused"}, headers=finance.auth
    )
    assert (
        no_reason.status_code == 422 and no_reason.json()["errors"][0]["code"] == "approval.reason_required"
    )
    decided = await client.post(
        f"/v1/approvals/{asked['approval_id']}/decide",
        json={"decision": "approved", "approved_fees_cents": 13_000},
        headers=finance.auth,
    )
    assert decided.status_code == 200 and decided.json()["decision"] == "approved"
    again = await client.post(
        f"/v1/approvals/{asked['approval_id']}/decide", json={"decision": "approved"}, headers=finance.auth
    )
    assert again.status_code == 409
    still = await client.get(f"/v1/approvals/{asked['approval_id']}", headers=finance.auth)
    assert still.json()["decision"] == "approved" and still.json()["amount_cents"] == 13_000
    waiting = await client.get("/v1/approvals", params={"office": code}, headers=finance.auth)
    assert asked["approval_id"] not in [p["approval_id"] for p in waiting.json()["items"]]

    async with app.state.sessions() as session:
        rows = list(
            await session.scalars(
                select(StoredMessage).where(
                    StoredMessage.kind == "cost_decision",
                    StoredMessage.correlation_id == request["envelope"]["message_id"],
                )
            )
        )
        [row] = rows
        answer = decode(await sealing.open_body(session, row), row.content_type)  # sealed: the case's key
    assert isinstance(answer, v1.CostDecision) and row.recipient == code
    assert answer.approval_id == asked["approval_id"] and answer.approved_fees_cents == 13_000
    assert answer.request_id == request["envelope"]["message_id"] and answer.mandate_ref == ref


async def test_an_office_asks_on_post_cost_requests_and_the_approval_covers_the_overrun(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    agency = await agency_for(app, client)
    code, key = await office_with_key(app)
    case_ref = await agency.case(**RICH)
    ref = (
        await agency.mandate(case_ref=case_ref, office_code=code, kind="whole_file", fee_budget_cents=8_000)
    ).json()["ref"]
    request = v1.CostRequest.model_validate_json(
        json.dumps(
            office_message(
                "cost_request",
                code,
                mandate_ref=ref,
                act_code="SUMMONS",
                estimated_fees_cents=6_038,
                justification="Second acte utile au dossier",
            )
        )
    )
    xml = {**key, "Content-Type": "application/xml", "Idempotency-Key": "ask-1"}
    asked = await client.post("/v1/cost-requests", content=codec.encode(request), headers=xml)
    assert asked.status_code == 202 and asked.json()["accepted"] is True
    replay = await client.post("/v1/cost-requests", content=codec.encode(request), headers=xml)
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.content == asked.content
    unknown = office_message(
        "cost_request",
        code,
        mandate_ref="M-NOPE",
        act_code="SUMMONS",
        estimated_fees_cents=1,
        justification="?",
    )
    refused = await client.post("/v1/cost-requests", json=unknown, headers=key)
    assert refused.status_code == 404 and refused.json()["code"] == "mandate.not_found"

    finance = await agency_for(app, client, Role.FINANCE)
    [pending] = [
        p
        for p in (await client.get("/v1/approvals", params={"office": code}, headers=finance.auth)).json()[
            "items"
        ]
        if p["request_message_id"] == request.envelope.message_id
    ]
    decided = await client.post(
        f"/v1/approvals/{pending['approval_id']}/decide", json={"decision": "approved"}, headers=finance.auth
    )
    assert decided.status_code == 200

    today = utcnow().date().isoformat()
    first = report(code, ref, 1, act_code="SERVE_TITLE", act_date=today)  # 60.38 of 80.00
    assert (await client.post("/v1/act-reports", json=first, headers=key)).status_code == 202
    over = report(code, ref, 2, act_code="SUMMONS", act_date=today, approval_id=pending["approval_id"])
    assert (await client.post("/v1/act-reports", json=over, headers=key)).status_code == 202
    again = report(code, ref, 3, act_code="SUMMONS", act_date=today)
    assert (await client.post("/v1/act-reports", json=again, headers=key)).status_code == 202
    async with app.state.sessions() as session:
        acts = {
            a.office_reference: a
            for a in await session.scalars(
                select(ActReport).where(ActReport.office_id.in_(select(Office.id).where(Office.code == code)))
            )
        }
    assert [acts[f"A/{code}/{n}"].flagged for n in (1, 2, 3)] == [False, False, True]
    covered, over_again = acts[f"A/{code}/2"].assessment, acts[f"A/{code}/3"].assessment
    assert covered is not None and "budget_overrun" in covered["needs_approval"]
    assert over_again is not None and "budget_overrun" in [f["code"] for f in over_again["flags"]]
    # The staff view of the mandate: consumption from the ledger.
    budget = (await client.get(f"/v1/mandates/{ref}", headers=agency.auth)).json()["budget"]
    assert budget == {
        "fee_budget_cents": 8_000,
        "consumed_cents": 3 * 6_038,
        "remaining_cents": 8_000 - 3 * 6_038,
        "overrun": True,
    }
