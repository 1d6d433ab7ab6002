"""Time to refuse each document of the hostile XML corpus, with both parsers (target: under 100 ms
each). Runs only when named (``--only hostile-xml``): it reads the corpus of a checkout's tests."""

from __future__ import annotations

import resource
from pathlib import Path

from hub.bench import Bench, Row

CORPUS_DIR = Path(__file__).resolve().parents[2] / "tests" / "adapters" / "xml" / "hostile"


async def group(_bench: Bench) -> list[Row]:
    from adapters.xml.bench import bench_hostile_corpus

    if not CORPUS_DIR.is_dir():
        return [
            Row("hostile-xml", "hostile corpus", 0.0, "-", 0, 0.0, "none", note=f"not found at {CORPUS_DIR}")
        ]
    rows = bench_hostile_corpus(CORPUS_DIR)
    peak_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return [
        Row(
            "hostile-xml",
            f"refuse {row['name']} ({row['parser']})",
            round(1000 / max(float(str(row["ms"])), 1e-3), 1),
            "doc/s",
            1,
            round(float(str(row["ms"])) / 1000, 4),
            "none",
            latency_ms={
                "p50": float(str(row["ms"])),
                "p95": float(str(row["ms"])),
                "p99": float(str(row["ms"])),
            },
            peak_rss_mb=peak_mb,
            process="hub bench (in process)",
            note=str(row["code"]) if row["refused"] else "ACCEPTED: must be refused",
        )
        for row in rows
    ]
