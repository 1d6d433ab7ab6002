"""POST /v1/inventory and the last results through the real API (SQLite and PostgreSQL): each kind
of difference, another office's mandate answered as unknown, the last result kept and replaced,
who reads what, idempotency and refusals."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from hub.database import unit_of_work
from hub.ledger import service as ledger
from hub.ledger.models import LedgerTransaction
from hub.offices import service as offices
from hub.staff import service as staff
from hub.staff.models import Role
from tests.hub.acts.factories import Seeded, bearer, seed
from tests.hub.finance.factories import act

JSON = {"Content-Type": "application/json"}


@dataclass
class Two:
    a: dict[str, Seeded]
    b: Seeded
    key_a: str
    key_b: str
    finance: str
    handler: str


@pytest.fixture
async def two(app: FastAPI) -> Two:
    async with unit_of_work(app.state.sessions) as session:
        money = await seed(session, status="in_progress")
        office = money.office
        a = {
            "money": money,
            "agree": await seed(session, office=office, status="issued"),
            "missing": await seed(session, office=office, status="acknowledged"),
            "closed_there": await seed(session, office=office, status="in_progress"),
            "open_there": await seed(session, office=office, status="cancelled"),
            "held": await seed(session, office=office, status="held"),
        }
        await act(session, money, date(2026, 2, 2), collected=1000)  # fees 51.58 + 10.32
        wrong = await act(session, money, date(2026, 2, 3), emoluments=5000, vat=1000, collected=300)
        for txn in (
            (
                await session.execute(
                    select(LedgerTransaction).where(LedgerTransaction.source == f"act_report:{wrong.id}")
                )
            )
            .scalars()
            .all()
        ):
            await ledger.reverse(session, txn.id, reason="sent twice", effective_on=date(2026, 2, 4))
        b = await seed(session)
        key_a = (await offices.create_key(session, office.code)).secret
        key_b = (await offices.create_key(session, b.office.code)).secret
        suffix = office.code.lower()
        _, finance = await staff.add_staff(session, f"fin-inv-{suffix}@agence.example", Role.FINANCE)
        _, handler = await staff.add_staff(session, f"stf-inv-{suffix}@agence.example", Role.STAFF)
    return Two(a, b, key_a, key_b, finance, handler)


def line(s: Seeded, status: str = "open", **amounts: int) -> dict[str, Any]:
    return {"ref": s.mandate.ref, "status": status, **amounts}


async def post(client: httpx.AsyncClient, key: str, body: Any, **headers: str) -> httpx.Response:
    return await client.post(
        "/v1/inventory", content=json.dumps(body), headers=bearer(key, **JSON, **headers)
    )


async def test_each_difference_kind_and_another_offices_mandate_unknown(
    client: httpx.AsyncClient, two: Two
) -> None:
    a = two.a
    listed = [
        line(a["agree"]),
        line(a["money"], collected_cents=900, fees_cents=5158 + 1032),
        line(a["closed_there"], "closed"),
        line(a["open_there"]),
        line(a["held"]),
        line(two.b),  # another office's mandate
        {"ref": "M-NOBODY"},
    ]
    answer = await post(client, two.key_a, {"mandates": listed})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    kinds = {(d["ref"], d["kind"]) for d in result["items"]}
    assert kinds == {
        (a["money"].mandate.ref, "amounts_differ"),
        (a["missing"].mandate.ref, "open_here_unknown_there"),
        (a["closed_there"].mandate.ref, "open_here_closed_there"),
        (a["open_there"].mandate.ref, "closed_here_open_there"),
        (a["held"].mandate.ref, "unknown_here"),
        (two.b.mandate.ref, "unknown_here"),
        ("M-NOBODY", "unknown_here"),
    }
    money = next(d for d in result["items"] if d["kind"] == "amounts_differ")
    # The ledger's figures, net of the reversed act: collected 10.00, fees 61.90.
    assert (money["here"], money["there"]) == ({"collected_cents": 1000}, {"collected_cents": 900})
    missing = next(d for d in result["items"] if d["kind"] == "open_here_unknown_there")
    assert missing["here"]["status"] == "acknowledged"
    assert (result["listed"], result["agreed"], result["differences"]) == (7, 1, 7)
    assert result["by_kind"]["unknown_here"] == 3

    # Another office's mandate is answered exactly like a ref nobody has: nothing of B leaks.
    b_item = next(d for d in result["items"] if d["ref"] == two.b.mandate.ref)
    nobody = next(d for d in result["items"] if d["ref"] == "M-NOBODY")
    assert {**b_item, "ref": "", "message": b_item["message"].replace(two.b.mandate.ref, "X")} == {
        **nobody,
        "ref": "",
        "message": nobody["message"].replace("M-NOBODY", "X"),
    }
    answered = answer.text.replace(two.b.mandate.ref, "")  # the ref A sent (it holds B's code)
    for secret in (two.b.office.code, two.b.case.ref, str(two.b.case.id), str(two.b.mandate.id)):
        assert secret not in answered


async def test_the_last_result_is_kept_replaced_and_read_by_whom_it_may(
    client: httpx.AsyncClient, two: Two
) -> None:
    a, code = two.a, two.a["money"].office.code
    assert (await client.get("/v1/inventory/last", headers=bearer(two.key_a))).status_code == 404
    first = (await post(client, two.key_a, {"mandates": [line(a["agree"])]})).json()
    assert (await client.get("/v1/inventory/last", headers=bearer(two.key_a))).json() == first
    assert (await client.get(f"/v1/inventory/{code}", headers=bearer(two.finance))).json() == first
    assert (await client.get(f"/v1/inventory/{code}", headers=bearer(two.handler))).json() == first

    everything = [line(s) for name, s in a.items() if name not in ("held", "open_there", "closed_there")]
    second = (
        await post(client, two.key_a, {"mandates": [*everything, line(a["closed_there"], "closed")]})
    ).json()
    assert second != first and second["listed"] == 4
    assert (await client.get("/v1/inventory/last", headers=bearer(two.key_a))).json() == second
    assert (await client.get(f"/v1/inventory/{code}", headers=bearer(two.finance))).json() == second

    # B sees only its own (none yet); an office key cannot read by code; unknown offices are 404.
    assert (await client.get("/v1/inventory/last", headers=bearer(two.key_b))).status_code == 404
    assert (await client.get(f"/v1/inventory/{code}", headers=bearer(two.key_b))).status_code == 401
    assert (await client.get("/v1/inventory/CJNOBODY", headers=bearer(two.finance))).status_code == 404
    assert (await client.get("/v1/inventory/last")).status_code == 401
    assert (await client.post("/v1/inventory", content=b"{}", headers=JSON)).status_code == 401


async def test_idempotency_key_and_refusals(client: httpx.AsyncClient, two: Two) -> None:
    body = {"mandates": [line(two.a["agree"])]}
    first = await post(client, two.key_a, body, **{"Idempotency-Key": "inv-1"})
    again = await post(client, two.key_a, body, **{"Idempotency-Key": "inv-1"})
    assert again.headers.get("Idempotent-Replayed") == "true" and again.content == first.content
    reused = await post(client, two.key_a, {"mandates": []}, **{"Idempotency-Key": "inv-1"})
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency.key_reused"

    twice = await post(client, two.key_a, {"mandates": [line(two.a["agree"]), line(two.a["agree"])]})
    assert twice.status_code == 422 and twice.json()["code"] == "inventory.ref_repeated"
    assert [e["path"] for e in twice.json()["errors"]] == ["/mandates/0/ref", "/mandates/1/ref"]
    for bad in (
        {"mandates": [{"ref": "M-1", "collected_cents": 10.5}]},
        {"mandates": [{"ref": "M-1", "status": "lost"}]},
        {"mandates": [{"ref": ""}]},
        {"mandates": [{"ref": "M-1", "fees_cents": -1}]},
        {"items": []},
    ):
        refused = await post(client, two.key_a, bad)
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    # A refused list leaves the last result as it was.
    assert (await client.get("/v1/inventory/last", headers=bearer(two.key_a))).json() == first.json()
