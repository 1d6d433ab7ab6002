"""Cost growth: the HTTP, batch and relay paths measured again on a database that already holds
many act reports (with their messages) and ledger entries, loaded by COPY on PostgreSQL (one
multi-row INSERT per chunk on SQLite) and analysed, as after a bulk load in production. The same
ratio as on the empty database means no per-message cost grows with the tables."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.bench import Bench, Row, in_child
from hub.bench.batch import measure_batches
from hub.bench.http import measure_http
from hub.bench.relay import measure_relay

LOAD_CHUNK = 10_000


async def _write(engine: AsyncEngine, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    async with engine.begin() as conn:
        if engine.dialect.name != "postgresql":
            await conn.execute(insert(table), list(rows))
            return
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        columns = list(rows[0])
        records = [
            tuple(json.dumps(v) if isinstance(v, dict | list) else v for v in (row[c] for c in columns))
            for row in rows
        ]
        await driver.copy_records_to_table(table.name, records=records, columns=columns)


async def _analyze(engine: AsyncEngine, table: Table) -> None:
    """Fresh statistics for ``table`` before rows pointing at it are loaded. PostgreSQL plans a
    foreign key's check once per connection and keeps the plan until the table's statistics
    change; with ``table`` analysed empty (``hub migrate`` ends with ANALYZE) and autovacuum off,
    each check scanned it whole: 13 billion rows read for 230,000 ledger entries, found here."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f"ANALYZE {table.name}"))


async def stock(url: str, acts: int, ledger: int) -> dict[str, Any]:
    """Loads ``acts`` act reports (copies of one the hub wrote, each with its message) and
    ``ledger`` ledger entries (two per transaction), then analyses the tables."""
    from hub.acts.bench import measure_batch
    from hub.acts.models import ActReport
    from hub.database import create_engine, session_factory
    from hub.ledger.models import LedgerEntry, LedgerTransaction
    from hub.ledger.postings import KINDS
    from hub.messaging.models import StoredMessage

    engine = create_engine(url)
    try:
        await measure_batch(session_factory(engine), 5, cases=5)
        acts_table, messages_table = ActReport.__table__, StoredMessage.__table__
        assert isinstance(acts_table, Table) and isinstance(messages_table, Table)
        async with engine.connect() as conn:
            act = dict((await conn.execute(select(acts_table).limit(1))).mappings().one())
            message = dict(
                (await conn.execute(select(messages_table).where(messages_table.c.id == act["message_pk"])))
                .mappings()
                .one()
            )
        started = time.perf_counter()
        for first in range(0, acts, LOAD_CHUNK):
            messages, reports = [], []
            for n in range(first, min(first + LOAD_CHUNK, acts)):
                pk = uuid.uuid4()
                messages.append({**message, "id": pk, "message_id": f"G-{n}-{message['message_id']}"[:100]})
                reports.append({**act, "id": uuid.uuid4(), "message_pk": pk, "office_reference": f"G/{n}"})
            await _write(engine, messages_table, messages)
            await _analyze(engine, messages_table)
            await _write(engine, acts_table, reports)
        transactions_table, entries_table = LedgerTransaction.__table__, LedgerEntry.__table__
        assert isinstance(transactions_table, Table) and isinstance(entries_table, Table)
        now = datetime.now(UTC)
        for first in range(0, ledger, LOAD_CHUNK):
            transactions, entries = [], []
            for n in range(first, min(first + LOAD_CHUNK, ledger), 2):
                pk = uuid.uuid4()
                transactions.append(
                    {
                        "id": pk,
                        "kind": KINDS[n // 2 % len(KINDS)],
                        "case_id": act["case_id"],
                        "office_id": act["office_id"],
                        "effective_on": date(2026, 1 + n // 2 % 12, 1),
                        "source": f"bench:{n}",
                        "recorded_at": now,
                    }
                )
                for account, cents in (("fees_emoluments", 5158), ("payable_to_office", -5158)):
                    entries.append(
                        {
                            "transaction_id": pk,
                            "account": account,
                            "case_id": act["case_id"],
                            "office_id": act["office_id"],
                            "amount_cents": cents,
                            "currency": "EUR",
                        }
                    )
            await _write(engine, transactions_table, transactions)
            await _analyze(engine, transactions_table)
            await _write(engine, entries_table, entries)
        seconds = time.perf_counter() - started
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    return {"count": acts + ledger, "seconds": seconds}


async def group(bench: Bench) -> list[Row]:
    scale = bench.scale
    async with bench.database() as url:
        loaded, _rss = await in_child("hub.bench.growth:stock", url, scale.stored_acts, scale.stored_ledger)
        stored = (
            f"{scale.stored_acts:,} act reports and {scale.stored_ledger:,} ledger entries stored "
            f"(loaded at {loaded['count'] / loaded['seconds']:,.0f} rows/s)"
        )
        rows = [
            await measure_http(
                bench, url, "growth", f"act report over HTTP, {scale.clients} clients, stored", stored
            )
        ]
        rows += await measure_batches(bench, url, "growth", scale.batch_sizes[:1], stored)
        rows += await measure_relay(bench, url, "growth", stored)
    for row in rows:
        row.name += ", stored" if not row.name.endswith("stored") else ""
    return rows
