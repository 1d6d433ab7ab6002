"""The scale rig (``hub.scale_rig``) as a group: ledger entries and messages loaded by COPY into a
scratch PostgreSQL database, then a case's balance, a message by id and an office's monthly
scorecard timed through the hub's own functions. Runs only when named (``--only scale``): at full
size (10M ledger entries, 5M messages) the load alone takes about ten minutes. docs/scale.md holds
the plan and the figures."""

from __future__ import annotations

from hub.bench import Bench, Row
from hub.scale_rig import bench_scale

# (ledger entries, messages) per --size
VOLUMES = {"tiny": (2_000, 1_000), "ci": (200_000, 100_000), "full": (10_000_000, 5_000_000)}


async def group(bench: Bench) -> list[Row]:
    if not bench.database_url:
        raise ValueError("the scale group needs PostgreSQL: pass --database-url")
    ledger_entries, messages = VOLUMES[bench.size]
    measured = await bench_scale(bench.database_url, ledger_entries=ledger_entries, messages=messages)
    rows = []
    for found in measured:
        if found["p50_ms"] is None:  # the load and the table sizes: a note, not a rate
            continue
        rows.append(
            Row(
                group="scale",
                name=f"{found['name']} ({ledger_entries:,} ledger entries, {messages:,} messages)",
                throughput=round(1000 / found["p50_ms"], 1) if found["p50_ms"] else 0.0,
                unit="queries",
                count=found["count"],
                seconds=0.0,
                engine="postgresql",
                latency_ms={"p50": found["p50_ms"], "p99": found["p99_ms"]},
                note=found["note"],
            )
        )
    load = next(r for r in measured if r["name"] == "load")
    rows.append(
        Row(
            group="scale",
            name=f"scale.load ({load['count']:,} rows by COPY)",
            throughput=round(load["count"] / load["seconds"], 1) if load["seconds"] else 0.0,
            unit="rows",
            count=load["count"],
            seconds=load["seconds"],
            engine="postgresql",
            note=load["note"],
        )
    )
    return rows
