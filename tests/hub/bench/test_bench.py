"""``hub bench`` as an operator runs it: its JSON has every group, each row's fields, and each
ratio computed against the raw row of the same run. Never its timings (they are read, not asserted).
On SQLite without a broker, so it needs neither server; one more run measures the relay with both."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hub.bench import groups, selected
from tests.conftest import PG_ADMIN_URL, reachable, require

HUB = [sys.executable, "-m", "hub"]
ROW_FIELDS = {
    "group",
    "name",
    "throughput",
    "unit",
    "count",
    "seconds",
    "engine",
    "latency_ms",
    "peak_rss_mb",
    "process",
    "raw",
    "key",
    "ratio",
    "cpu_ms",
    "note",
}
# Rows whose working process reports its CPU time per operation (the server for HTTP, the child
# process for the others): the figure that compares runs on a busy machine.
CPU_KEYS = {"http", "batch", "relay"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(out.parent)}
    done = subprocess.run(
        [*HUB, "bench", "--size", "tiny", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "ratios (throughput / raw limit, same run)" in done.stdout
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def test_the_report_says_when_and_where_it_was_measured(tiny: dict[str, Any]) -> None:
    assert tiny["size"] == "tiny" and tiny["database"] == "sqlite" and tiny["broker"] is None
    assert tiny["date"].startswith("20")
    machine = tiny["machine"]
    assert machine["cores"] >= 1 and machine["ram_mb"] > 0
    assert len(machine["load_average"]["start"]) == len(machine["load_average"]["end"]) == 3
    assert {"python", "fastapi", "uvicorn", "sqlalchemy", "lxml", "pydantic"} <= set(machine["versions"])


def test_every_group_run_by_default_has_rows_and_the_named_only_ones_none(tiny: dict[str, Any]) -> None:
    present = {row["group"] for row in tiny["rows"]}
    default = {name for name, group in groups().items() if not group.only_when_named}
    assert present == default
    assert "hostile-xml" not in present


def test_each_row_has_its_fields_and_measured_something(tiny: dict[str, Any]) -> None:
    for row in tiny["rows"]:
        assert set(row) == ROW_FIELDS, row["name"]
        assert row["count"] > 0 and row["seconds"] > 0 and row["throughput"] > 0, row
        assert row["peak_rss_mb"] > 0 and row["process"], row
        assert row["engine"] in {"sqlite", "none"}, row  # no PostgreSQL, no broker given
        if row["latency_ms"] is not None:
            latency = row["latency_ms"]
            assert set(latency) == {"p50", "p95", "p99"}
            assert latency["p50"] <= latency["p95"] <= latency["p99"]


def test_the_http_rows_have_latencies_and_only_accepted_answers(tiny: dict[str, Any]) -> None:
    http = [r for r in tiny["rows"] if r["raw"] == "http" or r["key"] == "http"]
    assert {r["group"] for r in http} == {"raw", "http", "growth"}
    for row in http:
        assert row["latency_ms"] is not None
        assert f"statuses {{'202': {row['count']}}}" in row["note"], row
        # The load generator's own CPU, to tell whether it, not the server, bounded the rate.
        client = re.search(r"load generator ([0-9.]+) CPU ms a request \((\d+)% of a core\)", row["note"])
        assert client is not None and float(client[1]) > 0 and int(client[2]) > 0, row


def test_the_rows_of_http_batch_and_relay_give_the_cpu_time_per_operation(tiny: dict[str, Any]) -> None:
    timed = [r for r in tiny["rows"] if (r["raw"] or r["key"]) in CPU_KEYS]
    assert {r["group"] for r in timed} == {"raw", "http", "batch", "relay", "growth"}
    for row in timed:
        # Per operation: the process's CPU over the timed part cannot exceed the wall time of it on
        # this machine's cores.
        assert row["cpu_ms"] is not None and row["cpu_ms"] >= 0, row
        if row["seconds"] >= 0.1:  # /proc counts CPU in ticks of 10 ms: a shorter part may read 0
            assert row["cpu_ms"] > 0, row
        assert row["cpu_ms"] <= 1000 * row["seconds"] * (os.cpu_count() or 1) / row["count"], row


def test_each_ratio_is_against_the_raw_row_of_the_same_run(tiny: dict[str, Any]) -> None:
    limits = {row["key"]: row for row in tiny["rows"] if row["group"] == "raw"}
    assert set(limits) == {"http", "pg-transactions", "batch", "relay", "matching"}  # no broker: no AMQP
    measured = [row for row in tiny["rows"] if row["group"] != "raw"]
    # Only the EN 16931 validation has no raw limit: it compares the official rules with the project's.
    alone = [row for row in measured if row["raw"] is None]
    assert {row["group"] for row in alone} <= {"en16931"} and all(row["ratio"] is None for row in alone)
    compared = [row for row in measured if row["raw"] is not None]
    assert compared and all(row["raw"] in limits for row in compared)
    for row in compared:
        assert row["ratio"] == round(row["throughput"] / limits[row["raw"]]["throughput"], 3), row


def test_the_batches_apply_their_files_and_the_fanout_every_row(tiny: dict[str, Any]) -> None:
    batches = [r for r in tiny["rows"] if r["group"] == "batch"]
    assert [r["count"] for r in batches] == [50, 150]
    assert all(f"{r['count'] - r['count'] // 100:,} accepted" in r["note"] for r in batches)
    assert all("rows per accepted record" in r["note"] for r in batches)
    (fanout,) = [r for r in tiny["rows"] if r["group"] == "fanout"]
    assert f"{fanout['count']:,} imported" in fanout["note"] and "0 rejected" in fanout["note"]
    growth = [r for r in tiny["rows"] if r["group"] == "growth"]
    assert all("300 act reports and 600 ledger entries stored" in r["note"] for r in growth)


def test_groups_named_only_run_alone_and_unknown_ones_are_refused() -> None:
    assert [g.name for g in selected(["hostile-xml"])] == ["hostile-xml"]
    assert "hostile-xml" not in [g.name for g in selected(None)]
    done = subprocess.run([*HUB, "bench", "--only", "nope"], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "unknown group(s) ['nope']" in done.stderr


@pytest.mark.postgres
@pytest.mark.rabbitmq
def test_the_relay_to_rabbitmq_is_compared_with_aiormqs_publish(amqp_url: str, tmp_path: Path) -> None:
    """With a broker, the relay group measures both AMQP raw limits, and its RabbitMQ row is compared
    with aiormq's (the library its publishes are written on, ADR 0024), aio-pika's loop beside it."""
    require("PostgreSQL", reachable(PG_ADMIN_URL, 5432))
    out = tmp_path / "bench.json"
    servers = ["--database-url", PG_ADMIN_URL, "--amqp-url", amqp_url]
    done = subprocess.run(
        [*HUB, "bench", "--size", "tiny", "--only", "relay", "--out", str(out), *servers],
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": "/usr/sbin:/usr/bin:/bin", "HOME": str(tmp_path)},  # rabbitmqctl: its vhost
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = json.loads(out.read_text())["rows"]
    limits = {row["key"]: row for row in rows if row["group"] == "raw"}
    assert set(limits) == {"relay", "relay-hub-rows", "amqp-publish", "amqp-publish-aiormq"}
    assert limits["amqp-publish"]["count"] == limits["amqp-publish-aiormq"]["count"] > 0
    assert limits["amqp-publish-aiormq"]["engine"] == "rabbitmq"
    relayed = {row["name"]: row for row in rows if row["group"] == "relay"}
    to_broker = relayed["relay to RabbitMQ (confirms)"]
    assert to_broker["raw"] == "amqp-publish-aiormq"
    aiormq = limits["amqp-publish-aiormq"]
    assert to_broker["ratio"] == round(to_broker["throughput"] / aiormq["throughput"], 3)
    assert relayed["relay to mailboxes"]["raw"] == "relay"
