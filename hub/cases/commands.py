"""``hub cases ...`` commands, mounted by ``hub.cli``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from itertools import islice
from pathlib import Path
from typing import Annotated, Protocol

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.csv import CsvRow, count_rows, read_rows
from hub.database import (
    engine_from_settings,
    failure_message,
    refresh_statistics,
    session_factory,
    unit_of_work,
)
from hub.kit.errors import ErrorItem, HubError
from hub.settings import get_settings

cases_app = typer.Typer(help="Cases (dossiers).", no_args_is_help=True)


class Summary(Protocol):
    imported: int
    rejected: dict[int, list[ErrorItem]]


Work = Callable[[AsyncSession, Iterable[CsvRow], Callable[[], None]], Awaitable[Summary]]


def import_file(path: Path, what: str, work: Work, *, chunk: int | None = None) -> None:
    """Runs an import with a progress bar, then prints the summary and every bad row with its line;
    exits 1 when a row was rejected (the good rows are imported).

    The whole file is one transaction, or with ``chunk`` one transaction per ``chunk`` rows (so
    ``hub serve``'s writers get their turn between chunks; ``work`` must then skip the rows already
    imported, so that running the file again resumes it). Any failure prints one line, says what
    was kept, and exits 1."""
    if not path.is_file():
        typer.secho(f"error: no file {path}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2)
    total = count_rows(path)
    settings = get_settings()
    done = 0

    async def run() -> Summary:
        nonlocal done
        engine = engine_from_settings(settings)
        sessions = session_factory(engine)
        columns = (TextColumn(f"importing {what}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        rows = read_rows(path)
        try:
            with Progress(*columns, transient=True) as progress:
                task = progress.add_task(what, total=total)
                if not chunk:
                    async with unit_of_work(sessions) as session:
                        summary = await work(session, rows, lambda: progress.advance(task))
                else:
                    while True:
                        part = list(islice(rows, chunk))
                        async with unit_of_work(sessions) as session:
                            summary = await work(session, part, lambda: progress.advance(task))
                        if not part:
                            break
                        done += len(part)  # committed
            await refresh_statistics(engine)  # a bulk load: plan the next queries on what it wrote
            return summary
        finally:
            await engine.dispose()

    try:
        summary = asyncio.run(run())
    except HubError as exc:
        typer.secho(f"error: {exc.detail}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    except Exception as exc:  # the operator gets one line, never a traceback
        kept = (
            f"the first {done} row(s) were committed (a transaction per {chunk} rows); run it again: "
            "rows already imported are skipped"
            if done
            else "nothing was imported; run it again"
        )
        message = failure_message(exc, busy_timeout=settings.sqlite_busy_timeout)
        typer.secho(f"error: {message}; {kept}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    for line, errors in sorted(summary.rejected.items()):
        for item in errors:
            typer.secho(
                f"line {line}: {item.path}: {item.message} [{item.code}]", fg=typer.colors.RED, err=True
            )
    details = getattr(summary, "details", "")
    typer.echo(
        f"{summary.imported} {what} imported{f' ({details})' if details else ''}, "
        f"{len(summary.rejected)} row(s) rejected"
    )
    if summary.rejected:
        raise typer.Exit(code=1)


@cases_app.command("import")
def cases_import(
    file: Annotated[Path, typer.Argument(help="CSV with dotted columns: ref, debtor.name...")],
) -> None:
    """Import cases from a CSV file in one transaction: good rows are imported, every bad row is
    listed. A ref already taken is refused (``case.exists``), so running it again adds nothing."""
    from hub.cases import service

    import_file(file, "case(s)", service.import_rows)
