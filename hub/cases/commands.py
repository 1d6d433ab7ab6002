"""``hub cases ...`` commands, mounted by ``hub.cli``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Protocol

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.csv import count_rows
from hub.database import engine_from_settings, session_factory, unit_of_work
from hub.kit.errors import ErrorItem, HubError
from hub.settings import get_settings

cases_app = typer.Typer(help="Cases (dossiers).", no_args_is_help=True)


class Summary(Protocol):
    imported: int
    rejected: dict[int, list[ErrorItem]]


def import_file(
    path: Path, what: str, work: Callable[[AsyncSession, Callable[[], None]], Awaitable[Summary]]
) -> None:
    """Runs an import in one transaction with a progress bar, then prints the summary and every bad
    row with its line; exits 1 when a row was rejected (the good rows are imported)."""
    if not path.is_file():
        typer.secho(f"error: no file {path}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2)
    total = count_rows(path)

    async def run() -> Summary:
        engine = engine_from_settings(get_settings())
        columns = (TextColumn(f"importing {what}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        try:
            with Progress(*columns, transient=True) as progress:
                task = progress.add_task(what, total=total)
                async with unit_of_work(session_factory(engine)) as session:
                    return await work(session, lambda: progress.advance(task))
        finally:
            await engine.dispose()

    try:
        summary = asyncio.run(run())
    except HubError as exc:
        typer.secho(f"error: {exc.detail}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc
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
    """Import cases from a CSV file: good rows are imported, every bad row is listed."""
    from adapters.csv import read_rows
    from hub.cases import service

    import_file(file, "case(s)", lambda session, tick: service.import_rows(session, read_rows(file), tick))
