"""Remittances end to end on PostgreSQL against ``hub serve``, as an office and finance meet them:
money reported collected, remitted, posted to the ledger, and nothing left to remit; two remittances
sent at once for more than was collected: exactly one accepted, in every round (the cases are locked
before what is left is read); two at once quoting one bank reference: one posted."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hub.database import unit_of_work
from hub.ledger import service as ledger
from hub.ledger.models import LedgerTransaction
from hub.remittances.models import Remittance
from hub.staff import service as staff
from hub.staff.models import Role
from tests.hub.acts.factories import Seeded, bearer, report, seed
from tests.hub.remittances.factories import remittance
from tests.hub.test_concurrency import (  # noqa: F401
    ROUNDS,
    Hub,
    count,
    database,
    hub,
    post,
    same_as_sequential,
    seeded,
)

pytestmark = pytest.mark.postgres

Sends = list[Callable[[], Awaitable[httpx.Response]]]


async def held(hub: Hub, s: Seeded) -> int:  # noqa: F811
    async with unit_of_work(hub.sessions) as session:
        balances = await ledger.balances(session, case_id=s.case.id, office_id=s.office.id)
    return ledger.balance_of(balances, ledger.COLLECTED_BY_OFFICE)


async def postings(hub: Hub, s: Seeded) -> tuple[int, int]:  # noqa: F811
    """(remittances, remittance transactions) of the office."""
    remittances = select(func.count()).select_from(Remittance).where(Remittance.office_id == s.office.id)
    transactions = (
        select(func.count())
        .select_from(LedgerTransaction)
        .where(LedgerTransaction.office_id == s.office.id, LedgerTransaction.kind == ledger.REMITTANCE)
    )
    return await count(hub.sessions, remittances), await count(hub.sessions, transactions)


async def collected(hub: Hub, cents: int, cases: int = 1) -> tuple[list[Seeded], str]:  # noqa: F811
    """A new office with its key and ``cases`` cases, on each of which it reported an act that
    collected ``cents`` (over HTTP, as an office does)."""
    first, key = await seeded(hub.sessions)
    async with unit_of_work(hub.sessions) as session:
        others = [await seed(session, office=first.office) for _ in range(cases - 1)]
    for n, s in enumerate([first, *others]):
        body = report(s.office.code, s.mandate.ref, f"col{n}", collected_cents=cents)
        answer = await post(hub, "/v1/act-reports", body, key)()
        assert answer.status_code == 202, answer.text
    return [first, *others], key


async def test_money_reported_collected_is_remitted_and_nothing_is_left(hub: Hub) -> None:  # noqa: F811
    (s,), key = await collected(hub, 25_000)
    code = s.office.code
    async with unit_of_work(hub.sessions) as session:
        _, finance = await staff.add_staff(session, f"finance-{code}@agence.example", Role.FINANCE)

    async def left() -> list[dict[str, Any]]:
        answer = await hub.client.get(f"/v1/finance/unremitted?office={code}", headers=bearer(finance))
        assert answer.status_code == 200, answer.text
        return list(answer.json()["offices"])

    (office,) = await left()
    assert (office["amount_cents"], office["cases"][0]["case_ref"]) == (25_000, s.case.ref)
    first = await post(hub, "/v1/remittances", remittance(code, [(s.case.ref, 15_000)]), key)()
    assert first.status_code == 202, first.text
    assert (await left())[0]["amount_cents"] == 10_000
    rest = await post(hub, "/v1/remittances", remittance(code, [(s.case.ref, 10_000)]), key)()
    assert rest.status_code == 202, rest.text
    assert await left() == []
    assert await held(hub, s) == 0 and await postings(hub, s) == (2, 2)
    async with unit_of_work(hub.sessions) as session:
        balances = await ledger.balances(session, case_id=s.case.id, office_id=s.office.id)
    assert ledger.balance_of(balances, ledger.REMITTED_TO_AGENCY) == 25_000


async def test_two_remittances_at_once_above_what_was_collected_one_is_accepted(hub: Hub) -> None:  # noqa: F811
    async def fresh() -> tuple[Sends, Seeded]:
        (s,), key = await collected(hub, 10_000)
        code = s.office.code
        same = [(s.case.ref, 6_000)]
        return [post(hub, "/v1/remittances", remittance(code, same), key) for _ in range(2)], s

    async def state(s: Seeded) -> tuple[tuple[int, int], int]:
        return await postings(hub, s), await held(hub, s)

    assert await same_as_sequential(hub, fresh, state) == (
        [(202, None), (422, "remittance.above_collected")],
        ((1, 1), 4_000),
    )


async def test_two_remittances_at_once_with_one_bank_reference_post_once(hub: Hub) -> None:  # noqa: F811
    """On two different cases: no lock in common, the unique bank reference decides."""

    async def fresh() -> tuple[Sends, Seeded]:
        (a, b), key = await collected(hub, 10_000, cases=2)
        code = a.office.code
        sends = [
            post(
                hub,
                "/v1/remittances",
                remittance(code, [(s.case.ref, 1_000)], bank_reference=f"VIR-{code}"),
                key,
            )
            for s in (a, b)
        ]
        return sends, a

    async def state(s: Seeded) -> tuple[int, int]:
        return await postings(hub, s)

    assert await same_as_sequential(hub, fresh, state) == (
        [(202, None), (409, "remittance.duplicate_reference")],
        (1, 1),
    )


async def test_one_bank_reference_sent_by_the_office_and_posted_by_staff_at_once_posts_once(
    hub: Hub,  # noqa: F811
) -> None:
    """The office's message on one case, finance's hand posting on another, one transfer reference:
    no case in common, the office row's lock decides. Whichever comes first posts it; the other is
    refused as a duplicate, in every round."""
    for round_ in range(ROUNDS):
        (a, b), key = await collected(hub, 10_000, cases=2)
        code = a.office.code
        async with unit_of_work(hub.sessions) as session:
            _, finance = await staff.add_staff(session, f"finance-{code}@agence.example", Role.FINANCE)
        reference = f"VIR-{code}"
        by_office = post(
            hub, "/v1/remittances", remittance(code, [(a.case.ref, 1_000)], bank_reference=reference), key
        )
        by_staff = hub.client.post(
            "/v1/ledger/remittances",
            json={
                "office_code": code,
                "case_ref": b.case.ref,
                "amount_cents": 1_000,
                "effective_on": "2026-03-02",
                "reference": reference,
            },
            headers=bearer(finance),
        )
        answers = await asyncio.gather(by_office(), by_staff)
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses in ([201, 409], [202, 409]), (round_, [a.text for a in answers])
        refused = next(answer for answer in answers if answer.status_code == 409)
        assert refused.json()["code"] in {"remittance.duplicate_reference", "ledger.remittance_duplicate"}
        transactions = (
            select(func.count())
            .select_from(LedgerTransaction)
            .where(LedgerTransaction.office_id == a.office.id, LedgerTransaction.kind == ledger.REMITTANCE)
        )
        assert await count(hub.sessions, transactions) == 1, round_
