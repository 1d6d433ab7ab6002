"""What waits for a person (GET /v1/mandates/held, GET /v1/approvals): read a page at a time to
the end whatever the count (no cap), filtered, each item compact with what is needed to decide."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from hub.database import unit_of_work
from hub.mandates.models import Mandate
from hub.staff.models import Role
from tests.hub.mandates.factories import POOR, RICH
from tests.hub.mandates.test_api import Agency, office_with_key
from tests.hub.mandates.test_handlers import agency_for, office_message


async def walk(
    client: httpx.AsyncClient, path: str, auth: dict[str, str], **params: Any
) -> list[list[dict[str, Any]]]:
    """Every page of a list, following `next_after` until it is null."""
    pages: list[list[dict[str, Any]]] = []
    after = None
    while True:
        answer = await client.get(
            path, params={**params, **({"after": after} if after else {})}, headers=auth
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append(body["items"])
        after = body["next_after"]
        if after is None:
            return pages
        assert after == pages[-1][-1][_key(path)]


def _key(path: str) -> str:
    return "approval_id" if path.startswith("/v1/approvals") else "ref"


async def test_600_held_mandates_are_read_to_the_last_through_pages(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """More held mandates than the old silent cap of 500: every one is read once, in ref order."""
    agency = await agency_for(app, client)
    code, _ = await office_with_key(app)
    held = await agency.mandate(
        case_ref=await agency.case(**POOR), office_code=code, kind="per_act", acts=["PAYMENT_ORDER"]
    )
    assert held.json()["status"] == "held", held.text
    async with unit_of_work(app.state.sessions) as session:
        model = await session.scalar(select(Mandate).where(Mandate.ref == held.json()["ref"]))
        assert model is not None
        session.add_all(
            Mandate(
                ref=f"{model.ref}-{n:03d}",
                case_id=model.case_id,
                office_id=model.office_id,
                kind=model.kind,
                acts=model.acts,
                currency=model.currency,
                status="held",
                assessment=model.assessment,
                created_by=model.created_by,
            )
            for n in range(599)
        )
    pages = await walk(client, "/v1/mandates/held", agency.auth, office=code, limit=250)
    assert [len(p) for p in pages] == [250, 250, 100]
    refs = [m["ref"] for page in pages for m in page]
    assert refs == sorted(refs) and len(set(refs)) == 600 and refs[0] == held.json()["ref"]
    first = await client.get("/v1/mandates/held", params={"office": code}, headers=agency.auth)
    assert len(first.json()["items"]) == 100  # the default page
    over = await client.get("/v1/mandates/held", params={"limit": 501}, headers=agency.auth)
    assert over.status_code == 422

    # Compact: the summary, not the ~7 KB assessment each; the full one stays on the mandate.
    item = pages[0][0]
    assert "assessment" not in item and len(json.dumps(item)) * 3 < len(json.dumps(model.assessment))


async def test_a_held_mandate_carries_what_a_person_needs_to_decide(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    agency = await agency_for(app, client)
    code, _ = await office_with_key(app)
    case_ref = await agency.case(**POOR, debtor={"kind": "person", "name": "Paul Durand"})
    made = await agency.mandate(case_ref=case_ref, office_code=code, kind="per_act", acts=["PAYMENT_ORDER"])
    full = made.json()
    [item] = (await client.get("/v1/mandates/held", params={"case": case_ref}, headers=agency.auth)).json()[
        "items"
    ]
    assert item["ref"] == full["ref"] and item["case_ref"] == case_ref and item["office_code"] == code
    assert item["debtor_name"] == "Paul Durand" and item["outstanding_cents"] == 2_000
    assert item["currency"] == "EUR" and item["kind_fr"] == "mandat à l'acte"
    [act] = item["acts"]
    [judged] = full["assessment"]["acts"]
    assert act["act_code"] == "PAYMENT_ORDER"
    assert act["name_fr"] == "Commandement de payer aux fins de saisie-vente"
    assert (
        act["cost_cents"] == judged["cost_cents"]
        and act["expected_net_cents"] == judged["expected_net_cents"]
    )
    assert act["flagged"] is True and 0 < act["fees_cents"] < act["cost_cents"]  # the act alone, not its path
    assert item["fees_cents"] == act["fees_cents"]
    assert item["reasons"] == full["assessment"]["reasons"]
    assert "cost.creditor_loses" in [r["code"] for r in item["reasons"]]
    # The single mandate carries the same summary beside its full assessment.
    one = (await client.get(f"/v1/mandates/{full['ref']}", headers=agency.auth)).json()
    assert one["context"] == {k: item[k] for k in one["context"]}


async def test_held_mandates_filtered_by_office_and_case(app: FastAPI, client: httpx.AsyncClient) -> None:
    agency = await agency_for(app, client)
    code, _ = await office_with_key(app)
    other, _ = await office_with_key(app)
    case_a, case_b = await agency.case(**POOR), await agency.case(**POOR)

    async def hold(case_ref: str, office: str) -> str:
        made = await agency.mandate(
            case_ref=case_ref, office_code=office, kind="per_act", acts=["PAYMENT_ORDER"]
        )
        assert made.json()["status"] == "held", made.text
        return str(made.json()["ref"])

    a_here, a_there, b_here = await hold(case_a, code), await hold(case_a, other), await hold(case_b, code)
    issued = await agency.mandate(
        case_ref=await agency.case(**RICH), office_code=code, kind="per_act", acts=["SERVE_TITLE"]
    )
    assert issued.json()["status"] == "issued"

    async def refs(**params: str) -> list[str]:
        answer = await client.get("/v1/mandates/held", params=params, headers=agency.auth)
        assert answer.status_code == 200, answer.text
        return [m["ref"] for m in answer.json()["items"]]

    assert await refs(case=case_a) == sorted([a_here, a_there])
    assert await refs(office=code) == sorted([a_here, b_here])  # not the issued one
    assert await refs(office=other) == [a_there]
    assert await refs(office=code, case=case_b) == [b_here]
    unknown = await client.get("/v1/mandates/held", params={"office": "CJNOPE"}, headers=agency.auth)
    assert unknown.status_code == 404 and unknown.json()["code"] == "office.not_found"
    unknown = await client.get("/v1/mandates/held", params={"case": "NOPE"}, headers=agency.auth)
    assert unknown.status_code == 404 and unknown.json()["code"] == "case.not_found"


async def test_cost_requests_are_read_a_page_at_a_time_by_office(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    agency = await agency_for(app, client)
    finance = await agency_for(app, client, Role.FINANCE)
    code, key = await office_with_key(app)
    other, other_key = await office_with_key(app)

    async def ask(office: str, office_key: dict[str, str], n: int) -> None:
        ref = (
            await agency.mandate(
                case_ref=await agency.case(**RICH),
                office_code=office,
                kind="whole_file",
                fee_budget_cents=20_000,
            )
        ).json()["ref"]
        request = office_message(
            "cost_request",
            office,
            mandate_ref=ref,
            act_code="BANK_GARNISHMENT",
            estimated_fees_cents=10_000 + n,
            expected_recovery_cents=50_000,
            justification=f"Compte identifié n°{n}",
        )
        answer = await client.post("/v1/messages", json=request, headers=office_key)
        assert answer.status_code == 202, answer.text

    for n in range(5):
        await ask(code, key, n)
    await ask(other, other_key, 9)

    pages = await walk(client, "/v1/approvals", finance.auth, office=code, limit=2)
    assert [len(p) for p in pages] == [2, 2, 1]
    items = [p for page in pages for p in page]
    ids = [p["approval_id"] for p in items]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert {p["office_code"] for p in items} == {code}
    assert sorted(p["justification"] for p in items) == [f"Compte identifié n°{n}" for n in range(5)]
    assert all(p["office_expected_recovery_cents"] == 50_000 for p in items)
    assert sorted(p["act"]["fees_cents"] for p in items) == [10_000 + n for n in range(5)]
    unknown = await client.get("/v1/approvals", params={"office": "CJNOPE"}, headers=finance.auth)
    assert unknown.status_code == 404 and unknown.json()["code"] == "office.not_found"
    missing = await client.get("/v1/approvals/APR-NOPE", headers=finance.auth)
    assert missing.status_code == 404 and missing.json()["code"] == "approval.not_found"


@pytest.mark.parametrize("path", ["/v1/mandates/held", "/v1/approvals", "/v1/approvals/APR-X"])
async def test_an_office_key_reads_nothing_waiting(
    app: FastAPI, client: httpx.AsyncClient, path: str
) -> None:
    _, key = await office_with_key(app)
    answer = await client.get(path, headers=key)
    assert answer.status_code == 401 and answer.json()["code"] == "auth.not_staff_token"


async def test_finance_decides_cost_requests_but_not_held_mandates(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    finance: Agency = await agency_for(app, client, Role.FINANCE)
    assert (await client.get("/v1/mandates/held", headers=finance.auth)).status_code == 403
    assert (await client.get("/v1/approvals", headers=finance.auth)).status_code == 200
