"""Mandates from a CSV file: each row through the same use case as the API, in its own savepoint.

Every row has a key, so running the same file again (after an interruption, or with its rejected
rows fixed) creates nothing twice: its ``ref`` column when given, else a ref derived from the row
(:func:`derived_ref`). A row whose mandate exists is counted as already imported, not created,
also when another run of the same file at the same time created it first."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.csv import CsvRow, read_rows
from hub.cases.repository import CaseRepository
from hub.kit.errors import ErrorItem, HubError
from hub.kit.http import validation_errors
from hub.mandates.repository import MandateRepository
from hub.mandates.service.lifecycle import MandateIn, S, create_mandate
from hub.offices.repository import OfficeRepository

# Rows per transaction of the console's import, as ``hub mandates import``'s default ``--chunk``: the
# other writers wait at most one chunk for their turn, and a failure loses at most the chunk it hit.
CHUNK = 100
REQUIRED = ("case_ref", "kind")


@dataclass
class ImportSummary:
    """What a mandates import did: created (issued or held), found already imported, and every bad
    row with its errors. Carried from one chunk of the file to the next."""

    imported: int = 0
    held: int = 0
    already: int = 0
    rejected: dict[int, list[ErrorItem]] = field(default_factory=dict)
    seen: Counter[str] = field(default_factory=Counter)  # rows of the file met so far, by content

    @property
    def details(self) -> str:
        already = f", {self.already} already imported" if self.already else ""
        return f"{self.held} held for review{already}"


def derived_ref(data: MandateIn, occurrence: int) -> str:
    """The ref of a row that gives none: from what it asks for and how many identical rows came
    before it in the file, so the same row of the same (or a fixed) file always gets the same ref."""
    content = json.dumps(data.model_dump(mode="json", exclude={"ref"}), sort_keys=True)
    digest = hashlib.sha256(f"{content}\n{occurrence}".encode()).hexdigest()
    return f"M-I{digest[:24].upper()}"


def checked_rows(path: Path) -> int:
    """The file's data rows (as ``read_rows`` yields them), once it is UTF-8 CSV whose header names
    the columns of a mandate; else ``ValueError`` saying what is wrong, before any row is imported.
    Read once without the database: a file of 50,000 rows takes well under a second."""
    columns = {name: f"{name}[]" if name == "acts" else name for name in MandateIn.model_fields}
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = [column.strip() for column in next(csv.reader(handle), [])]
        if not any(header):
            raise ValueError("the file is empty: its first line must name the columns")
        unknown = [c for c in header if c not in columns.values()]
        missing = [c for c in REQUIRED if c not in header]
        if unknown or missing:
            problems = [f"unknown column(s) {', '.join(map(repr, unknown))}" if unknown else ""]
            problems.append(f"missing column(s) {', '.join(missing)}" if missing else "")
            raise ValueError(
                f"the first line is not a mandates header ({'; '.join(p for p in problems if p)}); "
                f"columns: {', '.join(columns.values())}"
            )
        return sum(1 for _ in read_rows(path))
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"the file is not UTF-8 text (byte {exc.start}): export it from the spreadsheet as CSV UTF-8"
        ) from None
    except csv.Error as exc:
        raise ValueError(f"the file is not readable CSV: {exc}") from None


async def _imported_before(session: AsyncSession, data: MandateIn) -> bool:
    """The row's mandate exists, on the row's case: a row of an earlier run (or of a run of the same
    file at the same time). A ref taken by a mandate of another case is refused (``mandate.exists``)."""
    assert data.ref is not None
    existing = await MandateRepository(session).get_by_ref(data.ref)
    if existing is None:
        return False
    case = await CaseRepository(session).get_by_ref(data.case_ref)
    return case is not None and existing.case_id == case.id


async def import_rows(
    session: AsyncSession,
    rows: Iterable[CsvRow],
    *,
    actor: str,
    on_row: Callable[[], None] = lambda: None,
    summary: ImportSummary | None = None,
) -> ImportSummary:
    """Creates one mandate per row, each in a savepoint: a refused row leaves nothing behind and
    does not stop the others (each goes through the rules and the outbox, one by one). ``summary``:
    the previous chunks' summary, when the file is imported a chunk per transaction. The offices
    the rows name are read once, in one statement."""
    summary = summary if summary is not None else ImportSummary()
    rows = list(rows)
    codes = {c for row in rows if isinstance(c := row.data.get("office_code"), str)}
    found = await OfficeRepository(session).by_codes(codes)
    offices = {code: found.get(code) for code in codes}
    for row in rows:
        try:
            data = MandateIn.model_validate(row.data)
            if data.ref is None:
                content = json.dumps(data.model_dump(mode="json"), sort_keys=True)
                data = data.model_copy(update={"ref": derived_ref(data, summary.seen[content])})
                summary.seen[content] += 1
            async with session.begin_nested():
                mandate = await create_mandate(session, data, actor=actor, offices=offices)
        except ValidationError as exc:
            summary.rejected[row.line] = validation_errors(list(exc.errors()))
        except HubError as exc:
            if exc.code == "mandate.exists" and await _imported_before(session, data):
                # Its ref is checked once the debtor is locked (``create_mandate``): a row of an
                # earlier run, or of a run of the same file at the same time that created it while
                # this one waited for the lock: imported, not refused.
                summary.already += 1
            else:
                summary.rejected[row.line] = exc.errors or [ErrorItem("row", exc.code, exc.detail)]
        else:
            summary.imported += 1
            summary.held += mandate.status == S.HELD.value
        on_row()
    return summary
