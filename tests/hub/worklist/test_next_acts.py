"""GET /v1/cases/{ref}/next-acts: the acts one may order next ranked by the creditor's expected net
from the one cost model (the same figures as POST /v1/acts/assess), the outcomes of a visit never
listed, and the acts a guardrail stops listed with why: blocked by insolvency, sent to review by a
vulnerable debtor's hold."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from tests.hub.cases.factories import case_body
from tests.hub.mandates.factories import RICH
from tests.hub.worklist.factories import staff_token


async def next_acts(client: httpx.AsyncClient, auth: dict[str, str], ref: str) -> list[dict[str, Any]]:
    answer = await client.get(f"/v1/cases/{ref}/next-acts", headers=auth)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["acts"])


async def a_case(client: httpx.AsyncClient, auth: dict[str, str], **changes: Any) -> str:
    body = case_body(**changes)
    assert (await client.post("/v1/cases", json=body, headers=auth)).status_code == 201
    return str(body["ref"])


async def test_ranked_by_expected_net_as_the_cost_model_assesses_each(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    auth = await staff_token(app)
    ref = await a_case(client, auth, **RICH)
    acts = await next_acts(client, auth, ref)
    codes = [a["act_code"] for a in acts]
    assert "NO_GOODS_REPORT" not in codes and "ADDRESS_UNKNOWN_REPORT" not in codes  # outcomes of a visit
    assert "BANK_GARNISHMENT" in codes
    open_acts = [a for a in acts if a["status"] != "blocked"]
    nets = [a["expected_net_cents"] for a in open_acts]
    assert nets == sorted(nets, reverse=True) and nets[0] > 0
    for act in acts[:3]:
        assessed = await client.post(
            "/v1/acts/assess", json={"case_ref": ref, "act_code": act["act_code"]}, headers=auth
        )
        figures = assessed.json()
        assert (act["cost_cents"], act["expected_recovery_cents"], act["expected_net_cents"]) == (
            figures["cost_cents"],
            figures["expected_recovery_cents"],
            figures["expected_net_cents"],
        )
        assert act["explanation"] == figures["reasons"][0]["message"] and act["details"]


async def test_guardrails_list_blocked_and_review_acts_with_why(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    auth = await staff_token(app)
    insolvent = await a_case(client, auth, evidence={**RICH["evidence"], "insolvency_proceedings": True})
    acts = await next_acts(client, auth, insolvent)
    blocked = {a["act_code"]: a for a in acts if a["status"] == "blocked"}
    assert "BANK_GARNISHMENT" in blocked
    assert [r["code"] for r in blocked["BANK_GARNISHMENT"]["reasons"]] == ["INSOLVENCY_PROCEEDINGS"]
    first_blocked = next(i for i, a in enumerate(acts) if a["status"] == "blocked")
    assert all(a["status"] == "blocked" for a in acts[first_blocked:])  # blocked acts come last

    vulnerable = await a_case(client, auth, **RICH)
    held = await client.post(
        f"/v1/cases/{vulnerable}/holds",
        json={"situation": "vulnerable", "comment": "Hospitalisé."},
        headers=auth,
    )
    assert held.status_code == 201, held.text
    reviewed = {a["act_code"]: a for a in await next_acts(client, auth, vulnerable)}
    assert reviewed["BANK_GARNISHMENT"]["status"] == "review"
    assert "VULNERABLE_DEBTOR" in [r["code"] for r in reviewed["BANK_GARNISHMENT"]["reasons"]]

    unknown = await client.get("/v1/cases/NO-SUCH-CASE/next-acts", headers=auth)
    assert unknown.status_code == 404 and unknown.json()["code"] == "case.not_found"
