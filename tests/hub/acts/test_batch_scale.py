"""A large batch with 1 % bad records, each size imported in a subprocess of its own: every good
record stored once, every bad one listed with its errors, and peak memory (VmHWM) flat in file size.

Sizes from HUB_BATCH_SIZES (default "500,3000": the per-record path runs at tens of records per
second today, so 10k/100k are run by hand: HUB_BATCH_SIZES=10000,100000)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.hub.test_cli import hub, hub_env  # noqa: F401 - the CLI fixture

SIZES = [int(n) for n in os.environ.get("HUB_BATCH_SIZES", "500,3000").split(",")]


def run(env: dict[str, str], folder: Path, count: int) -> dict[str, Any]:
    env = {**env, "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{folder / f'batch{count}.db'}"}
    hub(env, "migrate")
    done = subprocess.run(
        [sys.executable, "-m", "tests.hub.acts.batch_run", str(count)],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(result)
    return result


def test_a_large_batch_stores_every_good_record_once_lists_every_bad_one_in_flat_memory(
    hub_env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    small, large = (run(hub_env, tmp_path, n) for n in (min(SIZES), max(SIZES)))
    for result in (small, large):
        count = result["count"]
        assert result["accepted"] == result["stored"] == result["distinct_stored"] == count - count // 100
        assert result["refused"] == result["refused_with_errors"] == count // 100
        assert result["refused_indexes_ok"]
    assert large["bytes"] > 4 * small["bytes"]
    # Flat: the larger file may not cost more than 25 % more peak memory than the small one.
    assert large["vmhwm_kib"] < small["vmhwm_kib"] * 1.25, (small, large)
