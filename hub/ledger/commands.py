"""``hub ledger ...`` commands, mounted by ``hub.cli``: the postings of ``POST /v1/ledger/...`` from the
command line, checked the same way, recorded under the finance or admin staff member ``--by``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.commands import parse_day
from hub.kit.errors import HubError, InvalidInput
from hub.ledger import service
from hub.ledger.models import LedgerTransaction
from hub.staff import service as staff
from hub.staff.models import Role
from hub.staff.repository import StaffRepository

ledger_app = typer.Typer(
    help="Ledger postings by hand: remittances, write-offs, reversals.", no_args_is_help=True
)

By = Annotated[str, typer.Option("--by", help="Email of the finance or admin staff member recording it")]
On = Annotated[str, typer.Option("--on", help="Effective date, YYYY-MM-DD")]
Currency = Annotated[str, typer.Option(help="ISO 4217 code")]


def _cents(name: str, value: int, *, positive: bool) -> int:
    if value < 0 or (positive and value == 0):
        raise typer.BadParameter(f"{name} is integer cents above 0, got {value}")
    return value


async def _recorder(session: AsyncSession, email: str) -> str:
    """The staff member ``--by`` names: active, finance or admin (as the routes require)."""
    user = await StaffRepository(session).by_email(email.strip().lower())
    if user is None or user.disabled_at is not None:
        raise InvalidInput(f"no active staff member {email}", code="ledger.unknown_staff")
    staff.require_role(user, Role.FINANCE)
    return user.email


def _post(work: Callable[[AsyncSession], Awaitable[LedgerTransaction]]) -> None:
    """Runs ``work`` in one committed transaction and prints the transaction, or the refusal (exit 1)."""
    from hub.database import engine_from_settings, session_factory, unit_of_work
    from hub.settings import get_settings

    async def run() -> tuple[LedgerTransaction, list[tuple[str, int, str]]]:
        engine = engine_from_settings(get_settings())
        try:
            async with unit_of_work(session_factory(engine)) as session:
                transaction = await work(session)
                await session.flush()
                entries = await service.entries(session, transaction.id)
                return transaction, [(e.account, e.amount_cents, e.currency) for e in entries]
        finally:
            await engine.dispose()

    try:
        transaction, entries = asyncio.run(run())
    except HubError as exc:
        typer.secho(f"error: {exc.detail} [{exc.code}]", fg=typer.colors.RED, err=True)
        for item in exc.errors:
            typer.secho(f"  {item.path}: {item.message} [{item.code}]", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(
        f"{transaction.kind} {transaction.id} on {transaction.effective_on} by {transaction.recorded_by}"
    )
    for account, cents, currency in entries:
        typer.echo(f"  {account:<22} {cents:>16} {currency}")


@ledger_app.command("remit")
def remit(
    office: Annotated[str, typer.Option(help="The office's code")],
    case: Annotated[str, typer.Option(help="The case's ref")],
    cents: Annotated[int, typer.Option(help="Amount remitted, integer cents")],
    reference: Annotated[str, typer.Option(help="The office's transfer reference")],
    on: On,
    by: By,
    currency: Currency = "EUR",
) -> None:
    """Money the office collected on the case and handed over to the agency (reversement)."""
    amount, day = _cents("--cents", cents, positive=True), parse_day(on)

    async def work(session: AsyncSession) -> LedgerTransaction:
        return await service.remit(
            session,
            office_code=office,
            case_ref=case,
            amount_cents=amount,
            currency=currency,
            effective_on=day,
            reference=reference,
            recorded_by=await _recorder(session, by),
        )

    _post(work)


@ledger_app.command("write-off")
def write_off(
    office: Annotated[str, typer.Option(help="The office whose fees are written off")],
    case: Annotated[str, typer.Option(help="The case's ref")],
    reason: Annotated[str, typer.Option(help="Why the fees are given up")],
    on: On,
    by: By,
    emoluments: Annotated[int, typer.Option(help="Emoluments written off, integer cents")] = 0,
    disbursements: Annotated[int, typer.Option(help="Disbursements written off, integer cents")] = 0,
    vat: Annotated[int, typer.Option(help="VAT written off, integer cents")] = 0,
    currency: Currency = "EUR",
) -> None:
    """Fees the office claimed on the case, given up as unrecoverable from the debtor."""
    amounts = [
        _cents(f"--{n}", v, positive=False)
        for n, v in (("emoluments", emoluments), ("disbursements", disbursements), ("vat", vat))
    ]
    day = parse_day(on)

    async def work(session: AsyncSession) -> LedgerTransaction:
        return await service.write_off(
            session,
            office_code=office,
            case_ref=case,
            emoluments_cents=amounts[0],
            disbursements_cents=amounts[1],
            vat_cents=amounts[2],
            currency=currency,
            effective_on=day,
            reason=reason,
            recorded_by=await _recorder(session, by),
        )

    _post(work)


@ledger_app.command("reverse")
def reverse(
    transaction: Annotated[uuid.UUID, typer.Argument(help="The id of the transaction to cancel")],
    reason: Annotated[str, typer.Option(help="Why it is reversed")],
    on: On,
    by: By,
) -> None:
    """Cancels a wrong transaction with its reversal (every entry negated), once."""
    day = parse_day(on)

    async def work(session: AsyncSession) -> LedgerTransaction:
        return await service.reverse(
            session, transaction, reason=reason, effective_on=day, recorded_by=await _recorder(session, by)
        )

    _post(work)
