"""The finance routes through the real API (SQLite and PostgreSQL): finance and admin only, JSON equal
to the service's figures, CSV downloads with stable columns, refusals."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI

from hub.database import unit_of_work
from hub.finance import export, journal
from hub.offices import service as offices
from hub.staff import service as staff
from hub.staff.models import Role
from tests.hub.acts.factories import Seeded, bearer, seed
from tests.hub.finance.factories import LineSpec, act, invoice
from tests.hub.finance.test_journal import ledger_debits

FEB = "from=2026-02-01&to=2026-03-01"


@pytest.fixture
async def world(app: FastAPI) -> dict[str, object]:
    async with unit_of_work(app.state.sessions) as session:
        s = await seed(session)
        first = await act(session, s, date(2026, 2, 1), collected=5000)
        await act(
            session, s, date(2026, 2, 28), act_code="PAYMENT_ORDER", emoluments=4084, vat=817, flagged=True
        )
        await act(session, s, date(2026, 3, 1))  # outside February
        await invoice(
            session, s, date(2026, 2, 15), [LineSpec(5158, 1032, act=first), LineSpec(50, 10, "above_tariff")]
        )
        key = (await offices.create_key(session, s.office.code)).secret
        suffix = s.office.code.lower()
        _, finance = await staff.add_staff(session, f"fin-{suffix}@agence.example", Role.FINANCE)
        _, admin = await staff.add_staff(session, f"adm-{suffix}@agence.example", Role.ADMIN)
        _, handler = await staff.add_staff(session, f"stf-{suffix}@agence.example", Role.STAFF)
    return {"s": s, "key": key, "finance": finance, "admin": admin, "staff": handler}


def rows(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


async def test_only_finance_and_admin_read_the_reports(
    client: httpx.AsyncClient, world: dict[str, object]
) -> None:
    s = world["s"]
    assert isinstance(s, Seeded)
    for path in (f"/v1/finance/reconciliation?office={s.office.code}&{FEB}", f"/v1/finance/scorecard?{FEB}"):
        assert (await client.get(path)).status_code == 401
        office_key = await client.get(path, headers=bearer(str(world["key"])))
        assert office_key.status_code == 401 and s.office.code not in office_key.text
        handler = await client.get(path, headers=bearer(str(world["staff"])))
        assert handler.status_code == 403 and handler.json()["code"] == "auth.role_forbidden"
        for role in ("finance", "admin"):
            assert (await client.get(path, headers=bearer(str(world[role])))).status_code == 200


async def test_reconciliation_as_json_and_as_csv(client: httpx.AsyncClient, world: dict[str, object]) -> None:
    s = world["s"]
    assert isinstance(s, Seeded)
    path = f"/v1/finance/reconciliation?office={s.office.code}&{FEB}"
    answer = await client.get(path, headers=bearer(str(world["finance"])))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["office_code"], body["from"], body["to"], body["currency"]) == (
        s.office.code,
        "2026-02-01",
        "2026-03-01",
        "EUR",
    )
    totals = body["totals"]
    assert totals["reported_cents"] == 5158 + 1032 + 4084 + 817
    assert (totals["acts"], totals["disputed_lines"], totals["disputed_cents"]) == (2, 1, 60)
    assert totals["invoices_received"] == 1 and totals["invoiced_cents"] == 0
    assert all(type(v) is int for v in totals.values())
    assert [a["act_code"] for a in body["act_types"]] == ["PAYMENT_ORDER", "SERVE_TITLE"]
    assert body["disputed"] == [{"code": "above_tariff", "lines": 1, "cents": 60}]

    for how in ({"Accept": "text/csv"}, {}):
        url = path if how else path + "&format=csv"
        download = await client.get(url, headers=bearer(str(world["finance"]), **how))
        assert download.status_code == 200
        assert download.headers["content-type"].startswith("text/csv")
        assert download.headers["content-disposition"] == (
            f'attachment; filename="reconciliation-{s.office.code}-2026-02-01-2026-03-01.csv"'
        )
        table = rows(download.text)
        assert tuple(table[0]) == export.RECONCILIATION_COLUMNS
        assert [(r["row"], r["key"]) for r in table] == [
            ("total", ""),
            ("act_type", "PAYMENT_ORDER"),
            ("act_type", "SERVE_TITLE"),
            ("dispute", "above_tariff"),
        ]
        assert table[0]["reported_cents"] == str(totals["reported_cents"])
        assert table[0]["tariff_cents"] == str(totals["tariff_cents"])
    as_json = await client.get(
        path + "&format=json", headers=bearer(str(world["finance"]), Accept="text/csv")
    )
    assert as_json.headers["content-type"] == "application/json"


async def test_scorecard_as_json_and_as_csv(client: httpx.AsyncClient, world: dict[str, object]) -> None:
    s = world["s"]
    assert isinstance(s, Seeded)
    path = f"/v1/finance/scorecard?office={s.office.code}&{FEB}"
    body = (await client.get(path, headers=bearer(str(world["finance"])))).json()
    (card,) = body["offices"]
    assert card["office_code"] == s.office.code
    assert (card["acts"], card["flagged_acts"], card["collected_cents"]) == (2, 1, 5000)
    assert card["net_cents"] == 5000 - (5158 + 1032 + 4084 + 817)
    assert (card["mandates_sent"], card["mandates_refused"], card["refusal_rate"]) == (1, 0, "0.0000")
    assert card["first_act_median_days"] == "0.0"  # issued 1 Feb, first act 1 Feb
    assert [a["act_code"] for a in card["act_types"]] == ["PAYMENT_ORDER", "SERVE_TITLE"]

    download = await client.get(path + "&format=csv", headers=bearer(str(world["admin"])))
    table = rows(download.text)
    assert tuple(table[0]) == export.SCORECARD_COLUMNS
    assert [r["act_code"] for r in table] == ["ALL", "PAYMENT_ORDER", "SERVE_TITLE"]
    assert table[0]["net_cents"] == str(card["net_cents"]) and table[1]["refusal_rate"] == ""
    everyone = (
        await client.get(f"/v1/finance/scorecard?{FEB}", headers=bearer(str(world["finance"])))
    ).json()
    assert s.office.code in [c["office_code"] for c in everyone["offices"]]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("office=CJNOBODY&from=2026-02-01&to=2026-03-01", 404, "office.not_found"),
        ("office={code}&from=2026-03-01&to=2026-02-01", 422, "finance.bad_period"),
        ("office={code}&from=2026-03-01&to=2026-03-01", 422, "finance.bad_period"),
        ("office={code}&from=2026-02-30&to=2026-03-01", 422, None),
        ("office={code}&from=2026-02-01", 422, None),
        ("office={code}&from=2026-02-01&to=2026-03-01&format=xls", 422, None),
    ],
)
async def test_bad_requests_are_refused_with_a_problem(
    client: httpx.AsyncClient, world: dict[str, object], query: str, status: int, code: str | None
) -> None:
    s = world["s"]
    assert isinstance(s, Seeded)
    answer = await client.get(
        "/v1/finance/reconciliation?" + query.format(code=s.office.code),
        headers=bearer(str(world["finance"])),
    )
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    if code is not None:
        assert answer.json()["code"] == code


async def test_the_journal_downloads_as_csv_and_fec_and_equals_the_ledger(
    app: FastAPI, client: httpx.AsyncClient, world: dict[str, object]
) -> None:
    path = f"/v1/finance/journal?{FEB}"
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=bearer(str(world["key"])))).status_code == 401
    assert (await client.get(path, headers=bearer(str(world["staff"])))).status_code == 403
    finance = bearer(str(world["finance"]))
    backwards = await client.get("/v1/finance/journal?from=2026-03-01&to=2026-02-01", headers=finance)
    assert backwards.status_code == 422 and backwards.json()["code"] == "finance.bad_period"
    assert (await client.get(f"{path}&format=xlsx", headers=finance)).status_code == 422

    async with unit_of_work(app.state.sessions) as session:
        debits = await ledger_debits(session, date(2026, 2, 1), date(2026, 3, 1))
    as_csv = await client.get(path, headers=finance)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    lines = rows(as_csv.text)
    assert sum(int(r["debit_cents"]) for r in lines) == sum(int(r["credit_cents"]) for r in lines) == debits
    fec = await client.get(f"{path}&format=fec", headers=finance)
    assert (
        fec.status_code == 200
        and 'filename="FEC-2026-02-01-2026-03-01.txt"' in fec.headers["content-disposition"]
    )
    records = [line.split("|") for line in fec.text.split("\r\n") if line]
    assert tuple(records[0]) == journal.FEC_COLUMNS and len(records) == len(lines) + 1
    debit = sum(Decimal(r[11].replace(",", ".")) for r in records[1:])
    assert debit == sum(Decimal(r[12].replace(",", ".")) for r in records[1:]) == Decimal(debits) / 100
