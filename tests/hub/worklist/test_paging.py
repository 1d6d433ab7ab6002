"""The worklist read a page at a time: each kind's collector takes the cursor and the page's room, and
the pages walked one after the other, at any size, are the whole list in its order (the items' ids
compared as Python compares strings: office codes one the prefix of another, refs of mixed case);
any cursor, an item's id or not, resumes where a string comparison puts it; and a page sends a
bounded number of statements and, on PostgreSQL, reads a bounded number of rows of the big tables
(the rows of its items and of the days at its two ends), not the whole kind."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.database import create_engine, session_factory, unit_of_work
from hub.kit.clock import utcnow
from hub.mandates.models import Approval, Mandate
from hub.offices import service as offices
from hub.worklist import service
from tests.conftest import postgres_database
from tests.hub.acts.factories import seed
from tests.hub.worklist.factories import a_hold_notice, acts_on, an_invoice

FIRST_DAY = date(2011, 3, 1)  # a range of days no other test's items fall in
DAYS = 12
PER_DAY = 6  # items of a kind a day: two for each of the three offices
# Refs that PostgreSQL's usual collations order otherwise than by code point.
SHAPES = ("a{}", "B{}", "b-{}", "A.{}")


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), UTC)


async def build(session: AsyncSession) -> dict[str, Any]:
    """Three offices whose codes are prefixes of one another, and for each day of ``DAYS``,
    ``PER_DAY`` mandates not acknowledged, held mandates, cost requests and stale mandates, spread
    over the offices and over the day's hours; a few disputed invoices, hold notices overdue and
    money not remitted."""
    stem = "CJ" + secrets.token_hex(3).upper()
    codes = [stem + "1", stem + "10", stem + "1A"]
    found = [await offices.add_office(session, code=code, name=f"Étude {code}") for code in codes]
    seeded = [await seed(session, office=o, status="completed") for o in found]
    mine: dict[str, set[str]] = {k.value: set() for k in service.Kind}

    def mandate(n: int, status: str, day: date, kind: str) -> Mandate:
        s = seeded[n % 3]
        ref = f"M-{stem}-{kind[:2]}-" + SHAPES[n % 4].format(n)
        return Mandate(
            id=uuid.uuid4(),
            ref=ref,
            case_id=s.case.id,
            office_id=s.office.id,
            kind="per_act",
            acts=["SERVE_TITLE"],
            currency="EUR",
            status=status,
            created_by="agent@agence.example",
            issued_at=at(day, (7 * n) % 24),
            created_at=at(day, (5 * n) % 24),
        )

    for n in range(DAYS * PER_DAY):
        day = FIRST_DAY + timedelta(days=n // PER_DAY)
        overdue, held, stale = (
            mandate(n, "issued", day, "ack"),
            mandate(n, "held", day, "held"),
            mandate(n, "acknowledged", day, "stale"),
        )
        session.add_all([overdue, held, stale])
        mine["mandate_ack_overdue"].add(overdue.ref)
        mine["held_mandate"].add(held.ref)
        mine["stale_mandate"].add(stale.ref)
        approval = Approval(
            approval_id=f"APR-{stem}-" + SHAPES[(n + 1) % 4].format(n),
            mandate_id=seeded[n % 3].mandate.id,
            act_code="BANK_GARNISHMENT",
            amount_cents=12_000,
            requested_by="office",
            request_message_id=f"CRQ-{secrets.token_hex(6)}",
            created_at=at(day, (11 * n) % 24),
        )
        session.add(approval)
        mine["cost_request"].add(approval.approval_id)
    await session.flush()
    for n in range(8):
        invoice = await an_invoice(session, found[n % 3], "disputed")
        invoice.number = f"F-{stem}-" + SHAPES[n % 4].format(n)
        invoice.dispute_sent_at = at(FIRST_DAY + timedelta(days=n // 3), n)
        mine["invoice_disputed"].add(invoice.number)
    for n in range(3):
        s = await seed(session, office=found[n], status="in_progress")
        s.mandate.issued_at = utcnow() - timedelta(days=5)
        await a_hold_notice(session, s, due_hours_ago=3 + n, acknowledged=False)
        mine["hold_notice_ack_overdue"].add(s.case.ref)
        await acts_on(session, s, 40 + n, collected=1_000)
        mine["unremitted"].add(s.case.ref)
        s.mandate.status = "completed"  # quiet since its act, but done: not stale
    await session.flush()
    return {"codes": codes, "mine": mine}


async def walk(session: AsyncSession, limit: int, **filters: Any) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        views, after = await service.worklist(session, after=after, limit=limit, **filters)
        assert len(views) <= limit
        ids += [v.item.id for v in views]
        if after is None:
            return ids
        assert after == ids[-1]


async def test_pages_of_any_size_are_the_whole_list_in_order(app: FastAPI) -> None:
    async with unit_of_work(app.state.sessions) as session:
        built = await build(session)
        views, cursor = await service.worklist(session, limit=service.ALL)
        assert cursor is None
        whole = [v.item.id for v in views]
        assert whole == sorted(whole) and len(set(whole)) == len(whole)
        for kind, subjects in built["mine"].items():
            assert subjects <= {v.item.subject for v in views if v.item.kind == kind}, kind
        assert sum(v.item.office_code in built["codes"] for v in views) == 4 * DAYS * PER_DAY + 8 + 6

        for limit in (1, 4, 7):
            assert await walk(session, limit) == whole, limit
        one = built["codes"][1]
        filters = {"office_code": one, "kinds": frozenset({"held_mandate", "stale_mandate", "cost_request"})}
        wanted = [v.item.id for v in views if v.item.office_code == one and v.item.kind in filters["kinds"]]
        assert len(wanted) == 3 * DAYS * PER_DAY // 3
        assert await walk(session, 5, **filters) == wanted

        # Any cursor resumes where comparing strings puts it, an item's id or not.
        day = FIRST_DAY + timedelta(days=3)
        cursors = [
            *[v.item.id for v in views if v.item.office_code in built["codes"]][::9],
            "cost_request",
            "cost_request:",
            f"cost_request:{day}",
            f"cost_request:{day}:",
            f"cost_request:{day}:{built['codes'][0]}",
            f"cost_request:{day}:{built['codes'][0]}:",
            f"cost_request:{day}:{built['codes'][1]}~",
            "cost_request:2011-02-30:X",
            "cost_request:2011-03-0",
            "cost_request:2011-13",
            "cost_request:~",
            "held_mandate:0000",
            "held_mandate:9999-99-99",
            "hold_notice_ack_overdue:2",
            "invoice_disputed:2011-03-02:" + built["codes"][2],
            "stale_mandate:2011-03-05:" + built["codes"][0] + ":M",
            "unremitted:1",
            "a",
            "d",
            "zz",
        ]
        for after in cursors:
            rest, _ = await service.worklist(session, after=after, limit=service.ALL)
            assert [v.item.id for v in rest] == [i for i in whole if i > after], after


@pytest.mark.postgres
async def test_pages_follow_the_ids_byte_order_on_a_database_of_a_language_collation() -> None:
    """On a database whose strings compare by a language's rules (ICU fr-FR: "CJ1:" before "CJ10:",
    "a" before "B"), as a database created with a locale compares them, the pages still follow the
    ids as Python compares them (each kind's key compared under ``COLLATE "C"``): the whole list
    sorted, and walked by any size, the same, nothing skipped or repeated."""
    async with postgres_database(icu_locale="fr-FR") as url:
        engine = create_engine(url)
        try:
            async with unit_of_work(session_factory(engine)) as session:
                # The database's own order of such keys is not the ids' (else this test proves nothing).
                assert await session.scalar(text("SELECT 'CJ1:B' < 'CJ10:a' AND 'CJ1:a' < 'CJ1:B'"))
                await build(session)
                views, cursor = await service.worklist(session, limit=service.ALL)
                whole = [v.item.id for v in views]
                assert cursor is None and len(whole) == 4 * DAYS * PER_DAY + 8 + 6
                assert whole == sorted(whole) and len(set(whole)) == len(whole)
                for limit in (1, 4, 7):
                    assert await walk(session, limit) == whole, limit
        finally:
            await engine.dispose()


async def test_a_page_reads_its_rows_not_the_whole_kind(app: FastAPI) -> None:
    """Statements counted per page on both engines; on PostgreSQL, the rows of ``mandates`` and
    ``approvals`` a page reads (its transaction's own statistics): those of its items and of the
    days at its two ends, never the kind's hundreds."""
    postgres = app.state.engine.dialect.name == "postgresql"
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    async with unit_of_work(app.state.sessions) as session:
        await build(session)
        await build(session)  # twice the items: a page must read no more for it
        if postgres:  # the plans on tables loaded and analysed: tests/hub/test_hot_queries.py
            await session.execute(text("SET LOCAL enable_seqscan = off"))
        mine = date(2012, 1, 1).isoformat()

        async def read(table: str) -> int:
            if not postgres:
                return 0
            await session.execute(text("SELECT pg_stat_clear_snapshot()"))
            found = await session.scalar(
                text(
                    "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) "
                    "FROM pg_stat_xact_user_tables WHERE relname = :table"
                ),
                {"table": table},
            )
            return int(found or 0)

        limit = 4
        for kind, table in (
            ("mandate_ack_overdue", "mandates"),
            ("held_mandate", "mandates"),
            ("cost_request", "approvals"),
        ):
            after = None
            pages = 0
            while True:
                before = await read(table)
                event.listen(app.state.engine.sync_engine, "before_cursor_execute", count)
                try:
                    sent.clear()
                    views, after = await service.worklist(
                        session, kinds=frozenset({kind}), after=after, limit=limit
                    )
                finally:
                    event.remove(app.state.engine.sync_engine, "before_cursor_execute", count)
                rows = await read(table) - before
                if not views or views[-1].item.since.isoformat() >= mine:
                    break  # past this test's days: other tests' items
                pages += 1
                # The two of its kind, its items' offices, their last reminders.
                assert len(sent) == 4, sent
                # Its items, joined (a mandate per cost request), and the others of the days at its
                # two ends (2 x PER_DAY x 2 builds), read twice (the day of its last, then the page).
                bound = 2 * (2 * limit + 2 * 2 * PER_DAY)
                assert rows <= bound, (kind, rows, bound)
                if after is None:
                    break
            assert pages >= 2 * DAYS * PER_DAY // limit
