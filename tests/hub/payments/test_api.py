"""The payment-run routes through the real API (SQLite and PostgreSQL): finance and admin only, the
run's file served as written and valid against the official XSD, refusals with their codes. The
database is shared with other tests: assertions look at this test's invoices."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from hub.database import unit_of_work
from hub.kit.clock import utcnow
from hub.offices import service as offices
from hub.staff import service as staff
from hub.staff.models import Role
from tests.hub.acts.factories import bearer
from tests.hub.payments.factories import (
    BIC_FR,
    IBAN_FR,
    approved_invoice,
    check_pain001,
    control_sum_cents,
    office_with_account,
    transfers,
)


@pytest.fixture
async def world(app: FastAPI) -> dict[str, object]:
    async with unit_of_work(app.state.sessions) as session:
        s = await office_with_account(session, IBAN_FR, BIC_FR)
        paid = [await approved_invoice(session, s, 5158, 1032), await approved_invoice(session, s, 4084, 817)]
        without = await office_with_account(session, None)
        waiting = await approved_invoice(session, without, 2150, 430)
        key = (await offices.create_key(session, s.office.code)).secret
        suffix = s.office.code.lower()
        _, finance = await staff.add_staff(session, f"fin-pay-{suffix}@agence.example", Role.FINANCE)
        _, handler = await staff.add_staff(session, f"stf-pay-{suffix}@agence.example", Role.STAFF)
    return {
        "invoices": {i.id: i.total_gross_cents for i in paid},
        "waiting": waiting.id,
        "key": key,
        "finance": bearer(finance),
        "staff": bearer(handler),
    }


async def test_finance_creates_a_run_downloads_its_file_and_marks_it_paid(
    client: httpx.AsyncClient, world: dict[str, object]
) -> None:
    finance = world["finance"]
    ours = world["invoices"]
    assert isinstance(finance, dict) and isinstance(ours, dict)
    past = await client.post("/v1/payment-runs", json={"execution_date": "2020-01-01"}, headers=finance)
    assert past.status_code == 422 and past.json()["code"] == "payment_run.execution_date_past"

    created = await client.post("/v1/payment-runs", json={"execution_date": "2099-01-02"}, headers=finance)
    assert created.status_code == 201, created.text
    run = created.json()
    assert {uuid.UUID(i["invoice_id"]) for i in run["invoices"]} >= set(ours)
    assert run["total_cents"] == sum(i["amount_cents"] for i in run["invoices"])
    assert run["transactions"] == len(run["invoices"]) and run["execution_date"] == "2099-01-02"
    assert str(world["waiting"]) in {
        s["invoice_id"] for s in run["skipped"] if s["code"] == "payment.iban_missing"
    }

    again = await client.post("/v1/payment-runs", headers=finance)
    assert again.status_code == 409 and again.json()["code"] == "payment_run.nothing_to_pay"
    assert str(world["waiting"]) in again.text  # every invoice left out, with why

    file = await client.get(f"/v1/payment-runs/{run['id']}/pain001", headers=finance)
    assert file.status_code == 200 and file.headers["content-type"].startswith("application/xml")
    assert f'filename="{run["message_id"]}.xml"' in file.headers["content-disposition"]
    root = check_pain001(file.content)
    assert control_sum_cents(root) == run["total_cents"]
    amounts = transfers(root)
    assert all(amounts[i.hex] == cents for i, cents in ours.items())
    assert (
        await client.get(f"/v1/payment-runs/{run['id']}/pain001", headers=finance)
    ).content == file.content

    listed = await client.get("/v1/payment-runs?limit=200", headers=finance)
    assert listed.status_code == 200 and run["id"] in [r["id"] for r in listed.json()["items"]]
    one = await client.get(f"/v1/payment-runs/{run['id']}", headers=finance)
    assert one.status_code == 200 and one.json()["total_cents"] == run["total_cents"]

    incomplete = await client.post(f"/v1/payment-runs/{run['id']}/paid", json={}, headers=finance)
    assert incomplete.status_code == 422
    assert {e["path"] for e in incomplete.json()["errors"]} == {"paid_on", "bank_reference"}
    paid_on = utcnow().date().isoformat()  # on or after the day the run's file was written
    paid = await client.post(
        f"/v1/payment-runs/{run['id']}/paid",
        json={"paid_on": paid_on, "bank_reference": "VIR-LOT-42"},
        headers=finance,
    )
    assert paid.status_code == 200, paid.text
    assert {i["state"] for i in paid.json()["invoices"]} == {"paid"}
    for invoice_id in ours:
        read = (await client.get(f"/v1/invoices/{invoice_id}", headers=finance)).json()
        assert (read["state"], read["paid_on"], read["bank_reference"]) == (
            "paid",
            paid_on,
            "VIR-LOT-42",
        )
        assert read["payment_run_id"] == run["id"]
    twice = await client.post(
        f"/v1/payment-runs/{run['id']}/paid",
        json={"paid_on": paid_on, "bank_reference": "VIR-LOT-42"},
        headers=finance,
    )
    assert twice.status_code == 409 and twice.json()["code"] == "payment_run.already_paid"


async def test_only_finance_and_admin_reach_the_runs(
    client: httpx.AsyncClient, world: dict[str, object]
) -> None:
    unknown = uuid.uuid4()
    for method, path in (
        ("POST", "/v1/payment-runs"),
        ("GET", "/v1/payment-runs"),
        ("GET", f"/v1/payment-runs/{unknown}"),
        ("GET", f"/v1/payment-runs/{unknown}/pain001"),
    ):
        assert (await client.request(method, path)).status_code == 401
        office = await client.request(method, path, headers=bearer(str(world["key"])))
        assert office.status_code == 401
        handler = await client.request(method, path, headers=world["staff"])  # type: ignore[arg-type]
        assert handler.status_code == 403 and handler.json()["code"] == "auth.role_forbidden"
    finance = world["finance"]
    assert isinstance(finance, dict)
    for path in (f"/v1/payment-runs/{unknown}", f"/v1/payment-runs/{unknown}/pain001"):
        missing = await client.get(path, headers=finance)
        assert missing.status_code == 404 and missing.json()["code"] == "payment_run.not_found"
    bad = await client.get("/v1/payment-runs/not-a-uuid", headers=finance)
    assert bad.status_code == 422
