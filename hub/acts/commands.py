"""``hub reports ...`` commands, mounted by ``hub.cli``."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from hub.acts import batch as batches
from hub.acts.batch import BatchResult
from hub.bootstrap import inbound_processor
from hub.database import (
    engine_from_settings,
    failure_message,
    refresh_statistics,
    session_factory,
    unit_of_work,
)
from hub.kit.errors import HubError, NotFound
from hub.kit.heap import settle_collector
from hub.mandates.service import lifecycle as mandates_lifecycle
from hub.messaging.signing import ReceiptSigner
from hub.offices.repository import OfficeRepository
from hub.settings import get_settings

reports_app = typer.Typer(help="Act reports from bailiff offices.", no_args_is_help=True)


async def import_batch(path: Path, office_code: str, *, show_progress: bool = True) -> BatchResult:
    """The same path as ``POST /v1/act-reports/batch``: the file streamed record by record."""
    settings = get_settings()
    # The chunks' checks learn from the reports before them as the server's batch route does: from
    # a snapshot of the learned rates read at most every HUB_LEARNED_RATES_SECONDS (ADR 0016).
    mandates_lifecycle.RATES.configure(settings.learned_rates_seconds)
    engine = engine_from_settings(settings)
    sessions = session_factory(engine)
    processor = inbound_processor(ReceiptSigner(settings.secret_key))
    try:
        async with unit_of_work(sessions) as session:
            office = await OfficeRepository(session).get_by_code(office_code)
            if office is None:
                raise NotFound(f"no office {office_code}", code="office.not_found")
            with path.open("rb") as stream:
                sha256 = batches.sha256_stream(stream)
            batch = await batches.start_batch(session, office, sha256)
        settle_collector()
        columns = (TextColumn("importing act reports"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
        with path.open("rb") as stream, Progress(*columns, transient=True, disable=not show_progress) as bar:
            task = bar.add_task("records", total=os.fstat(stream.fileno()).st_size)
            result = await batches.run_batch(
                sessions,
                processor,
                office,
                batch.id,
                stream,
                progress=lambda _records: bar.update(task, completed=stream.tell()),
                listed=None,
            )
        await refresh_statistics(engine)  # a bulk load: plan the next queries on what it wrote
        return result
    finally:
        await engine.dispose()


@reports_app.command("import")
def reports_import(
    file: Annotated[Path, typer.Argument(help="An actReportBatch XML file (schemas/xsd/v1)")],
    office: Annotated[str, typer.Option(help="The office that sent it, e.g. CJ75001")],
) -> None:
    """Import a batch file of act reports: every record on its own; every refused one is listed."""
    if not file.is_file():
        typer.secho(f"error: no file {file}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2)
    started = time.perf_counter()
    try:
        result = asyncio.run(import_batch(file, office))
    except HubError as exc:
        typer.secho(f"error: {exc.detail}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc
    except Exception as exc:  # the operator gets one line, never a traceback
        message = failure_message(exc, busy_timeout=get_settings().sqlite_busy_timeout)
        typer.secho(
            f"error: {message}; the records before it were kept (a transaction per {batches.CHUNK} "
            "records); run it again: those come back refused as message.duplicate, the rest is imported",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(code=1) from None
    for refused in result.refused:
        for item in refused["errors"]:
            typer.secho(
                f"record {refused['index']} ({refused['message_id']}): {item['path']}: "
                f"{item['message']} [{item['code']}]",
                fg=typer.colors.RED,
                err=True,
            )
    for item in result.file_errors:
        typer.secho(f"file: {item['message']} [{item['code']}]", fg=typer.colors.RED, err=True)
    elapsed = time.perf_counter() - started
    typer.echo(
        f"batch {result.batch_id}: {result.accepted_count} accepted, {result.refused_count} refused "
        f"in {elapsed:.1f} s"
    )
    if result.refused or result.file_errors:
        raise typer.Exit(code=1)
