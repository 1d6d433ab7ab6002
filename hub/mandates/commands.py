"""``hub mandates ...`` commands, mounted by ``hub.cli``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cases.commands import import_file

# Rows per transaction: hub serve's writers wait at most one chunk for their turn.
CHUNK = 100
mandates_app = typer.Typer(help="Mandates to bailiff offices.", no_args_is_help=True)


@mandates_app.command("import")
def mandates_import(
    file: Annotated[
        Path, typer.Argument(help="CSV: case_ref, office_code, kind, acts[] (A;B), fee_budget_cents")
    ],
    actor: Annotated[str, typer.Option(help="Who issues them, for the mandates' log")] = "csv-import",
    chunk: Annotated[
        int, typer.Option(min=1, help="Rows per transaction (hub serve writes between two)")
    ] = CHUNK,
) -> None:
    """Create mandates from a CSV file: each is issued or held by the rules; every bad row is listed.
    A transaction per ``--chunk`` rows; running the file again creates nothing twice (README)."""
    from hub.mandates import service
    from hub.mandates.service import lifecycle
    from hub.settings import get_settings

    # Each row's checks use the learned rates read at most every HUB_LEARNED_RATES_SECONDS, as
    # hub serve's console import does (ADR 0016), not read again for every row.
    lifecycle.RATES.configure(get_settings().learned_rates_seconds)
    summary = service.ImportSummary()
    import_file(
        file,
        "mandate(s)",
        lambda session, rows, tick: service.import_rows(
            session, rows, actor=actor, on_row=tick, summary=summary
        ),
        chunk=chunk,
    )


@mandates_app.command("expire")
def mandates_expire() -> None:
    """Expire issued or acknowledged mandates whose validity ended with no act reported; each office
    is told (mandate_cancel, cause expired). Safe to run again: what is expired stays expired."""
    import asyncio

    from hub.database import engine_from_settings, failure_message, session_factory
    from hub.mandates.sweeper import BATCH, expire_all
    from hub.settings import get_settings

    async def run() -> list[str]:
        engine = engine_from_settings(get_settings())
        try:
            return await expire_all(session_factory(engine))
        finally:
            await engine.dispose()

    try:
        expired = asyncio.run(run())
    except Exception as exc:  # the operator gets one line, never a traceback
        message = failure_message(exc, busy_timeout=get_settings().sqlite_busy_timeout)
        typer.secho(
            f"error: {message}; mandates expired before it stay expired (a transaction per "
            f"{BATCH}); run it again",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(code=1) from None
    for ref in expired:
        typer.echo(ref)
    typer.echo(f"{len(expired)} mandate(s) expired")
