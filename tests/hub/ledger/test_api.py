"""The ledger's routes through the real API (SQLite and PostgreSQL): remittances, write-offs and
reversals posted by finance, refused when they would not make sense, balanced, naming who and why,
and the finance reports showing what was posted, to the cent of the ledger's entries."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from hub.database import unit_of_work
from hub.ledger.models import LedgerEntry, LedgerTransaction
from hub.offices import service as offices
from hub.staff import service as staff
from hub.staff.models import Role
from tests.hub.acts.factories import Seeded, bearer, seed
from tests.hub.finance.factories import act

FEB = "from=2026-02-01&to=2026-03-01"


@pytest.fixture
async def world(app: FastAPI) -> dict[str, Any]:
    """An office that collected 5,000 cents on its case and claimed 5,158 + 1,032 cents of fees."""
    async with unit_of_work(app.state.sessions) as session:
        s = await seed(session)
        await act(session, s, date(2026, 2, 2), collected=5000)
        key = (await offices.create_key(session, s.office.code)).secret
        suffix = s.office.code.lower()
        finance_email = f"fin-{suffix}@agence.example"
        _, finance = await staff.add_staff(session, finance_email, Role.FINANCE)
        _, admin = await staff.add_staff(session, f"adm-{suffix}@agence.example", Role.ADMIN)
        _, handler = await staff.add_staff(session, f"stf-{suffix}@agence.example", Role.STAFF)
    return {
        "s": s,
        "key": key,
        "finance": bearer(finance),
        "finance_email": finance_email,
        "admin": bearer(admin),
        "staff": bearer(handler),
    }


def remittance(s: Seeded, cents: Any, reference: str = "VIR-1", **changes: Any) -> dict[str, Any]:
    return {
        "office_code": s.office.code,
        "case_ref": s.case.ref,
        "amount_cents": cents,
        "currency": "EUR",
        "effective_on": "2026-02-10",
        "reference": reference,
        **changes,
    }


def write_off(s: Seeded, **amounts: Any) -> dict[str, Any]:
    return {
        "office_code": s.office.code,
        "case_ref": s.case.ref,
        "effective_on": "2026-02-20",
        "reason": "debtor insolvent (PV de carence)",
        **amounts,
    }


def codes(answer: httpx.Response) -> list[str]:
    return [e["code"] for e in answer.json()["errors"]]


async def raw_sum(app: FastAPI, s: Seeded, account: str) -> int:
    """SUM of the office's entries on ``account`` in February, straight from the table."""
    async with unit_of_work(app.state.sessions) as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .where(
                LedgerEntry.office_id == s.office.id,
                LedgerEntry.account == account,
                LedgerTransaction.effective_on >= date(2026, 2, 1),
                LedgerTransaction.effective_on < date(2026, 3, 1),
            )
        )
    return int(total or 0)


