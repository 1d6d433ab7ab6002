"""GET /v1/worklist as staff read it: each kind of item appears when its condition holds and not
otherwise (a mandate's quiet judged against its own office's pace), filtered by kind and office,
a page at a time; office keys refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from hub.database import unit_of_work
from hub.kit.clock import utcnow
from hub.worklist import service
from tests.hub.worklist.factories import (
    a_cost_request,
    a_hold_notice,
    a_mandate,
    acts_on,
    an_invoice,
    an_office,
    office_key,
    staff_token,
)


async def items(client: httpx.AsyncClient, auth: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    answer = await client.get("/v1/worklist", params={"limit": 500, **params}, headers=auth)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def test_a_mandate_is_stale_past_its_own_office_pace(app: FastAPI, client: httpx.AsyncClient) -> None:
    """Slow office: acts every 20 days, so quiet for 60 days is its pace (threshold max(30, 3 x 20) =
    60) and 65 is not. Fast office: acts every 5 days, threshold max(30, 15) = 30: 40 days is stale,
    25 is not. An office with no pace yet: 30 days, from the day the mandate was issued."""
    async with unit_of_work(app.state.sessions) as session:
        slow = await an_office(session)
        on_pace, late = await a_mandate(session, slow), await a_mandate(session, slow)
        await acts_on(session, on_pace, 100, 80, 60)
        await acts_on(session, late, 105, 85, 65)
        fast = await an_office(session)
        quiet, busy = await a_mandate(session, fast), await a_mandate(session, fast)
        await acts_on(session, quiet, 50, 45, 40)
        await acts_on(session, busy, 35, 30, 25)
        new = await an_office(session)
        never = await a_mandate(session, new, status="acknowledged", issued=utcnow() - timedelta(days=31))
        fresh = await a_mandate(session, new, status="acknowledged", issued=utcnow() - timedelta(days=29))
        issued_only = await a_mandate(session, new, status="issued", issued=utcnow() - timedelta(days=31))
        refs = [s.mandate.ref for s in (on_pace, late, quiet, busy, never, fresh, issued_only)]
    auth = await staff_token(app)

    stale = await items(client, auth, kind="stale_mandate")
    found = {i["mandate_ref"]: i for i in stale if i["mandate_ref"] in refs}
    assert set(found) == {late.mandate.ref, quiet.mandate.ref, never.mandate.ref}
    assert "max(30, 3 x 20) = 60" in found[late.mandate.ref]["explanation"]
    assert found[late.mandate.ref]["age_days"] == 65 and found[late.mandate.ref]["office_code"] == slow.code
    assert "max(30, 3 x 5) = 30" in found[quiet.mandate.ref]["explanation"]
    assert "HUB_WORKLIST_STALE_DAYS = 30" in found[never.mandate.ref]["explanation"]
    assert found[never.mandate.ref]["case_ref"] == never.case.ref and found[never.mandate.ref]["remindable"]

    only_fast = await items(client, auth, kind="stale_mandate", office=fast.code)
    assert [i["mandate_ref"] for i in only_fast] == [quiet.mandate.ref]


async def test_acknowledgements_overdue_and_waiting_decisions(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with unit_of_work(app.state.sessions) as session:
        office = await an_office(session)
        overdue = await a_mandate(session, office, status="issued", issued=utcnow() - timedelta(hours=73))
        in_time = await a_mandate(session, office, status="issued", issued=utcnow() - timedelta(hours=71))
        accepted = await a_mandate(
            session, office, status="acknowledged", issued=utcnow() - timedelta(days=5)
        )
        await a_hold_notice(session, accepted, due_hours_ago=3, acknowledged=False)
        acked = await a_mandate(session, office, status="acknowledged", issued=utcnow() - timedelta(days=5))
        await a_hold_notice(session, acked, due_hours_ago=3, acknowledged=True)
        early = await a_mandate(session, office, status="acknowledged", issued=utcnow() - timedelta(days=5))
        await a_hold_notice(session, early, due_hours_ago=-3, acknowledged=False)
        held = await a_mandate(session, office, status="held")
        pending = await a_cost_request(session, accepted.mandate, decided=False)
        await a_cost_request(session, acked.mandate, decided=True)
        disputed = await an_invoice(session, office, "disputed")
        await an_invoice(session, office, "matched")
    auth = await staff_token(app)

    everything = await items(client, auth, office=office.code)
    by_kind: dict[str, list[str]] = {}
    for item in everything:
        by_kind.setdefault(item["kind"], []).append(
            item["mandate_ref"] if item["kind"] != "invoice_disputed" else item["invoice_number"]
        )
    assert by_kind["mandate_ack_overdue"] == [overdue.mandate.ref]
    assert in_time.mandate.ref not in str(everything)
    assert by_kind["hold_notice_ack_overdue"] == [accepted.mandate.ref]
    assert by_kind["held_mandate"] == [held.mandate.ref]
    assert by_kind["cost_request"] == [accepted.mandate.ref]
    assert by_kind["invoice_disputed"] == [disputed.number]
    assert "stale_mandate" not in by_kind  # acknowledged 5 days ago, no pace: 30 days
    [cost] = [i for i in everything if i["kind"] == "cost_request"]
    assert cost["approval_id"] == pending.approval_id and not cost["remindable"]
    assert "BANK_GARNISHMENT for 120.00 EUR" in cost["explanation"]
    # Sorted by kind, then the oldest first: the ids are the cursor.
    assert [i["id"] for i in everything] == sorted(i["id"] for i in everything)


async def test_money_not_remitted_past_the_deadline_per_case(app: FastAPI, client: httpx.AsyncClient) -> None:
    async with unit_of_work(app.state.sessions) as session:
        office = await an_office(session)
        old, recent = await a_mandate(session, office), await a_mandate(session, office)
        await acts_on(session, old, 31, collected=15_000)
        await acts_on(session, recent, 29, collected=20_000)
    auth = await staff_token(app)
    [item] = await items(client, auth, office=office.code, kind="unremitted")
    assert item["case_ref"] == old.case.ref and item["amount_cents"] == 15_000 and item["age_days"] == 31
    assert "150.00 EUR" in item["explanation"] and "HUB_REMITTANCE_DEADLINE_DAYS = 30" in item["explanation"]


async def test_pages_follow_each_other_and_refusals(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with unit_of_work(app.state.sessions) as session:
        office = await an_office(session)
        for _ in range(5):
            await a_mandate(session, office, status="held")
        for _ in range(3):
            await a_mandate(session, office, status="issued", issued=utcnow() - timedelta(hours=80))
        await an_invoice(session, office, "disputed")
    auth = await staff_token(app)
    every = [i["id"] for i in await items(client, auth, office=office.code)]
    assert [i.split(":", 1)[0] for i in every] == ["held_mandate"] * 5 + ["invoice_disputed"] + [
        "mandate_ack_overdue"
    ] * 3
    # Kind by kind, a page collects the kinds from its cursor's on and stops at the one that fills
    # it: counted per page, and the pages together are the whole list, each item once.
    collected: list[str] = []
    for kind, collect in list(service._COLLECTORS.items()):

        async def counted(*args: Any, kind: service.Kind = kind, collect: Any = collect) -> Any:
            collected.append(kind.value)
            return await collect(*args)

        monkeypatch.setitem(service._COLLECTORS, kind, counted)
    seen: list[str] = []
    kinds_per_page: list[list[str]] = []
    after = None
    while True:
        params: dict[str, Any] = {"office": office.code, "limit": 2}
        if after is not None:
            params["after"] = after
        collected.clear()
        page = (await client.get("/v1/worklist", params=params, headers=auth)).json()
        kinds_per_page.append(list(collected))
        seen += [i["id"] for i in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == every
    assert kinds_per_page == [
        ["cost_request", "held_mandate"],
        ["held_mandate"],
        ["held_mandate", "hold_notice_ack_overdue", "invoice_disputed"],
        ["invoice_disputed", "mandate_ack_overdue"],
        ["mandate_ack_overdue", "stale_mandate", "unremitted"],
    ]

    unknown = await client.get("/v1/worklist", params={"office": "CJNOPE"}, headers=auth)
    assert unknown.status_code == 404 and unknown.json()["code"] == "office.not_found"
    bad = await client.get("/v1/worklist", params={"kind": "gossip", "limit": 0}, headers=auth)
    assert bad.status_code == 422 and len(bad.json()["errors"]) == 2
    key = await office_key(app, office)
    as_office = await client.get("/v1/worklist", headers=key)
    assert as_office.status_code == 401 and as_office.json()["code"] == "auth.not_staff_token"
