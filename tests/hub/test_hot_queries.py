"""The plans of the hot queries on tables loaded like a busy hub's, once analysed: each walks its
index, never a sequential scan or a sort of the big table. A plan check, never a timing; PostgreSQL
only (its planner is the one production runs)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hub.acts.repository import ActReportRepository
from hub.database import create_engine, refresh_statistics, session_factory
from hub.kit.clock import utcnow
from hub.ledger.repository import LedgerRepository
from hub.mandates.repository import MandateRepository
from hub.messaging.repository import MessageRepository
from hub.worklist import service as worklist
from hub.worklist.repository import Resume, WorklistRepository
from tests.conftest import postgres_database

pytestmark = pytest.mark.postgres

MESSAGES = 60_000  # outbound ones, each with an outbox row and a mailbox row; as many inbound
BATCH = 500  # inbound messages per batch, each with its receipt
PENDING_EVERY = 12  # one outbox row in 12 still pending, one mailbox row in 12 due
BENCH_MESSAGES = 5_000  # the relay's bench (``hub bench --size ci``)
WAITING = 20_000  # the worklist's mandates not acknowledged, as many held, twice as many done
# Of the done mandates' acts, one in OPEN_EVERY within the pace's window; of their hold notices, one in
# OPEN_EVERY not acknowledged. The rest is the hub's history.
OPEN_EVERY = 20
OPEN_NOTICES = 2 * WAITING // OPEN_EVERY  # a notice a done mandate
WINDOW_ACTS = 2 * OPEN_NOTICES  # two acts a done mandate
# Cases with a ledger history: collections over the years, each remitted a month later, but the
# newest of one case in OPEN_EVERY, still held.
LEDGER_CASES = 10_000
COLLECTIONS = 4  # a case
HOLDING = LEDGER_CASES // OPEN_EVERY
# (A plan may sort these, twice as many by the planner's estimate at most: never the history's.)


def outbound_rows(messages: int) -> list[str]:
    """``messages`` outbound messages, each with an outbox row and a mailbox row."""
    return [
        f"""INSERT INTO messages (id, direction, message_id, kind, version, sender, recipient, content_type,
            body, sha256, status, created_at)
        SELECT gen_random_uuid(), 'outbound', 'OUT-' || g, 'receipt', '1', 'AGENCY', 'CJ' || (g % 50),
            'application/json', '\\x7b7d', repeat('0', 64), 'sent', now()
        FROM generate_series(1, {messages}) g""",
        f"""INSERT INTO outbox (message_pk, recipient, exchange, routing_key, status, attempts,
            next_attempt_at, created_at, sent_at)
        SELECT id, recipient, 'hub.outbound', recipient,
            CASE WHEN row_number() OVER () % {PENDING_EVERY} = 0 THEN 'pending' ELSE 'sent' END, 0,
            now() - interval '1 minute', now(), now()
        FROM messages WHERE direction = 'outbound'""",
        f"""INSERT INTO mailbox (recipient, message_pk, push_state, push_attempts, next_push_at, created_at)
        SELECT recipient, id,
            CASE WHEN row_number() OVER () % {PENDING_EVERY} = 0 THEN 'due' ELSE 'delivered' END, 0,
            now() - interval '1 minute', now()
        FROM messages WHERE direction = 'outbound'""",
    ]


LOAD = [
    *outbound_rows(MESSAGES),
    # Batches: a parent message each, BATCH inbound records under it, every record with its receipt.
    f"""INSERT INTO messages (id, direction, message_id, kind, version, sender, recipient, content_type,
        body, sha256, status, created_at)
    SELECT gen_random_uuid(), 'inbound', 'BATCH-' || b, 'act_report_batch', '1', 'CJ1', 'AGENCY',
        'application/xml', '\\x3c622f3e', repeat('0', 64), 'received', now()
    FROM generate_series(1, {MESSAGES // BATCH}) b""",
    f"""INSERT INTO messages (id, direction, message_id, kind, version, sender, recipient, content_type,
        body, sha256, status, parent_id, created_at)
    SELECT gen_random_uuid(), 'inbound', 'CR-' || p.message_id || '-' || g, 'act_report', '1', 'CJ1',
        'AGENCY', 'application/xml', '\\x3c722f3e', repeat('0', 64), 'applied', p.id, now()
    FROM messages p, generate_series(1, {BATCH}) g WHERE p.kind = 'act_report_batch'""",
    """INSERT INTO receipts (message_pk, message_id, sender, sha256, accepted, errors, received_at,
        signature, signature_alg, created_at)
    SELECT id, message_id, sender, sha256, right(message_id, 1) <> '7', '[]', now(), 'sig', 'Ed25519', now()
    FROM messages WHERE kind = 'act_report'""",
    # The worklist: offices, a case each, and WAITING mandates of each kind it pages through the
    # partial indexes (not acknowledged, held), with as many cost requests pending; many more
    # mandates done.
    """INSERT INTO offices (id, code, name, departements, delivery_channel, codec, active, created_at)
    SELECT gen_random_uuid(), 'CJ' || g, 'Etude ' || g, '[]', 'pull', 'canonical-xml-v1', true, now()
    FROM generate_series(1, 300) g""",
    """INSERT INTO creditors (id, name, created_at) VALUES (gen_random_uuid(), 'Banque', now())""",
    """INSERT INTO debtors (id, kind, name, created_at)
    VALUES (gen_random_uuid(), 'person', 'Jean', now())""",
    """INSERT INTO cases (id, ref, creditor_id, debtor_id, claim_kind, principal_cents, interest_cents,
        costs_cents, paid_cents, currency, created_at)
    SELECT gen_random_uuid(), 'C-' || o.code, (SELECT id FROM creditors), (SELECT id FROM debtors),
        'consumer', 250000, 0, 0, 0, 'EUR', now()
    FROM offices o""",
    f"""INSERT INTO mandates (id, ref, case_id, office_id, kind, acts, status, priority, created_by,
        currency, issued_at, created_at)
    SELECT gen_random_uuid(), 'M-' || g, c.id, c_office.id, 'per_act', '[]',
        (ARRAY['issued', 'held', 'completed', 'completed'])[1 + g % 4], 'normal', 'a@b.c', 'EUR',
        now() - (g % 700) * interval '1 day' - (g % 24) * interval '1 hour',
        now() - (g % 500) * interval '1 day' - (g % 24) * interval '1 hour'
    FROM generate_series(1, {4 * WAITING}) g
    JOIN offices c_office ON c_office.code = 'CJ' || (1 + g % 300)
    JOIN cases c ON c.ref = 'C-' || c_office.code""",
    # Mandates at the office (the stale ones' kind): acknowledged with no act, or in progress with one
    # act before the pace's window (its last act, kept on the mandate by the trigger).
    f"""INSERT INTO mandates (id, ref, case_id, office_id, kind, acts, status, priority, created_by,
        currency, issued_at, created_at)
    SELECT gen_random_uuid(), 'W-' || g, c.id, c_office.id, 'per_act', '[]',
        (ARRAY['acknowledged', 'in_progress'])[1 + g % 2], 'normal', 'a@b.c', 'EUR',
        now() - (30 + g % 700) * interval '1 day' - (g % 24) * interval '1 hour', now()
    FROM generate_series(1, {WAITING}) g
    JOIN offices c_office ON c_office.code = 'CJ' || (1 + g % 300)
    JOIN cases c ON c.ref = 'C-' || c_office.code""",
    """INSERT INTO act_reports (id, mandate_id, case_id, office_id, message_pk, act_code, act_date,
        outcome_code, office_reference, currency, seized_cents, collected_cents, emoluments_cents,
        disbursements_cents, vat_cents, flagged, created_at)
    SELECT gen_random_uuid(), m.id, m.case_id, m.office_id,
        (SELECT id FROM messages WHERE message_id = 'BATCH-1'), 'SERVE_TITLE',
        current_date - 400 - substr(m.ref, 3)::int % 600, 'served', 'R-' || m.ref, 'EUR', 0, 0, 0, 0, 0,
        false, now()
    FROM mandates m WHERE m.status = 'in_progress'""",
    """INSERT INTO approvals (id, approval_id, mandate_id, act_code, amount_cents, requested_by,
        request_message_id, decision, attempts, created_at)
    SELECT gen_random_uuid(), 'APR-' || m.ref, m.id, 'BANK_GARNISHMENT', 12000, 'office', 'CRQ-' || m.ref,
        CASE WHEN m.status = 'completed' THEN 'approved' END, 0, m.created_at
    FROM mandates m WHERE m.status IN ('completed', 'held')""",
    # The history the pace and the overdue hold notices must not read: two acts a done mandate, one in
    # OPEN_EVERY within the last year, the others up to ten years back; a hold notice each, one in
    # OPEN_EVERY not acknowledged (almost all of those overdue).
    f"""INSERT INTO act_reports (id, mandate_id, case_id, office_id, message_pk, act_code, act_date,
        outcome_code, office_reference, currency, seized_cents, collected_cents, emoluments_cents,
        disbursements_cents, vat_cents, flagged, created_at)
    SELECT gen_random_uuid(), m.id, m.case_id, m.office_id,
        (SELECT id FROM messages WHERE message_id = 'BATCH-1'), 'SERVE_TITLE',
        current_date - CASE WHEN n % {OPEN_EVERY} = 0 THEN n % 300 ELSE 400 + n % 3000 END,
        'served', 'R-' || m.ref || '-' || k, 'EUR', 0, 0, 0, 0, 0, false, now()
    FROM (SELECT *, row_number() OVER ()::int AS n FROM mandates WHERE status = 'completed') m,
        generate_series(1, 2) k""",
    f"""INSERT INTO cases (id, ref, creditor_id, debtor_id, claim_kind, principal_cents, interest_cents,
        costs_cents, paid_cents, currency, created_at)
    SELECT gen_random_uuid(), 'L-' || g, (SELECT id FROM creditors), (SELECT id FROM debtors),
        'consumer', 250000, 0, 0, 0, 'EUR', now()
    FROM generate_series(1, {LEDGER_CASES}) g""",
    f"""INSERT INTO ledger_transactions (id, kind, case_id, office_id, effective_on, source, recorded_at)
    SELECT gen_random_uuid(), v.kind, c.id, o.id, v.day, v.kind || ':' || c.ref || ':' || k, now()
    FROM (SELECT id, ref, substr(ref, 3)::int AS n FROM cases WHERE ref LIKE 'L-%') c
    JOIN offices o ON o.code = 'CJ' || (1 + c.n % 300)
    CROSS JOIN generate_series(1, {COLLECTIONS}) k
    CROSS JOIN LATERAL (VALUES ('collection', current_date - k * 300 - c.n % 200),
        ('remittance', current_date - k * 300 - c.n % 200 + 30)) v(kind, day)
    WHERE NOT (v.kind = 'remittance' AND k = 1 AND c.n % {OPEN_EVERY} = 0)""",
    """INSERT INTO ledger_entries (transaction_id, account, case_id, office_id, amount_cents, currency)
    SELECT t.id,
        CASE WHEN t.kind = 'collection' THEN
            (CASE WHEN s.sign = 1 THEN 'collected_by_office' ELSE 'case_collections' END)
        ELSE (CASE WHEN s.sign = 1 THEN 'remitted_to_agency' ELSE 'collected_by_office' END) END,
        t.case_id, t.office_id, s.sign * 1000, 'EUR'
    FROM ledger_transactions t CROSS JOIN (VALUES (1), (-1)) s(sign)""",
    f"""INSERT INTO hold_notices (id, message_id, mandate_id, office_id, act_code, situation, sent_at,
        ack_due_by, acknowledged_at, created_at)
    SELECT gen_random_uuid(), 'HN-' || m.ref, m.id, m.office_id, 'SERVE_TITLE', 'disputed',
        now() - (n % 600) * interval '1 day', now() - (n % 600) * interval '1 day' + interval '3 days',
        CASE WHEN n % {OPEN_EVERY} <> 0 THEN now() - (n % 600) * interval '1 day' + interval '1 day' END,
        now()
    FROM (SELECT *, row_number() OVER ()::int AS n FROM mandates WHERE status = 'completed') m""",
]


@contextlib.asynccontextmanager
async def _database_with(statements: list[str]) -> AsyncIterator[AsyncEngine]:
    """A migrated database of its own holding what ``statements`` insert, analysed."""
    async with postgres_database() as url:
        engine = create_engine(url)
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
        await refresh_statistics(engine)
        try:
            yield engine
        finally:
            await engine.dispose()


@pytest.fixture(scope="module")
async def loaded() -> AsyncIterator[AsyncEngine]:
    async with _database_with(LOAD) as engine:
        yield engine


@pytest.fixture(scope="module")
async def small() -> AsyncIterator[AsyncEngine]:
    """A hub holding the relay bench's messages: tables the planner takes for small."""
    async with _database_with(outbound_rows(BENCH_MESSAGES)) as engine:
        yield engine


async def plan_of(engine: AsyncEngine, query: Callable[[AsyncSession], Awaitable[Any]]) -> dict[str, Any]:
    """The plan PostgreSQL chooses for the one statement ``query`` sends, with its parameters."""
    plans = await plans_of(engine, query)
    assert len(plans) == 1, f"{len(plans)} statements sent"
    return plans[0]


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def assert_walks(plan: dict[str, Any], index: str, *, big: set[str], sorts_at_most: int = 0) -> None:
    """``index`` used, no sequential scan of a ``big`` table, no sort of more than ``sorts_at_most``
    rows (the planner's estimate)."""
    every = list(nodes(plan))
    used = {n.get("Index Name") for n in every}
    assert index in used, f"{index} not used: {every}"
    scanned = [n["Relation Name"] for n in every if n["Node Type"] == "Seq Scan"]
    assert not set(scanned) & big, f"sequential scan of {scanned}"
    sorts = [n["Plan Rows"] for n in every if n["Node Type"] in ("Sort", "Incremental Sort")]
    assert all(rows <= sorts_at_most for rows in sorts), f"a sort of {sorts} rows"


async def test_the_relay_claims_pending_rows_through_their_partial_index(loaded: AsyncEngine) -> None:
    plan = await plan_of(loaded, lambda s: MessageRepository(s).claim_pending(utcnow(), 100))
    assert_walks(plan, "ix_outbox_pending_id", big={"outbox"})


async def test_the_relay_delivers_to_mailboxes_walking_the_pending_rows_and_each_row_by_key(
    loaded: AsyncEngine,
) -> None:
    """PostgreSQL's one statement of a mailbox batch: the claim through the partial index, then each
    claimed row's message and mailbox item by their keys (sorting the batch alone, for its items)."""
    # After the mailboxes' order lock (ADR 0023), a statement of its own.
    _lock, plan = await plans_of(
        loaded, lambda s: MessageRepository(s).deliver_due_to_mailboxes(utcnow(), 100)
    )
    assert_walks(plan, "ix_outbox_pending_id", big={"outbox", "messages", "mailbox"}, sorts_at_most=100)


async def test_the_relay_delivers_each_row_by_key_on_tables_taken_for_small(small: AsyncEngine) -> None:
    """At the bench's size the planner would hash a sequential scan of the whole outbox and of
    ``messages`` for joins (a third of the statement's time): the rows are looked up by key instead."""
    _lock, plan = await plans_of(
        small, lambda s: MessageRepository(s).deliver_due_to_mailboxes(utcnow(), 500)
    )
    assert_walks(plan, "ix_outbox_pending_id", big={"outbox", "messages"}, sorts_at_most=500)
    assert {"pk_outbox", "pk_messages"} <= {n.get("Index Name") for n in nodes(plan)}


async def test_the_pusher_claims_due_pushes_through_their_partial_index(loaded: AsyncEngine) -> None:
    plan = await plan_of(loaded, lambda s: MessageRepository(s).claim_due_pushes(utcnow(), 100))
    assert_walks(plan, "ix_mailbox_push_due_id", big={"mailbox"})


async def test_a_batch_is_counted_from_its_own_records(loaded: AsyncEngine) -> None:
    async with loaded.connect() as conn:
        batch = (
            await conn.execute(text("SELECT id FROM messages WHERE message_id = 'BATCH-7'"))
        ).scalar_one()
    assert isinstance(batch, uuid.UUID)

    async def counts(session: AsyncSession) -> None:
        accepted, refused = await ActReportRepository(session).batch_counts(batch)
        assert accepted + refused == BATCH and refused > 0

    plan = await plan_of(loaded, counts)
    # Its own records only: found by parent, each receipt by its message; grouped, at most, by sorting
    # the batch's records (never the table's).
    assert_walks(plan, "ix_messages_parent_id", big={"messages", "receipts"}, sorts_at_most=2 * BATCH)
    assert "uq_receipts_message_pk" in {n.get("Index Name") for n in nodes(plan)}


async def plans_of(
    engine: AsyncEngine, query: Callable[[AsyncSession], Awaitable[Any]]
) -> list[dict[str, Any]]:
    """The plans PostgreSQL chooses for the statements ``query`` sends, with their parameters."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with session_factory(engine)() as session, session.begin():
            await query(session)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    plans = []
    async with engine.connect() as conn:
        for statement, parameters in sent:
            explained = await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
            plans.append(explained.scalar_one()[0]["Plan"])
    return plans


@pytest.mark.parametrize(
    ("kind", "index", "after"),
    [
        ("mandate_ack_overdue", "ix_mandates_issued_issued_at", "mandate_ack_overdue:2026-01-10:CJ7:M-1"),
        ("held_mandate", "ix_mandates_held_created_at", "held_mandate:2026-03-01:CJ150:M-9"),
        ("cost_request", "ix_approvals_pending_created_at", "cost_request:2026-05-01:CJ2:APR-M-5"),
    ],
)
async def test_a_worklist_page_walks_its_kind_from_the_cursor(
    loaded: AsyncEngine, kind: str, index: str, after: str
) -> None:
    """Two statements of the kind: the day of the page's last item, walking the kind's partial index
    from the cursor's day (no sort), then the page, sorting the rows of the days up to that one
    only; never the kind's ``WAITING`` rows."""

    async def page(session: AsyncSession) -> None:
        views, _ = await worklist.worklist(session, kinds=frozenset({kind}), after=after, limit=100)
        assert len(views) == 100

    boundary, rows, *_ = await plans_of(loaded, page)
    assert_walks(boundary, index, big={"mandates", "approvals", "cases"})
    assert_walks(rows, index, big={"mandates", "approvals"}, sorts_at_most=WAITING // 20)


async def test_the_pace_reads_the_acts_of_its_window_alone(loaded: AsyncEngine) -> None:
    """The worklist's pace: the acts of the last year through ``ix_act_reports_act_date``, never every
    act reported (sorting those of the window, as its medians need)."""
    since = utcnow().date() - timedelta(days=365)
    plan = await plan_of(loaded, lambda s: WorklistRepository(s).office_paces(since, None))
    assert_walks(plan, "ix_act_reports_act_date", big={"act_reports"}, sorts_at_most=2 * WINDOW_ACTS)


async def test_the_overdue_hold_notices_are_read_without_the_acknowledged_ones(loaded: AsyncEngine) -> None:
    """The worklist's overdue notices: those not acknowledged, through their partial index (sorted to
    keep each case's first), never the notices acknowledged since the first hold."""
    plan = await plan_of(
        loaded, lambda s: WorklistRepository(s).overdue_hold_notices(utcnow(), None, None, 100)
    )
    assert_walks(
        plan,
        "ix_hold_notices_unacknowledged_ack_due_by",
        big={"hold_notices"},
        sorts_at_most=2 * OPEN_NOTICES,
    )


async def test_the_staff_list_of_overdue_hold_notices_walks_those_not_acknowledged(
    loaded: AsyncEngine,
) -> None:
    """Staff's list of overdue notices, most overdue first: through the partial index (at most its
    notices sorted, each with its mandate by key), not a walk past every acknowledged notice of older
    deadline."""
    plan = await plan_of(
        loaded, lambda s: MandateRepository(s).hold_notices(unacknowledged_due_by=utcnow(), limit=100)
    )
    assert_walks(
        plan,
        "ix_hold_notices_unacknowledged_ack_due_by",
        big={"hold_notices", "mandates"},
        sorts_at_most=2 * OPEN_NOTICES,
    )


@pytest.mark.parametrize("after", [None, Resume(date(2025, 6, 1), "CJ150:W-9")])
async def test_the_stale_mandates_walk_their_index_and_never_read_the_acts(
    loaded: AsyncEngine, after: Resume | None
) -> None:
    """The worklist's stale mandates (first page, and after a cursor), offices of three cutoffs: the
    day of the page's last item, walking ``ix_mandates_working_quiet_since`` from the cursor's day
    (no sort, no join), then the page, sorting the rows up to that day only; ``act_reports``, with
    its history, never read (the last act is the mandate's own column)."""
    today = utcnow().date()
    cutoffs = {"CJ1": today - timedelta(days=90), "CJ2": today - timedelta(days=45)}

    async def page(session: AsyncSession) -> None:
        rows = await WorklistRepository(session).stale_mandates(
            None, cutoffs, today - timedelta(days=30), after, 100
        )
        assert len(rows) == 100

    boundary, rows = await plans_of(loaded, page)
    assert_walks(boundary, "ix_mandates_working_quiet_since", big={"mandates", "offices"})
    assert {n.get("Relation Name") for n in nodes(boundary)} <= {None, "mandates", "offices"}
    # The page's rows: a range of the index, bounded by the cursor's day (or none) and the last day.
    walked = [n for n in nodes(rows) if n.get("Index Name") == "ix_mandates_working_quiet_since"]
    assert walked and all(" <= " in n["Index Cond"] for n in walked), walked
    assert_walks(rows, "ix_mandates_working_quiet_since", big={"mandates"}, sorts_at_most=WAITING // 4)
    for plan in boundary, rows:
        assert "act_reports" not in {n.get("Relation Name") for n in nodes(plan)}, "the acts were read"


async def test_the_unremitted_money_is_aged_from_the_cases_holding_money_alone(loaded: AsyncEngine) -> None:
    """The worklist's unremitted money: the cases on which offices hold money through their partial
    index, each one's days of money collected by key, never the ledger's entries (every collection
    and remittance of the history) nor the kept figures of the cases remitted in full. (The cases'
    refs, which order the items, are joined as the planner likes: at this size, a hash of them all.)"""

    async def page(session: AsyncSession) -> None:
        held = await WorklistRepository(session).unremitted_cases(utcnow().date(), None, None, 100)
        assert len(held) == 100

    plan = await plan_of(loaded, page)
    read = {n.get("Relation Name") for n in nodes(plan)}
    assert not read & {"ledger_entries", "ledger_transactions"}, f"the ledger read: {read}"
    assert_walks(
        plan, "ix_money_held_holding", big={"money_held", "money_collected_days"}, sorts_at_most=HOLDING
    )
    assert "pk_money_collected_days" in {n.get("Index Name") for n in nodes(plan)}


@pytest.mark.parametrize("day", [1, 17], ids=["month", "mid_month"])
async def test_an_offices_statement_opens_from_its_months_never_its_history(
    loaded: AsyncEngine, day: int
) -> None:
    """An office's statement (its monthly report) opens with its balances before the period: the
    office's months before it as the database keeps them (``ledger_office_months``, by its key),
    then, for a period that does not start on a month's first day, the entries of that month
    before it; never a sum of every entry of the office's history."""
    start = (utcnow().date() - timedelta(days=400)).replace(day=day)

    async def statement(session: AsyncSession) -> None:
        office = (await session.execute(text("SELECT id FROM offices WHERE code = 'CJ7'"))).scalar_one()
        await LedgerRepository(session).statement(office, start, start + timedelta(days=31))

    opening, *rest = (await plans_of(loaded, statement))[1:]  # after the office's id
    assert {n.get("Relation Name") for n in nodes(opening)} - {None} == {"ledger_office_months"}
    assert_walks(opening, "pk_ledger_office_months", big={"ledger_office_months"})
    assert len(rest) == (1 if day == 1 else 2)  # the movements; before them, the month's entries
    for plan in rest:  # (sorting the groups, not the rows)
        big = {"ledger_entries", "ledger_transactions"}
        assert_walks(plan, "ix_ledger_transactions_office_date", big=big, sorts_at_most=100)
        used = {n.get("Index Name") for n in nodes(plan)}
        assert "ix_ledger_entries_office_id" not in used, "the office's every entry read"
