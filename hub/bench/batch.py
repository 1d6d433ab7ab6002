"""The streamed act report batch (``hub.acts.bench.measure_batch``, what ``hub reports import`` and
``POST /v1/act-reports/batch`` run) at each size of the run, each in a process of its own so its
peak RSS is the batch's: flat from the smallest size to the largest means memory stays flat in
file size."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.bench import Bench, Row, in_child, measured

# What the benchmark's own setup writes (an office, its creditor, cases and mandates), not a record.
SETUP_TABLES = frozenset({"offices", "creditors", "debtors", "cases", "mandates"})


async def _rows(engine: AsyncEngine) -> int:
    """Rows in every table a batch record may write to (counted before and after, untimed)."""
    import hub.models  # noqa: F401 - every table in the metadata
    from hub.kit.db import Base

    rows = 0
    async with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name not in SETUP_TABLES:
                rows += int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
    return rows


async def run_batch(url: str, count: int) -> dict[str, Any]:
    """``count`` records through the hub's batch import; how many rows it wrote per accepted record."""
    from hub.acts.bench import measure_batch
    from hub.database import create_engine, session_factory
    from hub.mandates.service import lifecycle
    from hub.settings import get_settings

    lifecycle.RATES.configure(get_settings().learned_rates_seconds)  # as ``hub reports import``
    engine = create_engine(url)
    try:
        before = await _rows(engine)
        run = await measure_batch(session_factory(engine), count)
        per_record = (await _rows(engine) - before) / max(run.accepted, 1)
    finally:
        await engine.dispose()
    note = f"{run.accepted:,} accepted, {run.refused:,} refused, {per_record:.1f} rows per accepted record"
    return {
        "count": count,
        "seconds": run.seconds,
        "cpu_seconds": run.cpu_seconds,
        "rows_per_record": per_record,
        "note": note,
    }


async def measure_batches(
    bench: Bench, url: str, group: str, sizes: tuple[int, ...], note: str = ""
) -> list[Row]:
    rows = []
    for count in sizes:
        result, rss = await in_child("hub.bench.batch:run_batch", url, count)
        rows.append(
            measured(
                group,
                f"streamed batch, {count:,} records",
                "rec/s",
                result,
                engine=bench.engine,
                peak_rss_mb=rss,
                process="bench child",
                raw="batch",
                note=note,
            )
        )
    return rows


async def group(bench: Bench) -> list[Row]:
    async with bench.database() as url:
        return await measure_batches(bench, url, "batch", bench.scale.batch_sizes)
