"""``hub gdpr ...`` commands, mounted by ``hub.cli``: a debtor's data exported or erased by a named
staff member, and the retention sweep. Each is recorded in ``gdpr_events`` (who, when, which case)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from hub.gdpr import service
from hub.kit.commands import in_transaction
from hub.messaging.signing import ReceiptSigner
from hub.settings import get_settings
from hub.staff import service as staff

gdpr_app = typer.Typer(
    help="Debtors' personal data: export it, erase it, erase what is past retention.", no_args_is_help=True
)
By = Annotated[str, typer.Option("--by", help="The staff member doing it (an active staff email)")]


@gdpr_app.command("erase")
def erase(case: Annotated[str, typer.Argument(help="The case reference")], by: By) -> None:
    """Erases the personal data of the case's debtor: its messages become unreadable (their receipts
    still verify), its name, address and situation are blanked; amounts, ledger and refs stay."""

    async def work(session: AsyncSession) -> service.Erasure:
        return await service.erase(session, case, actor=await staff.active_email(session, by))

    done = in_transaction(work)
    typer.echo(
        f"case {done.case_ref} erased: {done.messages} message(s) sealed for good, {done.receipts} "
        f"receipt(s) kept, {sum(done.blanked.values())} row(s) of free text blanked"
    )


@gdpr_app.command("export")
def export(
    case: Annotated[str, typer.Argument(help="The case reference")],
    by: By,
    out: Annotated[Path, typer.Option("--out", help="The JSON file to write")] = Path("-"),
) -> None:
    """Writes everything the hub holds on the case's debtor as one JSON document (``--out``, or stdout)."""
    public_key = ReceiptSigner(get_settings().secret_key).public_key_b64()

    async def work(session: AsyncSession) -> dict[str, object]:
        return await service.export(
            session, case, actor=await staff.active_email(session, by), public_key_b64=public_key
        )

    text = json.dumps(in_transaction(work), indent=2, ensure_ascii=False)
    if str(out) == "-":
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"case {case} exported to {out}", err=True)


@gdpr_app.command("sweep")
def sweep() -> None:
    """Erases every case closed longer ago than HUB_GDPR_RETENTION_DAYS (the worker does it daily)."""
    from hub.database import engine_from_settings, session_factory
    from hub.gdpr.sweeper import sweep_all

    async def run() -> list[str]:
        engine = engine_from_settings(get_settings())
        try:
            return await sweep_all(session_factory(engine))
        finally:
            await engine.dispose()

    erased = asyncio.run(run())
    typer.echo(f"{len(erased)} case(s) erased past retention" + (f": {', '.join(erased)}" if erased else ""))


@gdpr_app.command("seal-legacy")
def seal_legacy() -> None:
    """Seals the messages stored before bodies were sealed per case (migration 0027): each is read,
    its case found, and its body sealed with the case's key, a transaction per 200 messages, while the
    hub runs. From then on an export finds them and an erasure makes them unreadable (those of a case
    erased already are made unreadable now). Messages of no single case stay as they are. Run again,
    it seals nothing more."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from hub.database import engine_from_settings, failure_message, session_factory, unit_of_work
    from hub.messaging import sealing

    settings = get_settings()
    sealing.use_secret_key(settings.secret_key, settings.previous_secrets())

    async def run() -> service.LegacySealing:
        engine = engine_from_settings(settings)
        sessions = session_factory(engine)
        total = service.LegacySealing()
        try:
            async with unit_of_work(session_factory(engine, read_only=True)) as session:
                count = await service.count_legacy(session)
            columns = (TextColumn("sealing legacy messages"), BarColumn(), MofNCompleteColumn())
            with Progress(*columns, transient=True) as progress:
                task = progress.add_task("messages", total=count)
                after = None
                while True:
                    async with unit_of_work(sessions) as session:
                        done, after = await service.seal_legacy(session, after=after)
                    total.add(done)
                    progress.advance(task, done.sealed + done.of_no_case + done.skipped)
                    if after is None:
                        return total
        finally:
            await engine.dispose()

    try:
        done = asyncio.run(run())
    except Exception as exc:  # the operator gets one line; the batches committed stay (run it again)
        message = failure_message(exc, busy_timeout=settings.sqlite_busy_timeout)
        typer.secho(
            f"error: {message}; the batches done are kept: run it again", fg=typer.colors.RED, err=True
        )
        raise typer.Exit(code=1) from None
    typer.echo(
        f"{done.sealed} message(s) sealed under their case, {done.of_no_case} of no single case left as "
        f"they are, {done.skipped} sealed meanwhile by another process"
    )
