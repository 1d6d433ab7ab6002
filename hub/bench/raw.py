"""The raw limits: what the same libraries do on this machine with no hub code, measured in the same
run as the hub's paths so each hub row has a ratio. Each runs in a process of its own (its peak RSS
is its own); the database is a scratch one of the run's engine.

- ``http``: a bare FastAPI route doing one INSERT, uvicorn in a subprocess, the load generator in
  another, at the run's client count (``hub.bench.rawserver``);
- ``pg-transactions``: single-row INSERT transactions at the same concurrency, straight on the driver;
- ``batch``: the batch file read with lxml iterparse + pydantic (the wire codec), and per record as
  many rows as the hub writes per accepted record (counted on a probe batch run by the hub first),
  two of them carrying the record, written with COPY per 500-record transaction;
- ``relay``: claim due rows with SKIP LOCKED, insert each into a mailbox table, mark them sent;
- ``relay-hub-rows`` (PostgreSQL, an extra row beside ``relay``, no hub row's ratio): the same
  claim writing the rows the hub's relay writes, into the hub's own tables (migrated: their indexes,
  foreign keys and fillfactor): the outbox row sent, the message's status, its mailbox item (its
  lifecycle step is the outbox row, ADR 0018); plain statements on the driver. What the schema
  costs, apart from the hub's code;
- ``amqp-publish``: aio-pika persistent publishes with pipelined confirms into a quorum queue (the
  raw limit issue 11 named);
- ``amqp-publish-aiormq``: the same on aiormq's channel, the library under aio-pika, which the hub's
  relay writes on (ADR 0024): its ``basic_publish`` a message, confirms pipelined a window at a time.
  The relay's RabbitMQ rows are compared with this one, the faster: since the relay writes a window
  as one, it outpaces aio-pika's loop, which is no longer a limit of what it does;
- ``matching``: the same invoice lines joined to their acts by dict look-ups and compared with the
  act's ceiling in plain Python.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

from hub.bench import Bench, Row, in_child, measured
from hub.bench.rawdb import RawDb, dsn
from hub.bench.serving import Server, free_port, load

CHUNK = 500  # records per transaction, as the hub's batch runner
RELAY_BATCH = 500  # rows claimed at a time, as the hub's relay


async def _http(bench: Bench) -> Row:
    from hub.bench.http import act_report_template, statuses

    scale = bench.scale
    async with bench.database(migrated=False) as url:
        port = free_port()
        with Server([sys.executable, "-m", "hub.bench.rawserver", url, str(port)], port) as server:
            cpu_before = server.cpu_seconds()
            answer = await load(
                url=f"{server.base_url}/act-reports",
                bodies=[act_report_template("RAW", "M-RAW-__M__")],
                headers=[{"Content-Type": "application/json"}],
                clients=scale.clients,
                requests=scale.requests,
                seconds=scale.seconds,
            )
            cpu = server.cpu_seconds() - cpu_before
            rss = server.peak_rss_mb()
    return measured(
        "raw",
        f"bare FastAPI route + one INSERT, {scale.clients} clients",
        "req/s",
        {
            "count": answer["sent"],
            "seconds": answer["seconds"],
            "latencies": answer["latencies"],
            "cpu_seconds": cpu,
        },
        engine=bench.engine,
        peak_rss_mb=rss,
        process="uvicorn server",
        key="http",
        note=statuses(answer),
    )


async def pg_transactions(url: str, clients: int, count: int) -> dict[str, Any]:
    db = await RawDb(url).open(clients)
    try:
        key = "INTEGER PRIMARY KEY" if db.sqlite else "BIGSERIAL PRIMARY KEY"
        await db.execute(f"CREATE TABLE raw_tx (id {key}, body TEXT NOT NULL)")
        latencies: list[float] = []
        left = count

        async def client() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                sent = time.perf_counter()
                await db.execute("INSERT INTO raw_tx (body) VALUES (?)", "x" * 200)
                latencies.append(time.perf_counter() - sent)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return {"count": count, "seconds": time.perf_counter() - started, "latencies": latencies}
    finally:
        await db.close()


async def _pg_transactions(bench: Bench) -> Row:
    scale = bench.scale
    async with bench.database(migrated=False) as url:
        result, rss = await in_child("hub.bench.raw:pg_transactions", url, scale.clients, scale.transactions)
    return measured(
        "raw",
        f"single-row transactions, {scale.clients} at once",
        "tx/s",
        result,
        engine=bench.engine,
        peak_rss_mb=rss,
        process="bench child",
        key="pg-transactions",
    )


async def rows_per_record(url: str, records: int = 50) -> float:
    """Rows the hub writes per accepted batch record, counted on a probe batch."""
    from hub.bench.batch import run_batch

    return float((await run_batch(url, records))["rows_per_record"])


async def raw_batch(url: str, records: int) -> dict[str, Any]:
    from adapters.xml import codec
    from hub.acts.bench import reports

    per_record = round(await rows_per_record(url))
    db = await RawDb(url).open(1)
    try:
        await db.execute(
            "CREATE TABLE raw_rows (record INTEGER NOT NULL, n INTEGER NOT NULL, body TEXT NOT NULL)"
        )
        with tempfile.TemporaryDirectory(prefix="hub-bench-") as folder:
            path = Path(folder) / "batch.xml"
            with path.open("wb") as sink:
                codec.write_batch(reports("RAW", ["M-RAW"], records), sink)
            started, cpu_started = time.perf_counter(), time.process_time()
            chunk: list[tuple[int, int, str]] = []
            index = 0
            with path.open("rb") as stream:
                for index, message in enumerate(codec.decode_batch_records(stream), start=1):
                    body = message.model_dump_json() if not isinstance(message, Exception) else "refused"
                    chunk += [(index, n, body if n < 2 else f"row {n} of {index}") for n in range(per_record)]
                    if index % CHUNK == 0:
                        await db.write("raw_rows", ("record", "n", "body"), chunk)
                        chunk = []
            if chunk:
                await db.write("raw_rows", ("record", "n", "body"), chunk)
            seconds = time.perf_counter() - started
        return {
            "count": index,
            "seconds": seconds,
            "cpu_seconds": time.process_time() - cpu_started,
            "note": f"{per_record} rows per record, as the hub writes",
        }
    finally:
        await db.close()


async def _batch(bench: Bench) -> Row:
    records = bench.scale.batch_sizes[0]
    async with bench.database() as url:
        result, rss = await in_child("hub.bench.raw:raw_batch", url, records)
    write = "COPY" if bench.database_url else "executemany"
    return measured(
        "raw",
        f"lxml iterparse + pydantic + {write}, {records:,} records",
        "rec/s",
        result,
        engine=bench.engine,
        peak_rss_mb=rss,
        process="bench child",
        key="batch",
    )


async def raw_relay(url: str, messages: int) -> dict[str, Any]:
    db = await RawDb(url).open(1)
    try:
        key = "INTEGER PRIMARY KEY" if db.sqlite else "BIGSERIAL PRIMARY KEY"
        columns = "recipient TEXT NOT NULL, status TEXT NOT NULL, body TEXT NOT NULL"
        await db.execute(f"CREATE TABLE raw_outbox (id {key}, {columns})")
        await db.execute(
            f"CREATE TABLE raw_mailbox (id {key}, recipient TEXT NOT NULL, outbox_id BIGINT NOT NULL)"
        )
        rows = [(f"OFFICE{n % 50}", "pending", "<mandate/>") for n in range(messages)]
        await db.write("raw_outbox", ("recipient", "status", "body"), rows)
        if not db.sqlite:
            await db.execute("CREATE INDEX raw_outbox_pending ON raw_outbox (id) WHERE status = 'pending'")
            await db.execute("ANALYZE raw_outbox")
        started, cpu_started = time.perf_counter(), time.process_time()
        sent = 0
        while moved := await db.relay_once(RELAY_BATCH):
            sent += moved
        return {
            "count": sent,
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu_started,
        }
    finally:
        await db.close()


async def _relay(bench: Bench) -> Row:
    async with bench.database(migrated=False) as url:
        result, rss = await in_child("hub.bench.raw:raw_relay", url, bench.scale.messages)
    return measured(
        "raw",
        "claim (SKIP LOCKED) + insert + mark sent",
        "msg/s",
        result,
        engine=bench.engine,
        peak_rss_mb=rss,
        process="bench child",
        key="relay",
    )


# The hub's rows for ``raw_relay_hub_rows``: outbound messages with their outbox row and their
# ``routed`` step, as ``hub.messaging.service.enqueue_outbound`` writes them.
_HUB_ROWS = [
    """INSERT INTO messages (id, direction, message_id, kind, version, sender, recipient, content_type,
        body, sha256, status, sealed, created_at)
    SELECT gen_random_uuid(), 'outbound', 'RAW-' || g, 'mandate', '1', 'AGENCY', 'OFFICE' || (g % 50),
        'application/xml', '<mandate/>'::bytea, repeat('0', 64), 'routed', false, clock_timestamp()
    FROM generate_series(1, $1::int) g""",
    """INSERT INTO outbox (message_pk, recipient, exchange, routing_key, status, attempts,
        next_attempt_at, created_at)
    SELECT id, recipient, 'hub.outbound', 'office.' || recipient, 'pending', 0, created_at, created_at
    FROM messages ORDER BY created_at""",
    """INSERT INTO message_events (message_pk, status, at, actor)
    SELECT id, 'routed', created_at, 'hub' FROM messages""",
]


async def raw_relay_hub_rows(url: str, messages: int) -> dict[str, Any]:
    """``raw_relay`` writing what the hub's relay writes per message, on the hub's tables."""
    conn = await asyncpg.connect(dsn(url))
    try:
        await conn.execute(_HUB_ROWS[0], messages)
        for statement in _HUB_ROWS[1:]:
            await conn.execute(statement)
        await conn.execute("ANALYZE")
        started, cpu_started = time.perf_counter(), time.process_time()
        sent = 0
        while True:
            async with conn.transaction():
                claimed = await conn.fetch(
                    "SELECT id, message_pk, recipient FROM outbox WHERE status = 'pending' "
                    "AND next_attempt_at <= now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                    RELAY_BATCH,
                )
                if not claimed:
                    break
                ids = [r["id"] for r in claimed]
                pks = [r["message_pk"] for r in claimed]
                await conn.execute(
                    "UPDATE outbox SET status = 'sent', sent_at = now(), last_error = NULL, "
                    "attempts = attempts + 1 WHERE id = ANY($1)",
                    ids,
                )
                await conn.execute("UPDATE messages SET status = 'delivered' WHERE id = ANY($1)", pks)
                await conn.execute(
                    "INSERT INTO mailbox (recipient, message_pk, push_state, push_attempts, created_at) "
                    "SELECT recipient, pk, 'none', 0, now() FROM unnest($1::text[], $2::uuid[]) "
                    "AS sent(recipient, pk)",
                    [r["recipient"] for r in claimed],
                    pks,
                )
            sent += len(claimed)
        return {
            "count": sent,
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu_started,
        }
    finally:
        await conn.close()


async def _relay_hub_rows(bench: Bench) -> Row | None:
    if bench.engine != "postgresql":
        return None
    async with bench.database() as url:
        result, rss = await in_child("hub.bench.raw:raw_relay_hub_rows", url, bench.scale.messages)
    return measured(
        "raw",
        "the same, writing the hub's rows in its tables",
        "msg/s",
        result,
        engine=bench.engine,
        peak_rss_mb=rss,
        process="bench child",
        key="relay-hub-rows",
    )


async def raw_publish(url: str, messages: int, window: int = 1000) -> dict[str, Any]:
    import aio_pika

    connection = await aio_pika.connect(url, timeout=30)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(
            f"bench.raw.{uuid.uuid4().hex[:8]}", durable=True, arguments={"x-queue-type": "quorum"}
        )
        body = b"x" * 512
        started = time.perf_counter()
        for first in range(0, messages, window):
            await asyncio.gather(
                *(
                    channel.default_exchange.publish(
                        aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), queue.name
                    )
                    for _ in range(first, min(first + window, messages))
                )
            )
        seconds = time.perf_counter() - started
        await queue.delete(if_unused=False, if_empty=False)
    return {"count": messages, "seconds": seconds}


async def raw_publish_aiormq(url: str, messages: int, window: int = 1000) -> dict[str, Any]:
    import aiormq
    from pamqp.commands import Basic

    connection = await aiormq.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        queue = f"bench.raw.{uuid.uuid4().hex[:8]}"
        await channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
        body, persistent = b"x" * 512, Basic.Properties(delivery_mode=2)
        started = time.perf_counter()
        for first in range(0, messages, window):
            await asyncio.gather(
                *(
                    channel.basic_publish(body, routing_key=queue, properties=persistent)
                    for _ in range(first, min(first + window, messages))
                )
            )
        seconds = time.perf_counter() - started
        await channel.queue_delete(queue)
    finally:
        await connection.close()
    return {"count": messages, "seconds": seconds}


async def _publishes(bench: Bench, publish: str, library: str, key: str) -> Row | None:
    """The raw limit ``key``: ``publish`` (a function of this module) run in a child process on a
    scratch virtual host; None without a broker."""
    async with bench.vhost() as url:
        if url is None:
            return None
        result, rss = await in_child(f"hub.bench.raw:{publish}", url, bench.scale.messages)
    return measured(
        "raw",
        f"{library} persistent publish, confirms pipelined",
        "msg/s",
        result,
        engine="rabbitmq",
        peak_rss_mb=rss,
        process="bench child",
        key=key,
    )


async def _amqp(bench: Bench) -> Row | None:
    return await _publishes(bench, "raw_publish", "aio-pika", "amqp-publish")


async def _amqp_aiormq(bench: Bench) -> Row | None:
    return await _publishes(bench, "raw_publish_aiormq", "aiormq", "amqp-publish-aiormq")


async def raw_matching(lines: int) -> dict[str, Any]:
    from hub.bench.matching import synthetic

    acts, rows = synthetic(lines)
    ceilings = {
        ref: (act.tariff.ceiling_cents if act.tariff else 0, act.tariff.vat_rate_bp if act.tariff else 0)
        for ref, act in acts.items()
    }
    started = time.perf_counter()
    billed: set[str] = set()
    matched = 0
    for line in rows:
        ceiling, vat = ceilings.get(line.office_act_reference or "", (0, 0))
        if line.office_act_reference not in billed and line.net_cents <= ceiling and line.vat_rate_bp == vat:
            matched += 1
        billed.add(line.office_act_reference or "")
    return {"count": lines, "seconds": time.perf_counter() - started, "note": f"{matched:,} matched"}


async def _matching(bench: Bench) -> Row:
    result, rss = await in_child("hub.bench.raw:raw_matching", bench.scale.invoice_lines)
    return measured(
        "raw",
        f"dict join + compare, {bench.scale.invoice_lines:,} lines",
        "line/s",
        result,
        engine="none",
        peak_rss_mb=rss,
        process="bench child",
        key="matching",
    )


LIMITS: dict[str, Callable[[Bench], Awaitable[Row | None]]] = {
    "http": _http,
    "pg-transactions": _pg_transactions,
    "batch": _batch,
    "relay": _relay,
    "relay-hub-rows": _relay_hub_rows,
    "amqp-publish": _amqp,
    "amqp-publish-aiormq": _amqp_aiormq,
    "matching": _matching,
}


async def measure(bench: Bench, keys: list[str]) -> list[Row]:
    """The raw limits named by ``keys``, in ``LIMITS`` order (AMQP only with a broker)."""
    rows = []
    for key, limit in LIMITS.items():
        if key in keys and (row := await limit(bench)) is not None:
            rows.append(row)
    return rows


async def group(bench: Bench) -> list[Row]:
    return await measure(bench, list(LIMITS))
