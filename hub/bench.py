"""``hub bench``: measured figures, never pass/fail. Each benchmark returns rows of
(name, figure, unit, note); compare ratios taken in one run, not absolute numbers across runs."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from hub.database import create_engine, migrate, session_factory, unit_of_work
from hub.messaging import service
from hub.messaging.relay import Relay
from hub.messaging.service import Envelope
from hub.offices import service as offices


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    note: str = ""


Bench = Callable[[str | None], Awaitable[list[Figure]]]


async def _scratch_database(database_url: str | None) -> tuple[str, tempfile.TemporaryDirectory[str] | None]:
    if database_url:
        return database_url, None
    folder = tempfile.TemporaryDirectory(prefix="hub-bench-")
    return f"sqlite+aiosqlite:///{Path(folder.name) / 'bench.db'}", folder


async def bench_relay(database_url: str | None, messages: int = 2000) -> list[Figure]:
    """Outbox rows written by services, then drained by one relay to the office mailbox."""
    url, folder = await _scratch_database(database_url)
    engine = create_engine(url)
    try:
        await migrate(engine)
        sessions = session_factory(engine)
        code = f"BENCH{int(time.time()) % 100000}"
        async with unit_of_work(sessions) as session:
            await offices.add_office(session, code=code, name="Bench office")
        started = time.perf_counter()
        async with unit_of_work(sessions) as session:
            for n in range(messages):
                envelope = Envelope(f"B-{code}-{n}", "mandate", "AGENCY", code)
                await service.enqueue_outbound(
                    session,
                    envelope,
                    b"<mandate/>",
                    "application/xml",
                    exchange="hub.outbound",
                    routing_key=code,
                )
        enqueued = time.perf_counter()
        relay = Relay(sessions)
        while await relay.run_once():
            pass
        drained = time.perf_counter()
    finally:
        await engine.dispose()
        if folder is not None:
            folder.cleanup()
    engine_name = url.split(":", 1)[0]
    return [
        Figure("outbox enqueue", messages / (enqueued - started), "msg/s", f"{messages} rows, {engine_name}"),
        Figure(
            "relay to mailbox", messages / (drained - enqueued), "msg/s", f"{messages} rows, {engine_name}"
        ),
    ]


BATCH_SIZES = (1_000, 4_000)


async def bench_batch(database_url: str | None) -> list[Figure]:
    """Act report batches of two sizes: the same rate at both means the import is linear."""
    from hub.acts.bench import measure_batch

    url, folder = await _scratch_database(database_url)
    engine = create_engine(url)
    figures: list[Figure] = []
    try:
        await migrate(engine)
        engine_name = url.split(":", 1)[0]
        for count in BATCH_SIZES:
            measured = await measure_batch(session_factory(engine), count)
            figures.append(
                Figure(
                    f"batch of {count:,} act reports",
                    count / measured.seconds,
                    "rec/s",
                    f"{measured.accepted:,} accepted, {measured.refused:,} refused, {engine_name}",
                )
            )
    finally:
        await engine.dispose()
        if folder is not None:
            folder.cleanup()
    return figures


CORPUS_DIR = Path(__file__).resolve().parent.parent / "tests" / "adapters" / "xml" / "hostile"


async def bench_hostile_xml(_database_url: str | None) -> list[Figure]:
    """Time to refuse each hostile document (target: under 100 ms each, both parsers)."""
    from adapters.xml.bench import bench_hostile_corpus

    if not CORPUS_DIR.is_dir():
        return [Figure("hostile corpus", 0, "-", f"not found at {CORPUS_DIR} (run from a checkout)")]
    rows = bench_hostile_corpus(CORPUS_DIR)
    return [
        Figure(
            f"refuse {row['name']} ({row['parser']})",
            float(str(row["ms"])),
            "ms",
            str(row["code"]) if row["refused"] else "ACCEPTED: must be refused",
        )
        for row in rows
    ]


async def bench_amqp_publish(_database_url: str | None) -> list[Figure]:
    """Raw persistent publish with confirms, pipelined vs one await per message."""
    from adapters.amqp.bench import measure_publish_rate
    from hub.settings import get_settings

    url = get_settings().amqp_url or "amqp://guest:guest@127.0.0.1:5672/"
    try:
        result = await measure_publish_rate(url)
    except (OSError, ConnectionError) as exc:
        return [Figure("amqp publish", 0, "-", f"broker unreachable at {url}: {exc}")]
    return [
        Figure("amqp publish, confirms pipelined", float(result["pipelined_msg_per_s"]), "msg/s"),
        Figure("amqp publish, one await per message", float(result["serial_msg_per_s"]), "msg/s"),
    ]


BENCHES: dict[str, Bench] = {
    "relay": bench_relay,
    "batch": bench_batch,
    "hostile-xml": bench_hostile_xml,
    "amqp": bench_amqp_publish,
}
