"""The mandates routes: staff issue, hold, approve and refuse; an office reads only its own mandates;
the clear-cut cases of the cost flag through POST /v1/acts/assess."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from hub.database import unit_of_work
from hub.kit.clock import utcnow
from hub.offices import service as offices
from hub.staff import service as staff
from hub.staff.models import Role
from tests.hub.acts.factories import report_json
from tests.hub.cases.factories import bearer, case_body
from tests.hub.mandates.factories import POOR, RICH, new_code


class Agency:
    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.auth = bearer(token)

    async def case(self, **changes: Any) -> str:
        body = case_body(**changes)
        answer = await self.client.post("/v1/cases", json=body, headers=self.auth)
        assert answer.status_code == 201, answer.text
        return str(body["ref"])

    async def mandate(self, **body: Any) -> httpx.Response:
        return await self.client.post("/v1/mandates", json=body, headers=self.auth)


@pytest.fixture
async def agency(app: FastAPI, client: httpx.AsyncClient) -> Agency:
    async with unit_of_work(app.state.sessions) as session:
        _, token = await staff.add_staff(session, f"{secrets.token_hex(4)}@agence.example", Role.STAFF)
    return Agency(client, token)


async def office_with_key(app: FastAPI, **kw: Any) -> tuple[str, dict[str, str]]:
    code = new_code()
    async with unit_of_work(app.state.sessions) as session:
        await offices.add_office(session, code=code, name="Étude", **kw)
        key = (await offices.create_key(session, code)).secret
    return code, bearer(key)


async def test_the_clear_cut_cases_give_clear_answers(agency: Agency, client: httpx.AsyncClient) -> None:
    poor = await agency.case(**POOR)
    rich = await agency.case(**RICH)
    recent_no_goods = (date.today() - timedelta(days=30)).isoformat()
    searched = await agency.case(evidence={"last_no_goods_report_on": recent_no_goods})

    async def assess(case_ref: str, act_code: str) -> dict[str, Any]:
        answer = await client.post(
            "/v1/acts/assess", json={"case_ref": case_ref, "act_code": act_code}, headers=agency.auth
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    sale_on_20_eur = await assess(poor, "SEIZURE_SALE")
    assert sale_on_20_eur["flagged"] is True
    assert sale_on_20_eur["cost_cents"] > sale_on_20_eur["expected_recovery_cents"]
    garnishment = await assess(rich, "BANK_GARNISHMENT")
    assert garnishment["flagged"] is False and garnishment["expected_recovery_cents"] > 0
    assert garnishment["explanation"]["rule_version"].startswith("creditor-net/")
    assert garnishment["stop_loss"] is None  # nothing spent on the case yet
    after_no_goods = await assess(searched, "SEIZURE_SALE")
    assert after_no_goods["flagged"] is True
    assert "NO_GOODS_REPORT" in [r["code"] for r in after_no_goods["reasons"]]
    assert any(
        recent_no_goods in r["message"] or "carence" in r["message"] for r in after_no_goods["reasons"]
    )

    unknown = await client.post(
        "/v1/acts/assess", json={"case_ref": rich, "act_code": "NOPE"}, headers=agency.auth
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["code"] == "act.unknown"


async def test_assess_reads_what_the_offices_reported(
    agency: Agency, app: FastAPI, client: httpx.AsyncClient
) -> None:
    """A PV de carence, an empty garnishment and a PV 659 reported under a whole-file mandate reach
    POST /v1/acts/assess, and pacing counts the coercive acts reported."""
    code, key = await office_with_key(app)
    case_ref = await agency.case(
        claim={"principal_cents": 100_000}, evidence={"seizable_goods_value_cents": 2_000_000}
    )
    made = await agency.mandate(
        case_ref=case_ref, office_code=code, kind="whole_file", fee_budget_cents=10_000
    )
    assert made.json()["status"] == "issued", made.text
    today = utcnow().date().isoformat()

    async def assess(act_code: str) -> dict[str, Any]:
        answer = await client.post(
            "/v1/acts/assess", json={"case_ref": case_ref, "act_code": act_code}, headers=agency.auth
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def office_reports(n: int, act_code: str, outcome_code: str) -> None:
        body = report_json(
            code,
            made.json()["ref"],
            f"facts-{n}",
            act_code=act_code,
            outcome_code=outcome_code,
            act_date=today,
        )
        answer = await client.post(
            "/v1/act-reports", content=body, headers={**key, "Content-Type": "application/json"}
        )
        assert answer.status_code == 202, answer.text

    def reasons(assessment: dict[str, Any]) -> dict[str, str]:
        return {r["code"]: r["message"] for r in assessment["reasons"]}

    sale, garnishment = await assess("SEIZURE_SALE"), await assess("BANK_GARNISHMENT")
    assert "NO_GOODS_REPORT" not in reasons(sale) and "FAILED_GARNISHMENT" not in reasons(garnishment)
    assert [g["code"] for g in (await assess("WAGE_GARNISHMENT_REQUEST"))["guardrails"]] == []

    await office_reports(1, "NO_GOODS_REPORT", "no_seizable_goods")
    await office_reports(2, "BANK_GARNISHMENT", "garnishment_empty")
    after_sale = await assess("SEIZURE_SALE")
    assert after_sale["expected_recovery_cents"] == 0 < sale["expected_recovery_cents"]
    named = reasons(after_sale)["NO_GOODS_REPORT"]
    assert f"'PV de carence' on {today} (act report A/{code}/facts-1 of office {code})" in named
    after_garnishment = await assess("BANK_GARNISHMENT")
    assert (
        f"(act report A/{code}/facts-2 of office {code}) caught nothing"
        in (reasons(after_garnishment)["FAILED_GARNISHMENT"])
    )
    assert after_garnishment["expected_recovery_cents"] < garnishment["expected_recovery_cents"]
    paced = (await assess("WAGE_GARNISHMENT_REQUEST"))["guardrails"]
    assert [g["code"] for g in paced] == ["PACING_EXCEEDED"] and f"({today}, {today})" in paced[0]["message"]

    await office_reports(3, "SERVE_TITLE", "address_unknown")
    assert f"act report A/{code}/facts-3" in reasons(await assess("SEIZURE_SALE"))["ADDRESS_UNKNOWN"]


async def test_held_then_approved_refused_and_hard_blocks(agency: Agency, app: FastAPI) -> None:
    code, _ = await office_with_key(app)
    held = await agency.mandate(
        case_ref=await agency.case(**POOR), office_code=code, kind="per_act", acts=["PAYMENT_ORDER"]
    )
    assert held.status_code == 201 and held.json()["status"] == "held"
    assert "cost.creditor_loses" in [r["code"] for r in held.json()["assessment"]["reasons"]]
    ref = held.json()["ref"]
    listed = await agency.client.get("/v1/mandates/held", params={"office": code}, headers=agency.auth)
    assert [m["ref"] for m in listed.json()["items"]] == [ref] and listed.json()["next_after"] is None

    approved = await agency.client.post(
        f"/v1/mandates/{ref}/decision", json={"decision": "approve", "comment": "ok"}, headers=agency.auth
    )
    assert approved.status_code == 200 and approved.json()["status"] == "issued"
    assert approved.json()["approval_id"].startswith("APR-")
    assert [e["to"] for e in approved.json()["events"]] == ["draft", "held", "issued"]

    other = await agency.mandate(
        case_ref=await agency.case(**POOR), office_code=code, kind="per_act", acts=["PAYMENT_ORDER"]
    )
    refused = await agency.client.post(
        f"/v1/mandates/{other.json()['ref']}/refuse", json={"comment": "not worth it"}, headers=agency.auth
    )
    assert refused.json()["status"] == "cancelled" and refused.json()["approval_id"] is None
    again = await agency.client.post(
        f"/v1/mandates/{other.json()['ref']}/approve",
        json={"comment": "changed my mind"},
        headers=agency.auth,
    )
    assert again.status_code == 409 and again.json()["code"] == "mandate.not_held"

    blocked = await agency.mandate(
        case_ref=await agency.case(title=None, **RICH),
        office_code=code,
        kind="per_act",
        acts=["BANK_GARNISHMENT"],
    )
    assert blocked.status_code == 422 and blocked.json()["code"] == "mandate.refused_by_guardrails"
    assert blocked.json()["errors"] == [
        {
            "path": "acts[0]",
            "code": "guardrail.no_enforceable_title",
            "message": "No enforceable title (titre exécutoire) is on file, "
            "and 'Bank account garnishment' needs one.",
        }
    ]
    cancelled = await agency.client.post(
        f"/v1/mandates/{ref}/cancel", json={"reason": "debtor paid"}, headers=agency.auth
    )
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["events"][-1] | {"at": None} == {
        "from": "issued",
        "to": "cancelled",
        "at": None,
        "actor": cancelled.json()["created_by"],
        "reason": "debtor paid",
    }


async def test_an_office_sees_only_its_own_mandates(agency: Agency, app: FastAPI) -> None:
    a, key_a = await office_with_key(app)
    b, key_b = await office_with_key(app)
    mine = [
        (
            await agency.mandate(
                case_ref=await agency.case(**RICH), office_code=a, kind="per_act", acts=["SERVE_TITLE"]
            )
        )
        for _ in range(3)
    ]
    theirs = await agency.mandate(
        case_ref=await agency.case(**RICH), office_code=b, kind="per_act", acts=["SERVE_TITLE"]
    )
    refs = sorted(m.json()["ref"] for m in mine)

    first = (await agency.client.get("/v1/mandates", params={"limit": 2}, headers=key_a)).json()
    assert [m["ref"] for m in first["items"]] == refs[:2] and first["next_after"] == refs[1]
    rest = (await agency.client.get("/v1/mandates", params={"after": refs[1]}, headers=key_a)).json()
    assert [m["ref"] for m in rest["items"]] == refs[2:] and rest["next_after"] is None
    assert all(m["office_code"] == a and m["assessment"] is None for m in first["items"] + rest["items"])

    own = await agency.client.get(f"/v1/mandates/{refs[0]}", headers=key_a)
    assert own.status_code == 200 and own.json()["events"] is None
    foreign = await agency.client.get(f"/v1/mandates/{theirs.json()['ref']}", headers=key_a)
    assert foreign.status_code == 404 and foreign.json()["code"] == "mandate.not_found"
    assert (await agency.client.get("/v1/mandates/held", headers=key_b)).status_code == 401
    assert (await agency.client.post("/v1/mandates", json={}, headers=key_b)).status_code == 401

    everything = (
        await agency.client.get(
            "/v1/mandates", params={"status": "issued", "limit": 500}, headers=agency.auth
        )
    ).json()
    assert {*refs, theirs.json()["ref"]} <= {m["ref"] for m in everything["items"]}

    # The status filter keeps an office's own mandates in that status, and only those.
    cancel = await agency.client.post(
        f"/v1/mandates/{refs[0]}/cancel", json={"reason": "debtor paid"}, headers=agency.auth
    )
    assert cancel.status_code == 200, cancel.text
    by_status = {
        wanted: [
            m["ref"]
            for m in (
                await agency.client.get("/v1/mandates", params={"status": wanted}, headers=key_a)
            ).json()["items"]
        ]
        for wanted in ("issued", "cancelled", "held")
    }
    assert by_status == {"issued": refs[1:], "cancelled": refs[:1], "held": []}
    bad = await agency.client.get("/v1/mandates", params={"status": "lost"}, headers=key_a)
    assert bad.status_code == 422


async def test_a_hold_on_a_case_reaches_the_office_working_on_it(agency: Agency, app: FastAPI) -> None:
    code, key = await office_with_key(app)
    case_ref = await agency.case(**RICH)
    ref = (
        await agency.mandate(case_ref=case_ref, office_code=code, kind="whole_file", fee_budget_cents=9_000)
    ).json()["ref"]
    answer = await agency.client.post(
        f"/v1/cases/{case_ref}/holds",
        json={"situation": "disputed", "comment": "letter of 12 Nov"},
        headers=agency.auth,
    )
    assert answer.status_code == 201, answer.text
    [notice] = answer.json()["notices"]
    assert notice["office_code"] == code and notice["mandate_refs"] == [ref]
    case = (await agency.client.get(f"/v1/cases/{case_ref}", headers=agency.auth)).json()
    assert case["evidence"]["disputed"] is True
    refused = await agency.client.post(
        f"/v1/cases/{case_ref}/holds", json={"situation": "disputed", "comment": "x"}, headers=key
    )
    assert refused.status_code == 401