async def test_only_finance_and_admin_post_and_read(
    app: FastAPI, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    s: Seeded = world["s"]
    calls = [
        ("POST", "/v1/ledger/remittances", remittance(s, 100, "VIR-AUTH")),
        ("POST", "/v1/ledger/write-offs", write_off(s, vat_cents=1)),
        (
            "POST",
            "/v1/ledger/transactions/00000000-0000-0000-0000-000000000001/reversal",
            {"reason": "x", "effective_on": "2026-02-10"},
        ),
        ("GET", f"/v1/ledger/cases/{s.case.ref}", None),
    ]
    for method, path, body in calls:
        assert (await client.request(method, path, json=body)).status_code == 401
        office = await client.request(method, path, json=body, headers=bearer(world["key"]))
        assert office.status_code == 401
        handler = await client.request(method, path, json=body, headers=world["staff"])
        assert handler.status_code == 403 and handler.json()["code"] == "auth.role_forbidden"
    # Nothing was posted by the refused calls.
    assert await raw_sum(app, s, "remitted_to_agency") == 0
    assert await raw_sum(app, s, "written_off") == 0
    for role in ("finance", "admin"):
        answer = await client.get(f"/v1/ledger/cases/{s.case.ref}", headers=world[role])
        assert answer.status_code == 200


async def test_a_remittance_moves_collected_money_to_the_agency_and_shows_in_the_scorecard(
    app: FastAPI, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    s: Seeded = world["s"]
    first = await client.post("/v1/ledger/remittances", json=remittance(s, 3000), headers=world["finance"])
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["kind"], body["source"], body["recorded_by"]) == (
        "remittance",
        "remittance:VIR-1",
        world["finance_email"],
    )
    assert sorted((e["account"], e["amount_cents"]) for e in body["entries"]) == [
        ("collected_by_office", -3000),
        ("remitted_to_agency", 3000),
    ]

    # The same transfer sent again is a retry, not a second remittance.
    again = await client.post("/v1/ledger/remittances", json=remittance(s, 3000), headers=world["finance"])
    assert again.status_code == 409 and again.json()["code"] == "ledger.remittance_duplicate"
    # The office holds 2,000 more, not 2,001.
    above = await client.post(
        "/v1/ledger/remittances", json=remittance(s, 2001, "VIR-2"), headers=world["finance"]
    )
    assert above.status_code == 422 and codes(above) == ["ledger.remittance_above_collected"]
    rest = await client.post(
        "/v1/ledger/remittances", json=remittance(s, 2000, "VIR-2"), headers=world["admin"]
    )
    assert rest.status_code == 201

    case = (await client.get(f"/v1/ledger/cases/{s.case.ref}", headers=world["finance"])).json()
    assert case["balances"]["remitted_to_agency"] == {"EUR": 5000}
    assert "collected_by_office" not in case["balances"]  # all of it remitted
    assert case["offices"][s.office.code] == case["balances"]
    assert [e["kind"] for e in case["entries"]].count("remittance") == 4

    card_answer = await client.get(
        f"/v1/finance/scorecard?office={s.office.code}&{FEB}", headers=world["finance"]
    )
    (card,) = card_answer.json()["offices"]
    assert card["remitted_cents"] == 5000 == await raw_sum(app, s, "remitted_to_agency")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"amount_cents": 0}, "schema.greater_than"),
        ({"amount_cents": -5}, "schema.greater_than"),
        ({"amount_cents": 12.5}, "schema.int_type"),
        ({"amount_cents": "1250"}, "schema.int_type"),
        ({"currency": "eur"}, "schema.string_pattern_mismatch"),
        ({"case_ref": "C-NOWHERE"}, "ledger.unknown_case"),
        ({"office_code": "CJNOWHERE"}, "ledger.unknown_office"),
    ],
)
async def test_a_bad_remittance_is_refused_and_posts_nothing(
    app: FastAPI, client: httpx.AsyncClient, world: dict[str, Any], change: dict[str, Any], code: str
) -> None:
    s: Seeded = world["s"]
    answer = await client.post(
        "/v1/ledger/remittances", json=remittance(s, 100, **change), headers=world["finance"]
    )
    assert answer.status_code == 422, answer.text
    assert codes(answer) == [code]
    assert await raw_sum(app, s, "remitted_to_agency") == 0


