"""The case update routes as staff and offices call them: recorded and listed page by page, refused
with every error and nothing stored (unknown case, bad amount, a retry, an office key), and each
office acknowledging the update it was sent, once, and never another office's."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from hub.kit.clock import utcnow
from tests.hub.mandates.factories import RICH
from tests.hub.mandates.test_api import Agency, agency, office_with_key  # noqa: F401 - fixture
from tests.hub.mandates.test_handlers import office_message


def paid(cents: Any, reference: str, **payment: Any) -> dict[str, Any]:
    today = utcnow().date().isoformat()
    return {
        "kind": "payment_received",
        "reference": reference,
        "effective_on": today,
        "payment": {"amount_cents": cents, "currency": "EUR", "received_on": today, **payment},
    }


async def test_staff_record_and_list_updates_and_offices_acknowledge_theirs(
    agency: Agency,  # noqa: F811
    app: FastAPI,
    client: httpx.AsyncClient,
) -> None:
    code, key = await office_with_key(app)
    other, other_key = await office_with_key(app)
    case_ref = await agency.case(**RICH)
    made = await agency.mandate(
        case_ref=case_ref, office_code=code, kind="per_act", acts=["BANK_GARNISHMENT"]
    )
    assert made.status_code == 201 and made.json()["status"] == "issued", made.text
    url = f"/v1/cases/{case_ref}/updates"

    answer = await client.post(url, json=paid(20_000, "CRM-1"), headers=agency.auth)
    assert answer.status_code == 201, answer.text
    recorded = answer.json()
    assert recorded["recorded_by"].endswith("@agence.example") and recorded["outstanding_cents"] == 480_000
    [notice] = recorded["notices"]
    assert notice["office_code"] == code and notice["acknowledged_at"] is None
    case = (await client.get(f"/v1/cases/{case_ref}", headers=agency.auth)).json()
    assert case["claim"]["paid_cents"] == 20_000 and case["outstanding_cents"] == 480_000

    retry = await client.post(url, json=paid(20_000, "CRM-1"), headers=agency.auth)
    assert retry.status_code == 409 and retry.json()["errors"][0]["code"] == "case_update.duplicate"
    for n, kind in enumerate(["dispute_opened", "dispute_closed"]):
        body = {"kind": kind, "reference": f"CRM-{n + 2}", "effective_on": utcnow().date().isoformat()}
        assert (await client.post(url, json=body, headers=agency.auth)).status_code == 201

    first = (await client.get(url, params={"limit": 2}, headers=agency.auth)).json()
    assert [u["reference"] for u in first["items"]] == ["CRM-1", "CRM-2"] and first["next_after"]
    rest = (
        await client.get(url, params={"limit": 2, "after": first["next_after"]}, headers=agency.auth)
    ).json()
    assert [u["reference"] for u in rest["items"]] == ["CRM-3"] and rest["next_after"] is None

    def ack(sender: str, update_id: str) -> dict[str, Any]:
        return office_message("case_update_ack", sender, update_id=update_id, case_ref=case_ref)

    foreign = await client.post(
        "/v1/case-update-acks", json=ack(other, notice["message_id"]), headers=other_key
    )
    assert foreign.status_code == 404 and foreign.json()["errors"][0]["code"] == "case_update.not_found"
    done = await client.post("/v1/case-update-acks", json=ack(code, notice["message_id"]), headers=key)
    assert done.status_code == 202, done.text
    twice = await client.post("/v1/messages", json=ack(code, notice["message_id"]), headers=key)
    assert twice.status_code == 409
    assert twice.json()["errors"][0]["code"] == "case_update.already_acknowledged"
    listed = (await client.get(url, headers=agency.auth)).json()["items"][0]["notices"]
    assert listed[0]["acknowledged_at"] is not None and listed[0]["overdue"] is False


async def test_refusals_list_every_error_and_store_nothing(
    agency: Agency,  # noqa: F811
    app: FastAPI,
    client: httpx.AsyncClient,
) -> None:
    _, key = await office_with_key(app)
    case_ref = await agency.case(**RICH)
    url = f"/v1/cases/{case_ref}/updates"

    unknown = await client.post("/v1/cases/NO-SUCH-CASE/updates", json=paid(100, "X-1"), headers=agency.auth)
    assert unknown.status_code == 404 and unknown.json()["code"] == "case.not_found"
    assert (await client.get("/v1/cases/NO-SUCH-CASE/updates", headers=agency.auth)).status_code == 404

    bad = paid(12.5, "X-2", currency="euro")
    del bad["payment"]["received_on"]
    refused = await client.post(url, json=bad, headers=agency.auth)
    assert refused.status_code == 422
    paths = sorted(e["path"] for e in refused.json()["errors"])
    assert paths == ["payment.amount_cents", "payment.currency", "payment.received_on"], refused.text
    for cents in ("1250", 0, -5):
        assert (await client.post(url, json=paid(cents, "X-3"), headers=agency.auth)).status_code == 422

    above = await client.post(url, json=paid(500_001, "X-4"), headers=agency.auth)
    assert above.status_code == 422
    assert [e["code"] for e in above.json()["errors"]] == ["case_update.payment_exceeds_balance"]

    # An office key is not a staff token: the staff routes refuse it (as every staff route does).
    as_office = await client.post(url, json=paid(100, "X-5"), headers=key)
    assert as_office.status_code == 401 and as_office.json()["code"] == "auth.not_staff_token"
    assert (await client.get(url, headers=key)).status_code == 401

    nothing = (await client.get(url, headers=agency.auth)).json()
    assert nothing == {"items": [], "next_after": None}
    case = (await client.get(f"/v1/cases/{case_ref}", headers=agency.auth)).json()
    assert case["claim"]["paid_cents"] == 0
