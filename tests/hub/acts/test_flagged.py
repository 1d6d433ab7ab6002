"""GET /v1/act-reports/flagged: the act reports accepted but flagged for a person, with their reasons,
for staff, filtered by office, reason and act date, a page at a time; an office key reads nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI

from hub.database import unit_of_work
from tests.hub.acts.factories import bearer, seed
from tests.hub.finance.factories import act
from tests.hub.invoices.factories import World, world

COST = {"code": "cost_above_recovery", "message": "the act cost 61.90 EUR and could bring in 0.00 EUR"}
HOLD = {"code": "hold_breached", "message": "done after the office acknowledged hold HLD-1 (disputed)"}


async def flagged_acts(app: FastAPI, w: World) -> dict[str, Any]:
    """Four flagged acts of the world's office (two costly, one breaking a hold, one both) and one of
    another office; plus an act not flagged."""
    made: dict[str, Any] = {}
    async with unit_of_work(app.state.sessions) as session:
        other = await seed(session)
        for name, on, flags, s in (
            ("cost-jan", date(2026, 1, 10), [COST], w.seeded),
            ("hold-feb", date(2026, 2, 10), [HOLD], w.seeded),
            ("both-mar", date(2026, 3, 10), [COST, HOLD], w.seeded),
            ("cost-apr", date(2026, 4, 10), [COST], w.seeded),
            ("elsewhere", date(2026, 2, 11), [COST], other),
            ("clear", date(2026, 2, 12), [], w.seeded),
        ):
            report = await act(session, s, on, flagged=bool(flags))
            report.assessment = {"flags": flags}
            made[name] = report.id
        await session.flush()
    return made


async def pages(client: httpx.AsyncClient, token: str, query: str, limit: int) -> list[list[str]]:
    """Every page of the listing, each as its acts' ids."""
    found: list[list[str]] = []
    after = ""
    while True:
        answer = await client.get(
            f"/v1/act-reports/flagged?{query}&limit={limit}{after}", headers=bearer(token)
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found.append([item["id"] for item in body["items"]])
        if body["next_after"] is None:
            return found
        after = f"&after={body['next_after']}"


async def test_staff_list_the_flagged_acts_with_their_reasons_by_office_reason_and_date(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    w = await world(app)
    made = await flagged_acts(app, w)
    ours = {str(made[name]) for name in ("cost-jan", "hold-feb", "both-mar", "cost-apr")}

    first = await client.get(f"/v1/act-reports/flagged?office={w.code}", headers=bearer(w.staff))
    assert first.status_code == 200, first.text
    items = {item["id"]: item for item in first.json()["items"]}
    assert ours <= set(items) and str(made["clear"]) not in items and str(made["elsewhere"]) not in items
    both = items[str(made["both-mar"])]
    assert [f["code"] for f in both["flags"]] == ["cost_above_recovery", "hold_breached"]
    assert (both["office_code"], both["case_ref"], both["act_date"]) == (
        w.code,
        w.seeded.case.ref,
        "2026-03-10",
    )
    assert both["fees_cents"] == 5158 + 1032 and both["collected_cents"] == 0

    # One reason, a page at a time: every act with it once, none without it.
    held = await pages(client, w.finance, f"office={w.code}&reason=hold_breached", limit=1)
    assert sorted(i for page in held for i in page) == sorted([str(made["hold-feb"]), str(made["both-mar"])])
    assert all(len(page) <= 1 for page in held)
    dated = await pages(client, w.staff, f"office={w.code}&since=2026-02-01&until=2026-03-10", limit=2)
    in_window = {i for page in dated for i in page}
    assert {str(made["hold-feb"]), str(made["both-mar"])} <= in_window
    assert not {str(made["cost-jan"]), str(made["cost-apr"])} & in_window
    everyone = {
        i for page in await pages(client, w.staff, "reason=cost_above_recovery", limit=500) for i in page
    }
    assert {str(made["elsewhere"]), str(made["cost-jan"])} <= everyone and str(
        made["hold-feb"]
    ) not in everyone


async def test_an_office_key_an_unknown_office_and_a_bad_query_are_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    w = await world(app)
    office_key = await client.get("/v1/act-reports/flagged", headers=bearer(w.key))
    assert office_key.status_code == 401 and office_key.json()["code"] == "auth.not_staff_token"
    unknown = await client.get("/v1/act-reports/flagged?office=CJNOWHERE", headers=bearer(w.staff))
    assert unknown.status_code == 404 and unknown.json()["code"] == "office.not_found"
    bad = await client.get("/v1/act-reports/flagged?since=yesterday&limit=0", headers=bearer(w.staff))
    assert bad.status_code == 422
    assert sorted(e["path"] for e in bad.json()["errors"]) == ["limit", "since"]
