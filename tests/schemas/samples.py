"""The hand-written samples of schemas/samples/v1, for the tests of schemas and codecs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from schemas.v1 import SAMPLES_DIR

VALID = SAMPLES_DIR / "valid"
INVALID = SAMPLES_DIR / "invalid"


def is_batch(path: Path) -> bool:
    return "batch" in path.stem


def valid(suffix: str, *, batches: bool = False) -> list[Path]:
    return sorted(p for p in VALID.glob(f"*{suffix}") if is_batch(p) == batches)


def invalid(suffix: str, *, batches: bool = False) -> list[Path]:
    return sorted(
        p
        for p in INVALID.glob(f"*{suffix}")
        if not p.name.endswith(".expected.json") and is_batch(p) == batches
    )


def expected(path: Path) -> dict[str, Any]:
    sidecar = path.with_name(path.stem + ".expected.json")
    loaded: dict[str, Any] = json.loads(sidecar.read_text(encoding="utf-8"))
    return loaded


def ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]
