"""Mandates from a CSV file: each row through the same use case as the API, in its own savepoint."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.csv import CsvRow
from hub.kit.errors import ErrorItem, HubError
from hub.kit.http import validation_errors
from hub.mandates.service.lifecycle import MandateIn, S, create_mandate


@dataclass
class ImportSummary:
    """What a mandates import did: created (issued or held), and every bad row with its errors."""

    imported: int = 0
    held: int = 0
    rejected: dict[int, list[ErrorItem]] = field(default_factory=dict)

    @property
    def details(self) -> str:
        return f"{self.held} held for review"


async def import_rows(
    session: AsyncSession, rows: Iterable[CsvRow], *, actor: str, on_row: Callable[[], None] = lambda: None
) -> ImportSummary:
    """Creates one mandate per row, each in a savepoint: a refused row leaves nothing behind and
    does not stop the others (each goes through the rules and the outbox, one by one)."""
    summary = ImportSummary()
    for row in rows:
        try:
            data = MandateIn.model_validate(row.data)
            async with session.begin_nested():
                mandate = await create_mandate(session, data, actor=actor)
        except ValidationError as exc:
            summary.rejected[row.line] = validation_errors(list(exc.errors()))
        except HubError as exc:
            summary.rejected[row.line] = exc.errors or [ErrorItem("row", exc.code, exc.detail)]
        else:
            summary.imported += 1
            summary.held += mandate.status == S.HELD.value
        on_row()
    return summary
