"""Runs one batch import in this process and prints what it measured, as JSON: used by the scale
tests in a subprocess, so the peak memory (VmHWM) is that of the import alone.

    python -m tests.hub.acts.batch_run COUNT  (HUB_DATABASE_URL: a migrated database)
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import distinct as distinct_
from sqlalchemy import func, select

from hub.acts.commands import import_batch
from hub.acts.models import ActReport
from hub.database import engine_from_settings, session_factory, unit_of_work
from hub.settings import get_settings
from tests.hub.acts.factories import seed, write_batch_file


def peak_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return -1


async def main(count: int) -> dict[str, object]:
    engine = engine_from_settings(get_settings())
    async with unit_of_work(session_factory(engine)) as session:
        s = await seed(session)
    await engine.dispose()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "batch.xml"
        write_batch_file(path, s.office.code, s.mandate.ref, count, bad_every=100)
        started = time.perf_counter()
        result = await import_batch(path, s.office.code, show_progress=False)
        seconds = time.perf_counter() - started
        size = path.stat().st_size
        vmhwm = peak_rss_kib()  # the import's peak, before the checks below read the store
    engine = engine_from_settings(get_settings())
    async with unit_of_work(session_factory(engine)) as session:
        stored, distinct = (
            await session.execute(
                select(func.count(ActReport.id), func.count(distinct_(ActReport.office_reference))).where(
                    ActReport.office_id == s.office.id
                )
            )
        ).one()
    await engine.dispose()
    bad = {r["index"] for r in result.refused if r["errors"]}
    return {
        "count": count,
        "bytes": size,
        "accepted": result.accepted_count,
        "stored": stored,
        "refused": len(result.refused),
        "refused_with_errors": len(bad),
        "refused_indexes_ok": bad == set(range(100, count + 1, 100)),
        "distinct_stored": distinct,
        "seconds": round(seconds, 2),
        "vmhwm_kib": vmhwm,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(int(sys.argv[1])))))
