"""The scale rig at a tiny size: its rows, the counts it loaded, and the plans of the three queries
(each served by its index once the tables are analysed). Its timings are figures for docs/scale.md,
never asserted here."""

from __future__ import annotations

from typing import Any

import pytest

from hub.scale_rig import OFFICES, TABLES, Shape, _act_postings, bench_scale, percentile
from tests.conftest import PG_ADMIN_URL, reachable, require

LEDGER_ENTRIES = 20_001
MESSAGES = 7_000
SAMPLES = 30


@pytest.mark.parametrize("ledger_entries", range(2, 40))
def test_the_acts_post_exactly_the_entries_asked_for(ledger_entries: int) -> None:
    postings = list(_act_postings(ledger_entries))
    assert sum(fees + 2 * collected for fees, collected in postings) == ledger_entries
    assert all(fees in (0, 3, 4) and (fees or collected) for fees, collected in postings)


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile(values, 1.0)) == (50.0, 99.0, 100.0)
    assert percentile([7.0], 0.99) == 7.0


@pytest.fixture(scope="module")
async def rows() -> list[dict[str, Any]]:
    require("PostgreSQL", reachable(PG_ADMIN_URL, 5432))
    return await bench_scale(
        PG_ADMIN_URL,
        ledger_entries=LEDGER_ENTRIES,
        messages=MESSAGES,
        samples=SAMPLES,
        report_samples=3,
        explain=True,
    )


def _row(rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    [row] = [r for r in rows if r["name"] == name]
    return row


@pytest.mark.postgres
async def test_rows_have_the_bench_shape(rows: list[dict[str, Any]]) -> None:
    queries = ["scale.case_balance", "scale.message_lookup", "scale.monthly_report"]
    assert [r["name"] for r in rows] == ["load", *(f"size.{t}" for t in TABLES), *queries]
    for row in rows:
        assert {"name", "p50_ms", "p99_ms", "count", "note"} <= row.keys()
    for name in queries:
        row = _row(rows, name)
        assert 0 < row["p50_ms"] <= row["p99_ms"]
        assert row["count"] == (3 if name == "scale.monthly_report" else SAMPLES)
    assert _row(rows, "load")["seconds"] > 0


@pytest.mark.postgres
async def test_the_counts_loaded_are_those_asked_for(rows: list[dict[str, Any]]) -> None:
    shape = Shape.of(LEDGER_ENTRIES, MESSAGES)
    loaded = {r["name"].removeprefix("size."): r["count"] for r in rows if r["name"].startswith("size.")}
    assert loaded["ledger_entries"] == LEDGER_ENTRIES
    assert loaded["messages"] == MESSAGES
    assert loaded["offices"] == OFFICES
    assert (loaded["act_reports"], loaded["ledger_transactions"]) == (shape.acts, shape.transactions)
    assert (loaded["cases"], loaded["mandates"]) == (shape.cases, shape.mandates)
    assert _row(rows, "load")["count"] == sum(loaded.values())
    for table in TABLES:
        size = _row(rows, f"size.{table}")
        assert size["bytes"] > 0 and size["bytes_per_row"] == round(size["bytes"] / size["count"])


@pytest.mark.postgres
async def test_a_case_balance_is_read_from_its_index_alone(rows: list[dict[str, Any]]) -> None:
    [plan] = _row(rows, "scale.case_balance")["plans"]
    assert "Index Only Scan using ix_ledger_entries_case_balance" in plan


@pytest.mark.postgres
async def test_a_message_is_found_by_office_and_message_id(rows: list[dict[str, Any]]) -> None:
    [plan] = _row(rows, "scale.message_lookup")["plans"]
    assert "ix_messages_sender_message_id" in plan and "ix_messages_recipient_message_id" in plan
    assert "Seq Scan" not in plan


@pytest.mark.postgres
async def test_the_monthly_report_reads_the_office_month_by_index(rows: list[dict[str, Any]]) -> None:
    plans = "\n".join(_row(rows, "scale.monthly_report")["plans"])
    for index in (
        "ix_act_reports_office_date",
        "ix_mandates_office_issued",
        "ix_act_reports_mandate_id",
        "ix_ledger_transactions_office_date",
        "pk_act_reports",
    ):
        assert index in plans, index
    # Only the 60 offices are read whole; no table that grows with the work is.
    for table in ("act_reports", "mandates", "ledger_entries", "ledger_transactions"):
        assert f"Seq Scan on {table}" not in plans, table