async def test_a_write_off_gives_up_fees_the_case_owes_and_no_more(
    app: FastAPI, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    s: Seeded = world["s"]
    post = lambda body: client.post("/v1/ledger/write-offs", json=body, headers=world["finance"])  # noqa: E731
    above = await post(write_off(s, emoluments_cents=5159, vat_cents=1032))
    assert above.status_code == 422 and codes(above) == ["ledger.write_off_above_fees"]
    assert above.json()["errors"][0]["path"] == "/emoluments_cents"
    assert codes(await post(write_off(s))) == ["ledger.write_off_empty"]
    assert (await post(write_off(s, vat_cents=1, reason="  "))).status_code == 422
    assert (await post(write_off(s, vat_cents=-1))).status_code == 422

    done = await post(write_off(s, emoluments_cents=5158, vat_cents=1032))
    assert done.status_code == 201, done.text
    body = done.json()
    assert (body["kind"], body["reason"], body["recorded_by"]) == (
        "write_off",
        "debtor insolvent (PV de carence)",
        world["finance_email"],
    )
    assert sum(e["amount_cents"] for e in body["entries"]) == 0
    # Nothing is left to write off.
    assert codes(await post(write_off(s, vat_cents=1))) == ["ledger.write_off_above_fees"]

    case = (await client.get(f"/v1/ledger/cases/{s.case.ref}", headers=world["finance"])).json()
    assert case["balances"]["written_off"] == {"EUR": 6190}
    assert not {"fees_emoluments", "fees_vat"} & set(case["balances"])
    # A write-off changes who bears a fee, not what the case cost: the net counts it all the same.
    balances = case["balances"]
    fees = sum(balances.get(a, {}).get("EUR", 0) for a in ("fees_disbursements", "written_off"))
    recovered = -balances.get("case_collections", {}).get("EUR", 0)
    assert case["net"]["fees_borne_cents"] == fees >= 6190
    assert case["net"]["recovered_cents"] == recovered > 0
    assert case["net"]["net_cents"] == recovered - fees and case["net"]["stop_loss"] is None
    card_answer = await client.get(
        f"/v1/finance/scorecard?office={s.office.code}&{FEB}", headers=world["finance"]
    )
    (card,) = card_answer.json()["offices"]
    assert card["written_off_cents"] == 6190 == await raw_sum(app, s, "written_off")
    assert card["fees_cents"] == 6190  # what the office claimed is unchanged by a write-off
    rec = await client.get(
        f"/v1/finance/reconciliation?office={s.office.code}&{FEB}", headers=world["finance"]
    )
    assert rec.json()["totals"]["reported_cents"] == 6190


async def test_a_reversal_cancels_a_posting_once_and_says_who_and_why(
    app: FastAPI, client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    s: Seeded = world["s"]
    posted = await client.post("/v1/ledger/remittances", json=remittance(s, 5000), headers=world["finance"])
    transaction_id = posted.json()["id"]
    path = f"/v1/ledger/transactions/{transaction_id}/reversal"

    early = await client.post(
        path, json={"reason": "wrong", "effective_on": "2026-02-09"}, headers=world["admin"]
    )
    assert early.status_code == 422 and codes(early) == ["ledger.reversal_before_original"]
    blank = await client.post(
        path, json={"reason": " ", "effective_on": "2026-02-11"}, headers=world["admin"]
    )
    assert blank.status_code == 422

    reversal = await client.post(
        path, json={"reason": "amount keyed wrong", "effective_on": "2026-02-11"}, headers=world["finance"]
    )
    assert reversal.status_code == 201, reversal.text
    body = reversal.json()
    assert (body["reverses_id"], body["reason"], body["recorded_by"]) == (
        transaction_id,
        "amount keyed wrong",
        world["finance_email"],
    )
    assert sorted((e["account"], e["amount_cents"]) for e in body["entries"]) == [
        ("collected_by_office", 5000),
        ("remitted_to_agency", -5000),
    ]
    twice = await client.post(
        path, json={"reason": "again", "effective_on": "2026-02-12"}, headers=world["finance"]
    )
    assert twice.status_code == 409 and twice.json()["code"] == "ledger.already_reversed"
    of_reversal = await client.post(
        f"/v1/ledger/transactions/{body['id']}/reversal",
        json={"reason": "undo", "effective_on": "2026-02-12"},
        headers=world["finance"],
    )
    assert of_reversal.status_code == 409 and of_reversal.json()["code"] == "ledger.reversal_not_reversible"
    unknown = await client.post(
        "/v1/ledger/transactions/00000000-0000-0000-0000-000000000001/reversal",
        json={"reason": "x", "effective_on": "2026-02-12"},
        headers=world["finance"],
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "ledger.transaction_not_found"

    # Reversed, the reference can be posted again with the right amount.
    right = await client.post("/v1/ledger/remittances", json=remittance(s, 4000), headers=world["finance"])
    assert right.status_code == 201
    card_answer = await client.get(
        f"/v1/finance/scorecard?office={s.office.code}&{FEB}", headers=world["finance"]
    )
    (card,) = card_answer.json()["offices"]
    assert card["remitted_cents"] == 4000 == await raw_sum(app, s, "remitted_to_agency")


async def test_an_unknown_case_has_no_ledger(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    answer = await client.get("/v1/ledger/cases/C-NOWHERE", headers=world["finance"])
    assert answer.status_code == 404 and answer.json()["code"] == "case.not_found"
