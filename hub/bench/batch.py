"""The streamed act report batch (``hub.acts.bench.measure_batch``, what ``hub reports import`` and
``POST /v1/act-reports/batch`` run) at each size of the run, each in a process of its own so its
peak RSS is the batch's: flat from the smallest size to the largest means memory stays flat in
file size."""

from __future__ import annotations

from typing import Any

from hub.bench import Bench, Row, in_child, measured


async def run_batch(url: str, count: int) -> dict[str, Any]:
    from hub.acts.bench import measure_batch
    from hub.database import create_engine, session_factory

    engine = create_engine(url)
    try:
        run = await measure_batch(session_factory(engine), count)
    finally:
        await engine.dispose()
    return {
        "count": count,
        "seconds": run.seconds,
        "note": f"{run.accepted:,} accepted, {run.refused:,} refused",
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
