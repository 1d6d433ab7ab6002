"""What the command modules share: a day given on the command line, a refusal printed, and one
committed transaction per command."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, TypeVar

import typer

from hub.kit.errors import HubError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


def parse_day(text: str) -> date:
    """A ``YYYY-MM-DD`` option, or a usage error naming it."""
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date YYYY-MM-DD") from exc


def refusal(exc: HubError) -> typer.Exit:
    """Prints a typed hub error and every error item it lists, on stderr; the exit (1) to raise."""
    typer.secho(f"error: {exc.detail}", fg=typer.colors.RED, err=True)
    for item in exc.errors:
        typer.secho(f"  {item.path}: {item.message} [{item.code}]", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def in_transaction(work: Callable[[AsyncSession], Awaitable[T]], *, read_only: bool = False) -> T:
    """Runs ``work`` in one committed transaction; a typed hub error becomes a clear message.
    ``read_only``: work that only reads, which then takes no write lock (SQLite)."""
    # Imported here: the database is the command's, not the kit's (hub.tariff imports this module).
    from hub.database import engine_from_settings, session_factory, unit_of_work
    from hub.settings import get_settings

    async def run() -> T:
        engine = engine_from_settings(get_settings())
        try:
            async with unit_of_work(session_factory(engine, read_only=read_only)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except HubError as exc:
        raise refusal(exc) from exc


Cursor = TypeVar("Cursor")


def in_batches(
    label: str,
    count: Callable[[AsyncSession], Awaitable[int]],
    step: Callable[[AsyncSession, Cursor | None], Awaitable[tuple[int, Cursor | None]]],
) -> None:
    """Walks a table in batches, one committed transaction each, so that a running hub's writers get
    their turn (SQLite too), with a progress bar over ``count``'s total: ``step`` does the batch after
    a cursor (None: the first) and returns how many rows it walked and the next cursor (None: done).
    A failure prints one line saying the batches done are kept, and exits 1."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from hub.database import engine_from_settings, failure_message, session_factory, unit_of_work
    from hub.settings import get_settings

    settings = get_settings()

    async def run() -> None:
        engine = engine_from_settings(settings)
        try:
            async with unit_of_work(session_factory(engine, read_only=True)) as session:
                total = await count(session)
            sessions = session_factory(engine)
            with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), transient=True) as progress:
                task = progress.add_task(label, total=total)
                cursor: Cursor | None = None
                while True:
                    async with unit_of_work(sessions) as session:
                        walked, cursor = await step(session, cursor)
                    progress.advance(task, walked)
                    if cursor is None:
                        return
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except Exception as exc:  # the operator gets one line, never a traceback
        message = failure_message(exc, busy_timeout=settings.sqlite_busy_timeout)
        typer.secho(
            f"error: {message}; the batches done are kept: run it again", fg=typer.colors.RED, err=True
        )
        raise typer.Exit(code=1) from None
