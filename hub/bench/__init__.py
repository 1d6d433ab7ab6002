"""``hub bench``: the hub's paths measured side by side with the raw limits of the same libraries on
the same machine, in one run. Measured figures, never pass/fail: compare the ratios taken in one
run (DESIGN.md), not absolute figures across runs or machines.

A group is ``async def group(bench: Bench) -> list[Row]``; ``groups()`` is the table of them. A row
of the hub names the raw row it is compared with (``raw``, a key of ``hub.bench.raw.LIMITS``); the
raw limits a run needs are measured first and every ratio is computed against them at the end.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import text

from hub.database import create_engine, migrate

Size = Literal["tiny", "ci", "full"]
SIZES: tuple[Size, ...] = ("tiny", "ci", "full")


@dataclass(frozen=True)
class Scale:
    """How much each group does at one ``--size``."""

    clients: int  # concurrent HTTP clients (raw route and hub alike)
    requests: int  # HTTP requests per measurement, at most
    seconds: float  # and at most this long
    transactions: int  # single-row PostgreSQL transactions
    batch_sizes: tuple[int, ...]  # records per batch file
    messages: int  # outbox rows through the relay, messages published
    offices: int  # fan-out: offices receiving mandates
    mandates: int  # fan-out: rows of the CSV
    invoice_lines: int  # three-way match
    stored_acts: int  # growth: act reports loaded before measuring again
    stored_ledger: int  # growth: ledger entries loaded before measuring again


SCALES: dict[Size, Scale] = {
    "tiny": Scale(4, 40, 3, 100, (50, 150), 100, 5, 20, 1_000, 300, 600),
    "ci": Scale(32, 3_000, 20, 3_000, (2_000, 10_000), 5_000, 50, 1_000, 100_000, 100_000, 500_000),
    "full": Scale(
        32,
        50_000,
        60,
        20_000,
        (10_000, 100_000, 1_000_000),
        50_000,
        50,
        10_000,
        100_000,
        1_000_000,
        5_000_000,
    ),
}


@dataclass
class Row:
    """One measured path. ``throughput`` is per second in ``unit``; ``raw`` names the raw limit it is
    compared with; ``ratio`` (throughput / the raw limit's, same run) is filled in by ``run``."""

    group: str
    name: str
    throughput: float
    unit: str
    count: int
    seconds: float
    engine: str  # where it wrote: postgresql, sqlite, rabbitmq, or none
    latency_ms: dict[str, float] | None = None  # p50, p95, p99 where the path has a latency
    peak_rss_mb: float | None = None  # of the process that did the work
    process: str = ""  # which process peak_rss_mb is of
    raw: str | None = None  # the raw limit's key (``hub.bench.raw.LIMITS``)
    key: str | None = None  # a raw row's own key
    ratio: float | None = None
    # CPU milliseconds the working process spent per operation in the measured window: unlike a
    # throughput, barely moved by other jobs on the machine, so it compares runs on a busy machine.
    cpu_ms: float | None = None
    note: str = ""


@dataclass
class Bench:
    """What a group gets: the size and where to measure, with scratch helpers that clean up."""

    size: Size
    database_url: str | None  # PostgreSQL when given (a scratch database is made in it), else SQLite
    amqp_url: str | None  # RabbitMQ when given (a scratch virtual host is made), else no broker rows
    private_broker: bool = field(init=False, default=False)  # amqp_url is a node of this run's own
    scale: Scale = field(init=False)
    load_at_start: list[float] = field(init=False)  # the machine's load average when the run began

    def __post_init__(self) -> None:
        self.scale = SCALES[self.size]
        self.load_at_start = [round(x, 2) for x in os.getloadavg()]

    @property
    def engine(self) -> str:
        return "postgresql" if self.database_url else "sqlite"

    @asynccontextmanager
    async def database(self, *, migrated: bool = True) -> AsyncIterator[str]:
        """A new database of this run's own (dropped at the end), migrated unless ``migrated=False``."""
        if self.database_url:
            async with scratch_postgres(self.database_url) as url:
                if migrated:
                    await _migrate(url)
                yield url
            return
        with tempfile.TemporaryDirectory(prefix="hub-bench-") as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            if migrated:
                await _migrate(url)
            yield url

    @asynccontextmanager
    async def vhost(self) -> AsyncIterator[str | None]:
        """An AMQP URL on a virtual host of this run's own (deleted best effort), or None."""
        if not self.amqp_url:
            yield None
            return
        if self.private_broker:  # the node is ours alone, dropped with its queues at the end
            yield self.amqp_url
            return
        async with scratch_vhost(self.amqp_url) as url:
            yield url


PRIVATE = "private"  # --amqp-url private: a RabbitMQ node of the run's own (TESTING.md)
CHECKOUT = str(Path(__file__).resolve().parents[2])


@asynccontextmanager
async def private_broker(bench: Bench) -> AsyncIterator[None]:
    """With ``amqp_url == "private"``, starts a RabbitMQ node of this run's own on free ports for the
    run (``tests/rabbitmq_node.py``, so from a checkout) and stops it and deletes its files after."""
    if bench.amqp_url != PRIVATE:
        yield
        return
    import asyncio

    if CHECKOUT not in sys.path:
        sys.path.append(CHECKOUT)
    try:
        from tests.rabbitmq_node import RabbitNode
    except ImportError as exc:
        raise RuntimeError(f"--amqp-url private needs a checkout's tests/rabbitmq_node.py ({exc})") from None
    node = RabbitNode(Path(tempfile.mkdtemp(prefix="hub-bench-rabbit-")))
    try:
        await asyncio.to_thread(node.start)
        bench.amqp_url, bench.private_broker = node.url, True
        yield
    finally:
        await asyncio.to_thread(node.close)


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def scratch_postgres(server_url: str) -> AsyncIterator[str]:
    """``hub_bench_<random>`` on the server of ``server_url``, dropped with its connections at the end."""
    name = f"hub_bench_{secrets.token_hex(6)}"
    base = server_url.rsplit("/", 1)[0]
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield f"{base}/{name}"
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@asynccontextmanager
async def scratch_vhost(amqp_url: str) -> AsyncIterator[str]:
    """A virtual host ``hub_bench_<random>`` on the broker (TESTING.md: never queues on ``/``)."""
    from urllib.parse import quote, urlsplit, urlunsplit

    name = f"hub_bench_{secrets.token_hex(4)}"
    _rabbitmqctl("add_vhost", name)
    try:
        _rabbitmqctl("set_permissions", "-p", name, urlsplit(amqp_url).username or "guest", ".*", ".*", ".*")
        parts = urlsplit(amqp_url)
        url = urlunsplit((parts.scheme, parts.netloc, "/" + quote(name, safe=""), parts.query, ""))
        yield url
    finally:
        # Emptied first: RabbitMQ 3.10 can hang deleting a vhost that holds quorum queues (TESTING.md).
        try:
            queues = _rabbitmqctl("list_queues", "-p", name, "--no-table-headers", "name").split()
            await _delete_queues(url, queues)
            _rabbitmqctl("delete_vhost", name)
        except Exception as exc:  # best effort: the figures are measured by now
            print(f"warning: virtual host {name} left on the broker ({exc})", file=sys.stderr)


async def _delete_queues(url: str, queues: list[str]) -> None:
    import aio_pika

    connection = await aio_pika.connect(url, timeout=30)
    async with connection:
        channel = await connection.channel()
        for queue in queues:
            await channel.queue_delete(queue)


def _rabbitmqctl(*args: str) -> str:
    done = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {args[0]}: {done.stderr.strip()}")
    return done.stdout


def percentiles(latencies_s: Sequence[float]) -> dict[str, float] | None:
    """p50, p95, p99 in milliseconds (nearest rank), or None without samples."""
    if not latencies_s:
        return None
    ordered = sorted(latencies_s)

    def rank(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000, 2)

    return {"p50": rank(50), "p95": rank(95), "p99": rank(99)}


async def in_child(work: str, *args: Any) -> tuple[dict[str, Any], float]:
    """Runs ``work`` ("module:function", an async function of JSON arguments returning a JSON
    object) in a new Python process: its result and that process's peak RSS in MB, so a figure of
    memory is the work's own, not what earlier groups left in this process."""
    import asyncio

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.bench.child",
        work,
        json.dumps(args),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{work} failed in its process (exit {process.returncode})")
    answer = json.loads(out.decode().strip().splitlines()[-1])
    return answer["result"], float(answer["peak_rss_mb"])


@dataclass(frozen=True)
class Group:
    name: str
    run: Callable[[Bench], Awaitable[list[Row]]]
    raw: tuple[str, ...] = ()  # the raw limits its rows are compared with
    only_when_named: bool = False  # run only when named with --only (slow, or needs a rig)


def groups() -> dict[str, Group]:
    """Every group, in the order they run. A group added here with ``only_when_named=True`` runs
    only when ``--only`` names it (hostile-xml; the scale rig)."""
    from hub.bench import batch, en16931, fanout, growth, hostile_xml, http, matching, raw, relay, scale

    table = [
        Group("raw", raw.group),
        Group("http", http.group, raw=("http", "pg-transactions")),
        Group("batch", batch.group, raw=("batch",)),
        Group("relay", relay.group, raw=("relay", "relay-hub-rows", "amqp-publish", "amqp-publish-aiormq")),
        Group("fanout", fanout.group, raw=("pg-transactions",)),
        Group("matching", matching.group, raw=("matching",)),
        Group("en16931", en16931.group),
        Group("growth", growth.group, raw=("http", "batch", "relay", "amqp-publish-aiormq")),
        Group("hostile-xml", hostile_xml.group, only_when_named=True),
        Group("scale", scale.group, only_when_named=True),
    ]
    return {group.name: group for group in table}


def selected(only: Sequence[str] | None) -> list[Group]:
    table = groups()
    unknown = sorted(set(only or []) - set(table))
    if unknown:
        raise ValueError(f"unknown group(s) {unknown}; choose from {sorted(table)}")
    if only:
        return [g for g in table.values() if g.name in only]
    return [g for g in table.values() if not g.only_when_named]


async def run(bench: Bench, chosen: Sequence[Group], on_rows: Callable[[list[Row]], None]) -> list[Row]:
    """Runs the raw limits the chosen groups need first, then the groups; fills in every ratio."""
    from hub.bench import raw

    rows: list[Row] = []
    names = {g.name for g in chosen}
    needed = sorted({key for g in chosen for key in g.raw}) if "raw" not in names else list(raw.LIMITS)
    if needed:
        limits = await raw.measure(bench, needed)
        on_rows(limits)
        rows += limits
    for group in chosen:
        if group.name == "raw":
            continue
        measured = await group.run(bench)
        on_rows(measured)
        rows += measured
    limits_by_key = {r.key: r for r in rows if r.key is not None}
    for row in rows:
        limit = limits_by_key.get(row.raw) if row.raw else None
        if limit is not None and limit.throughput > 0:
            row.ratio = round(row.throughput / limit.throughput, 3)
    return rows


def machine(bench: Bench) -> dict[str, Any]:
    """Cores, RAM, how busy it was (load average at the start and the end) and the versions the
    figures depend on."""
    ram_kb = 0
    with Path("/proc/meminfo").open() as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                ram_kb = int(line.split()[1])
    versions = {"python": platform.python_version()}
    for package in (
        "hub",
        "fastapi",
        "uvicorn",
        "sqlalchemy",
        "asyncpg",
        "aiosqlite",
        "aio-pika",
        "lxml",
        "pydantic",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return {
        "cores": os.cpu_count(),
        "ram_mb": ram_kb // 1024,
        "platform": platform.platform(),
        "load_average": {"start": bench.load_at_start, "end": [round(x, 2) for x in os.getloadavg()]},
        "versions": versions,
    }


def report(bench: Bench, rows: Sequence[Row], started: float) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": bench.size,
        "database": bench.engine,
        "broker": ("rabbitmq, private node" if bench.private_broker else "rabbitmq")
        if bench.amqp_url
        else None,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(bench),
        "rows": [asdict(row) for row in rows],
    }


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def table_lines(rows: Sequence[Row]) -> list[str]:
    """The terminal table: one line a row."""
    lines = []
    for r in rows:
        latency = "/".join(_ms(v) for v in r.latency_ms.values()) if r.latency_ms else "-"
        rss = f"{r.peak_rss_mb:.0f}" if r.peak_rss_mb is not None else "-"
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        cpu = f"{r.cpu_ms:.3g}" if r.cpu_ms is not None else "-"
        lines.append(
            f"{r.group:<8} {r.name:<46} {r.throughput:>11,.1f} {r.unit:<6} {latency:>20} {rss:>6} "
            f"{cpu:>7} {ratio:>5} {r.engine:<10} {r.note}"
        )
    return lines


TABLE_HEADER = (
    f"{'group':<8} {'path':<46} {'throughput':>11} {'unit':<6} {'p50/p95/p99 ms':>20} {'RSS MB':>6} "
    f"{'CPU ms':>7} {'ratio':>5} {'engine':<10} note"
)


def measured(
    group: str,
    name: str,
    unit: str,
    result: dict[str, Any],
    *,
    engine: str,
    peak_rss_mb: float | None,
    process: str,
    raw: str | None = None,
    key: str | None = None,
    note: str = "",
) -> Row:
    """A row from a measurement's ``{"count", "seconds", "latencies"?, "cpu_seconds"?, "note"?}``;
    ``cpu_seconds``: CPU time of the process that did the work, over the timed part only."""
    count, seconds = int(result["count"]), float(result["seconds"])
    cpu = result.get("cpu_seconds")
    return Row(
        group=group,
        name=name,
        throughput=round(count / seconds, 1) if seconds > 0 else 0.0,
        unit=unit,
        count=count,
        seconds=round(seconds, 6),
        engine=engine,
        latency_ms=percentiles(result.get("latencies") or []),
        peak_rss_mb=peak_rss_mb,
        process=process,
        raw=raw,
        key=key,
        cpu_ms=round(1000 * float(cpu) / count, 3) if cpu is not None and count else None,
        note="; ".join(part for part in (note, result.get("note", "")) if part),
    )
