"""Streams a CSV file as nested dictionaries, one per data row, with the row's line number.

A column ``debtor.address.city`` becomes ``{"debtor": {"address": {"city": ...}}}``; an empty cell
is ``None`` (unknown), never ``""`` or zero. A cell with ``;`` in a column ending in ``[]`` is a list.
Nothing here knows the hub: validating a row is the caller's job.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LIST_SUFFIX = "[]"


@dataclass(frozen=True)
class CsvRow:
    line: int
    """Line of the row in the file (the header is line 1)."""
    data: dict[str, Any]


def _cell(column: str, value: str | None) -> Any:
    text = (value or "").strip()
    if column.endswith(LIST_SUFFIX):
        return [part.strip() for part in text.split(";") if part.strip()]
    return text or None


def _nest(row: dict[str, str | None]) -> dict[str, Any] | None:
    nested: dict[str, Any] = {}
    for column, value in row.items():
        if column is None:
            continue
        *parents, leaf = column.strip().split(".")
        target = nested
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf.removesuffix(LIST_SUFFIX)] = _cell(leaf, value)
    return _collapse(nested)


def _collapse(group: dict[str, Any]) -> dict[str, Any] | None:
    """A group of columns all empty is itself unknown (``None``), e.g. a case without title."""
    for key, value in group.items():
        if isinstance(value, dict):
            group[key] = _collapse(value)
    return group if any(v not in (None, []) for v in group.values()) else None


def count_rows(path: Path) -> int:
    """Data rows in the file (for a progress bar), read once without parsing."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


def read_rows(path: Path, *, delimiter: str = ",") -> Iterator[CsvRow]:
    """The file's data rows, streamed; blank lines are skipped."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        for row in reader:
            if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
                continue
            yield CsvRow(line=reader.line_num, data=_nest(row) or {})
