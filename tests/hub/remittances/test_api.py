"""``POST /v1/remittances`` and the reading routes as an office and as staff: a remittance accepted
posts to the ledger, every refusal lists every failing line and stores no remittance and no posting,
the same message twice is posted once; ``GET /v1/finance/unremitted`` and the scorecard show what
offices hold."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from hub.database import unit_of_work
from hub.ledger.models import LedgerTransaction
from hub.ledger.postings import REMITTANCE
from hub.remittances.models import Remittance
from tests.hub.acts.factories import bearer
from tests.hub.remittances.factories import World, encoded, remittance, world

JSON = {"Content-Type": "application/json"}


async def post(client: httpx.AsyncClient, key: str, data: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/remittances", content=encoded(data), headers=bearer(key, **JSON))


async def stored(app: FastAPI, w: World) -> tuple[int, int]:
    """(remittances, remittance transactions) of office A."""
    async with unit_of_work(app.state.sessions) as session:
        remittances = await session.execute(
            select(func.count()).select_from(Remittance).where(Remittance.office_id == w.a.office.id)
        )
        postings = await session.execute(
            select(func.count())
            .select_from(LedgerTransaction)
            .where(LedgerTransaction.office_id == w.a.office.id, LedgerTransaction.kind == REMITTANCE)
        )
        return remittances.scalar_one(), postings.scalar_one()


async def unremitted(client: httpx.AsyncClient, w: World) -> dict[str, Any]:
    answer = await client.get(f"/v1/finance/unremitted?office={w.a.code}", headers=bearer(w.finance))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_remittance_is_posted_and_read_back_by_its_office_and_by_staff(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    w = await world(app, [50_000, 12_550])
    before = await unremitted(client, w)
    (office,) = before["offices"]
    assert (office["office_code"], office["amount_cents"], office["overdue"]) == (w.a.code, 62_550, True)
    assert before["deadline_days"] == 30 and len(office["cases"]) == 2

    data = remittance(w.a.code, [(w.a.ref(0), 45_000), (w.a.ref(1), 12_550)])
    answer = await post(client, w.key, data)
    assert answer.status_code == 202, answer.text
    assert answer.json()["accepted"] is True
    again = await post(client, w.key, data)  # the same message: its first receipt, posted once
    assert again.status_code == 409 and again.json()["code"] == "message.duplicate"
    assert await stored(app, w) == (1, 2)

    (office,) = (await unremitted(client, w))["offices"]
    assert office["amount_cents"] == 5_000
    assert [(c["case_ref"], c["amount_cents"]) for c in office["cases"]] == [(w.a.ref(0), 5_000)]

    page = (await client.get("/v1/remittances", headers=bearer(w.key))).json()
    (item,) = page["items"]
    assert (item["bank_reference"], item["total_cents"], item["lines"]) == (
        data["bank_reference"],
        57_550,
        None,
    )
    one = (await client.get(f"/v1/remittances/{item['id']}", headers=bearer(w.key))).json()
    assert [(line["case_ref"], line["amount_cents"]) for line in one["lines"]] == [
        (w.a.ref(0), 45_000),
        (w.a.ref(1), 12_550),
    ]
    # Another office: none of A's, and A's answers 404.
    assert (await client.get("/v1/remittances", headers=bearer(w.b_key))).json()["items"] == []
    hidden = await client.get(f"/v1/remittances/{item['id']}", headers=bearer(w.b_key))
    assert hidden.status_code == 404 and hidden.json()["code"] == "remittance.not_found"
    # Staff: all, or one office's.
    of_a = await client.get(f"/v1/remittances?office={w.a.code}", headers=bearer(w.staff))
    assert [i["id"] for i in of_a.json()["items"]] == [item["id"]]
    of_b = await client.get(f"/v1/remittances?office={w.b.code}", headers=bearer(w.staff))
    assert of_b.json()["items"] == []
    assert (await client.get(f"/v1/remittances/{item['id']}", headers=bearer(w.staff))).status_code == 200


async def test_the_scorecard_shows_the_money_not_remitted(app: FastAPI, client: httpx.AsyncClient) -> None:
    w = await world(app, [50_000])
    await post(client, w.key, remittance(w.a.code, [(w.a.ref(0), 20_000)]))
    answer = await client.get(
        f"/v1/finance/scorecard?from=2026-01-01&to=2026-12-01&office={w.a.code}", headers=bearer(w.finance)
    )
    assert answer.status_code == 200, answer.text
    (card,) = answer.json()["offices"]
    assert (card["unremitted_cents"], card["unremitted_oldest_on"], card["unremitted_overdue"]) == (
        30_000,
        "2026-03-02",
        True,
    )
    as_csv = await client.get(
        f"/v1/finance/scorecard?from=2026-01-01&to=2026-12-01&office={w.a.code}&format=csv",
        headers=bearer(w.finance),
    )
    assert "unremitted_cents" in as_csv.text.splitlines()[0] and ",30000,2026-03-02,true" in as_csv.text


async def test_every_refusal_lists_every_failing_line_and_stores_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    w = await world(app, [10_000, 3_000])
    lines = [
        (w.a.ref(0), 10_000),
        ("C-NO-SUCH-CASE", 100),  # unknown
        (w.b.ref(0), 500),  # another office's case: the same answer as an unknown one
        (w.a.ref(1), 3_001),  # exceeds
    ]
    answer = await post(client, w.key, remittance(w.a.code, lines))
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert [(e["path"], e["code"]) for e in problem["errors"]] == [
        ("/lines/1/case_ref", "remittance.case_unknown"),
        ("/lines/2/case_ref", "remittance.case_unknown"),
        ("/lines/3/amount_cents", "remittance.above_collected"),
    ]
    assert w.b.ref(0) in problem["errors"][1]["message"]
    assert "asks 3001 cents EUR, 3000 available" in problem["errors"][2]["message"]
    assert problem["receipt"]["accepted"] is False
    assert await stored(app, w) == (0, 0)

    # A bad body: 422 with every error, nothing stored.
    bad = remittance(w.a.code, [(w.a.ref(0), 0)])
    bad["value_date"] = "2026-02-30"
    bad["currency"] = "eur"
    bad["lines"].append({"amount_cents": -5})
    answer = await post(client, w.key, bad)
    assert answer.status_code == 422
    assert sorted((e["path"], e["code"]) for e in answer.json()["errors"]) == [
        ("/currency", "value.string_pattern_mismatch"),
        ("/lines/0/amount_cents", "value.greater_than"),
        ("/lines/1/amount_cents", "value.greater_than"),
        ("/lines/1/case_ref", "value.missing"),
        ("/value_date", "value.date_parsing"),
    ]
    # A bank reference already remitted: 409, once.
    first = await post(client, w.key, remittance(w.a.code, [(w.a.ref(0), 1_000)], bank_reference="VIR-1"))
    assert first.status_code == 202
    twice = await post(client, w.key, remittance(w.a.code, [(w.a.ref(0), 1_000)], bank_reference="VIR-1"))
    assert twice.status_code == 409 and twice.json()["code"] == "remittance.duplicate_reference"
    assert await stored(app, w) == (1, 1)
    # Only finance reads what offices hold; an office key is refused.
    assert (await client.get("/v1/finance/unremitted", headers=bearer(w.key))).status_code == 401
    assert (await client.get("/v1/finance/unremitted", headers=bearer(w.staff))).status_code == 403
