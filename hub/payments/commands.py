"""``hub finance payment-run ...`` commands, mounted by ``hub.cli``: the payment runs of
``/v1/payment-runs`` from the command line, checked the same way."""

from __future__ import annotations

import getpass
import uuid
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.commands import in_transaction, parse_day
from hub.kit.money import Money
from hub.payments import service
from hub.staff import service as staff

T = TypeVar("T")

payment_run_app = typer.Typer(
    help="Payment runs: a SEPA credit transfer file (pain.001.001.09) paying the approved invoices.",
    no_args_is_help=True,
)
By = Annotated[
    str | None, typer.Option("--by", help="The finance staff member doing it (default: cli:<OS user>)")
]


def _run_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a payment run id") from exc


async def _actor(session: AsyncSession, by: str | None) -> str:
    return f"cli:{getpass.getuser()}" if by is None else await staff.active_email(session, by)


def _print(detail: service.RunDetail) -> None:
    run = detail.run
    total = Money(run.total_cents, run.currency).display()
    typer.echo(
        f"payment run {run.id} ({run.message_id}): {run.transactions} transfer(s), {total}, "
        f"execution {run.execution_date.isoformat()}"
        + (f", paid on {run.paid_on.isoformat()} ({run.bank_reference})" if run.paid_on else "")
    )
    for invoice, code in detail.invoices:
        amount = Money(invoice.total_gross_cents, invoice.currency).display()
        typer.echo(f"  {code} {invoice.number}: {amount} ({invoice.state})")
    for skipped in run.skipped:
        typer.echo(
            f"  left out: {skipped['office_code']} {skipped['number']}: {skipped['reason']} "
            f"[{skipped['code']}]"
        )


@payment_run_app.command("create")
def create(
    execution_date: Annotated[
        str | None, typer.Option(help="The day the bank pays, YYYY-MM-DD (default: today)")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Also write the pain.001 file here")] = None,
    by: By = None,
) -> None:
    """Group every invoice approved for payment and in no run yet into one run and write its SEPA
    credit transfer file; invoices that cannot be paid by transfer are listed with their reason."""
    from hub.settings import get_settings

    on = parse_day(execution_date) if execution_date else None

    async def work(session: AsyncSession) -> service.RunDetail:
        return await service.create_run(
            session,
            debtor=service.agency_account(get_settings()),
            actor=await _actor(session, by),
            execution_date=on,
        )

    detail = in_transaction(work)
    _print(detail)
    if output is not None:
        output.write_bytes(detail.run.pain001)
        typer.echo(f"pain.001 written to {output}")


@payment_run_app.command("show")
def show(
    run_id: Annotated[str, typer.Argument(help="The payment run's id")],
    output: Annotated[Path | None, typer.Option(help="Write the run's pain.001 file here")] = None,
) -> None:
    """One payment run: its transfers, those left out, and its file if asked."""
    wanted = _run_id(run_id)

    async def work(session: AsyncSession) -> service.RunDetail:
        return await service.run_detail(session, wanted)

    detail = in_transaction(work, read_only=True)
    _print(detail)
    if output is not None:
        output.write_bytes(detail.run.pain001)
        typer.echo(f"pain.001 written to {output}")


@payment_run_app.command("paid")
def paid(
    run_id: Annotated[str, typer.Argument(help="The payment run's id")],
    paid_on: Annotated[str, typer.Option("--paid-on", help="The day the bank paid, YYYY-MM-DD")],
    bank_reference: Annotated[
        str, typer.Option("--bank-reference", help="The bank's reference of the batch, as on the statement")
    ],
    by: By = None,
) -> None:
    """Mark a whole run paid: each of its invoices still approved is marked paid on that day with that
    reference and posted to the ledger as fees paid."""
    wanted, on = _run_id(run_id), parse_day(paid_on)

    async def work(session: AsyncSession) -> service.RunDetail:
        return await service.mark_run_paid(
            session, wanted, paid_on=on, bank_reference=bank_reference, actor=await _actor(session, by)
        )

    _print(in_transaction(work))
