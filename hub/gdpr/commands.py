"""``hub gdpr ...`` commands, mounted by ``hub.cli``: a debtor's data exported or erased by a named
staff member, and the retention sweep. Each is recorded in ``gdpr_events`` (who, when, which case)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from hub.gdpr import service
from hub.kit.commands import in_batches, in_transaction
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
    from hub.messaging import sealing

    settings = get_settings()
    sealing.use_secret_key(settings.secret_key, settings.previous_secrets())
    done = service.LegacySealing()

    async def step(
        session: AsyncSession, after: tuple[datetime, uuid.UUID] | None
    ) -> tuple[int, tuple[datetime, uuid.UUID] | None]:
        batch, after = await service.seal_legacy(session, after=after)
        done.add(batch)
        return batch.sealed + batch.of_no_case + batch.skipped, after

    in_batches("sealing legacy messages", service.count_legacy, step)
    typer.echo(
        f"{done.sealed} message(s) sealed under their case, {done.of_no_case} of no single case left as "
        f"they are, {done.skipped} sealed meanwhile by another process"
    )
