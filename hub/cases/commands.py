"""``hub cases ...`` commands, mounted by ``hub.cli``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from itertools import islice
from pathlib import Path
from typing import Annotated, Protocol

import typer
from pydantic import ValidationError
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
from hub.kit.errors import ErrorItem, HubError, InvalidInput
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


@cases_app.command("update")
def cases_update(
    ref: Annotated[str, typer.Argument(help="The case's ref")],
    kind: Annotated[
        str,
        typer.Option(
            help="payment_received, address_changed, dispute_opened, dispute_closed, payment_plan_agreed, "
            "payment_plan_broken, debtor_deceased, insolvency_declared, insolvency_ended, limitation_reached"
        ),
    ],
    reference: Annotated[str, typer.Option(help="Your own id of this update: a retry with it is refused")],
    on: Annotated[str, typer.Option("--on", help="When it happened, YYYY-MM-DD")],
    by: Annotated[str, typer.Option("--by", help="Email of the staff member recording it")],
    amount_cents: Annotated[int | None, typer.Option(help="payment_received: integer cents")] = None,
    currency: Annotated[str, typer.Option(help="payment_received: ISO 4217 code")] = "EUR",
    received_on: Annotated[
        str | None, typer.Option(help="payment_received: YYYY-MM-DD (default: --on)")
    ] = None,
    line1: Annotated[str | None, typer.Option(help="address_changed: number and street")] = None,
    postcode: Annotated[str | None, typer.Option(help="address_changed")] = None,
    city: Annotated[str | None, typer.Option(help="address_changed")] = None,
    departement: Annotated[str | None, typer.Option(help="address_changed, e.g. 75")] = None,
    insolvency_kind: Annotated[
        str | None,
        typer.Option(
            help="insolvency_declared: over_indebtedness, over_indebtedness_filed, collective_proceedings"
        ),
    ] = None,
    comment: Annotated[str | None, typer.Option(help="Anything the offices should know")] = None,
) -> None:
    """Record a case update as ``POST /v1/cases/{ref}/updates`` does: applied to the case, sent to every
    office holding a live mandate on it (``case_update``); a payment that clears the balance ends
    their mandates. Every error is listed and nothing is written on a refusal (exit 1)."""
    from hub.cases.updates import CaseUpdateIn
    from hub.database import engine_from_settings, session_factory, unit_of_work
    from hub.kit.http import validation_errors
    from hub.mandates import service
    from hub.staff import service as staff
    from hub.staff.models import Role
    from hub.staff.repository import StaffRepository

    body: dict[str, object] = {"kind": kind, "reference": reference, "effective_on": on, "comment": comment}
    if amount_cents is not None:
        body["payment"] = {
            "amount_cents": amount_cents,
            "currency": currency,
            "received_on": received_on or on,
        }
    if line1 is not None or postcode is not None or city is not None:
        body["address"] = {"line1": line1, "postcode": postcode, "city": city, "departement": departement}
    if insolvency_kind is not None:
        body["insolvency_kind"] = insolvency_kind
    try:
        data = CaseUpdateIn.model_validate({k: v for k, v in body.items() if v is not None})
    except ValidationError as exc:
        _print_errors("the update is refused", validation_errors(list(exc.errors())))
        raise typer.Exit(code=1) from None

    async def run() -> service.UpdateView:
        engine = engine_from_settings(get_settings())
        try:
            async with unit_of_work(session_factory(engine)) as session:
                user = await StaffRepository(session).by_email(by.strip().lower())
                if user is None or user.disabled_at is not None:
                    raise InvalidInput(f"no active staff member {by}", code="staff.unknown")
                staff.require_role(user, Role.STAFF)
                return await service.record_update(session, ref, data, actor=user.email)
        finally:
            await engine.dispose()

    try:
        view = asyncio.run(run())
    except HubError as exc:
        _print_errors(f"{exc.detail} [{exc.code}]", exc.errors)
        raise typer.Exit(code=1) from None
    update = view.update
    typer.echo(
        f"{update.update_id} {update.kind} on case {view.case_ref} by {update.recorded_by}: "
        f"balance {update.outstanding_cents} {update.currency}"
    )
    for notice in view.notices:
        due = f"{notice.notice.ack_due_by:%Y-%m-%d %H:%M} UTC"
        typer.echo(f"  sent to {notice.office_code} ({notice.notice.message_id}), acknowledge by {due}")
    for mandate_ref in view.ended_mandates:
        typer.echo(f"  mandate {mandate_ref} ended: balance cleared")


async def _as_staff(by: str, work: Callable[[AsyncSession, str], Awaitable[object]]) -> object:
    """Runs ``work`` in one transaction as the active staff member ``by`` (role staff)."""
    from hub.staff import service as staff
    from hub.staff.models import Role
    from hub.staff.repository import StaffRepository

    engine = engine_from_settings(get_settings())
    try:
        async with unit_of_work(session_factory(engine)) as session:
            user = await StaffRepository(session).by_email(by.strip().lower())
            if user is None or user.disabled_at is not None:
                raise InvalidInput(f"no active staff member {by}", code="staff.unknown")
            staff.require_role(user, Role.STAFF)
            return await work(session, user.email)
    finally:
        await engine.dispose()


def _print_hold(view: object, verb: str) -> None:
    from hub.mandates import service

    assert isinstance(view, service.HoldView)
    hold = view.hold
    typer.echo(f"{hold.hold_id} {hold.situation} on case {view.case_ref} {verb}")
    for notice in view.notices:
        if notice.notice.lift_message_id and hold.lifted_at is not None:
            typer.echo(f"  {notice.office_code} told ({notice.notice.lift_message_id})")
        else:
            due = f"{notice.notice.ack_due_by:%Y-%m-%d %H:%M} UTC"
            refs = ", ".join(notice.notice.mandate_refs)
            typer.echo(
                f"  sent to {notice.office_code} ({notice.notice.message_id}: {refs}), acknowledge by {due}"
            )


@cases_app.command("hold")
def cases_hold(
    ref: Annotated[str, typer.Argument(help="The case's ref")],
    situation: Annotated[
        str,
        typer.Option(
            help="vulnerable, payment_plan_active, disputed, insolvency_proceedings, limitation_reached"
        ),
    ],
    comment: Annotated[str, typer.Option(help="Why: what the offices are told")],
    by: Annotated[str, typer.Option("--by", help="Email of the staff member raising it")],
    hold_id: Annotated[
        str | None, typer.Option(help="The hold's id, so that running it again raises nothing twice")
    ] = None,
) -> None:
    """Raise a hold on a case as ``POST /v1/cases/{ref}/holds`` does: one ``hold_notice`` to each office
    working on it. Every error is listed and nothing is written on a refusal (exit 1)."""
    from hub.mandates import service

    async def work(session: AsyncSession, actor: str) -> object:
        return await service.raise_hold(
            session, ref, situation, actor=actor, comment=comment.strip(), hold_id=hold_id
        )

    try:
        view = asyncio.run(_as_staff(by, work))
    except HubError as exc:
        _print_errors(f"{exc.detail} [{exc.code}]", exc.errors)
        raise typer.Exit(code=1) from None
    _print_hold(view, "raised")


@cases_app.command("hold-lift")
def cases_hold_lift(
    hold_id: Annotated[str, typer.Argument(help="The hold's id (HLD-...)")],
    comment: Annotated[str, typer.Option(help="Why the hold is lifted: what the offices are told")],
    by: Annotated[str, typer.Option("--by", help="Email of the staff member lifting it")],
) -> None:
    """Lift a hold as ``POST /v1/holds/{id}/lift`` does: each office notified of it gets a ``hold_lift``.
    Lifting twice is refused (exit 1), and nothing is sent."""
    from hub.mandates import service

    if not comment.strip():
        _print_errors(
            "the lift is refused", [ErrorItem("comment", "value.missing", "say why the hold is lifted")]
        )
        raise typer.Exit(code=1)

    async def work(session: AsyncSession, actor: str) -> object:
        return await service.lift_hold(session, hold_id, actor=actor, comment=comment.strip())

    try:
        view = asyncio.run(_as_staff(by, work))
    except HubError as exc:
        _print_errors(f"{exc.detail} [{exc.code}]", exc.errors)
        raise typer.Exit(code=1) from None
    _print_hold(view, "lifted")


def _print_errors(headline: str, errors: list[ErrorItem]) -> None:
    typer.secho(f"error: {headline}", fg=typer.colors.RED, err=True)
    for item in errors:
        typer.secho(f"  {item.path}: {item.message} [{item.code}]", fg=typer.colors.RED, err=True)
