"""``hub worklist``: what needs a person today, as a table; ``hub worklist remind``: a reminder to
the office about one item, as ``POST /v1/reminders`` sends it."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.commands import in_transaction
from hub.kit.errors import InvalidInput

worklist_app = typer.Typer(
    help="What needs a person today across the offices, and reminders to them", invoke_without_command=True
)

COLUMNS = ("KIND", "OFFICE", "CASE", "MANDATE", "SINCE", "AGE", "LAST REMINDER", "EXPLANATION")


@worklist_app.callback()
def worklist(
    ctx: typer.Context,
    kind: Annotated[list[str] | None, typer.Option(help="Only this kind (repeatable)")] = None,
    office: Annotated[str | None, typer.Option(help="Only this office's items (its code)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Items to print")] = 200,
) -> None:
    """Print the worklist as ``GET /v1/worklist`` lists it: kind, office, case, mandate, since, age in
    days, the last reminder sent (with `ack` once acknowledged) and why, one line per item."""
    if ctx.invoked_subcommand is not None:
        return
    from hub.worklist import service

    unknown = sorted(set(kind or ()) - {k.value for k in service.Kind})
    if unknown:
        known = ", ".join(k.value for k in service.Kind)
        raise typer.BadParameter(f"unknown kind {', '.join(unknown)}: use {known}")

    async def work(session: AsyncSession) -> list[service.ItemView]:
        views, _ = await service.worklist(
            session, office_code=office, kinds=frozenset(kind) if kind else None, limit=limit
        )
        return views

    views = in_transaction(work, read_only=True)
    rows = [COLUMNS]
    for v in views:
        item, last = v.item, v.last_reminder
        reminded = "-"
        if last is not None:
            reminded = f"{last.sent_at:%Y-%m-%d} {'ack' if last.acknowledged_at else 'no ack'}"
        rows.append(
            (
                item.kind,
                item.office_code,
                item.case_ref or "-",
                item.mandate_ref or "-",
                item.since.isoformat(),
                str(v.age_days),
                reminded,
                item.explanation,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS) - 1)]
    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=False)]
        typer.echo("  ".join([*cells, row[-1]]).rstrip())
    if not views:
        typer.echo("nothing waits for a person today")


@worklist_app.command("remind")
def remind(
    office: Annotated[str, typer.Option(help="The office's code")],
    topic: Annotated[str, typer.Option(help="The item's kind: stale_mandate, mandate_ack_overdue, ...")],
    by: Annotated[str, typer.Option("--by", help="Email of the staff member sending it")],
    mandate: Annotated[
        str | None, typer.Option(help="The mandate ref (stale_mandate, mandate_ack_overdue)")
    ] = None,
    case: Annotated[
        str | None, typer.Option(help="The case ref (hold_notice_ack_overdue, unremitted)")
    ] = None,
    invoice: Annotated[str | None, typer.Option(help="The invoice number (invoice_disputed)")] = None,
    comment: Annotated[str | None, typer.Option(help="Your own words to the office")] = None,
    force: Annotated[bool, typer.Option(help="Send even if the item was reminded today")] = False,
) -> None:
    """Send the office a ``reminder`` about one worklist item, through the outbox. Refused (exit 1,
    nothing sent) when the item is not on today's worklist, or was reminded today without --force."""
    from hub.staff import service as staff
    from hub.staff.models import Role
    from hub.staff.repository import StaffRepository
    from hub.worklist import service

    data = service.ReminderIn(
        office_code=office,
        topic=topic,
        mandate_ref=mandate,
        case_ref=case,
        invoice_number=invoice,
        comment=comment.strip() if comment and comment.strip() else None,
        force=force,
    )

    async def work(session: AsyncSession) -> tuple[object, str]:
        user = await StaffRepository(session).by_email(by.strip().lower())
        if user is None or user.disabled_at is not None:
            raise InvalidInput(f"no active staff member {by}", code="staff.unknown")
        staff.require_role(user, Role.STAFF)
        return await service.send_reminder(session, data, actor=user.email)

    reminder, code = in_transaction(work)
    from hub.worklist.models import Reminder

    assert isinstance(reminder, Reminder)
    due = f"{reminder.ack_due_by:%Y-%m-%d %H:%M} UTC"
    what = f"{reminder.message_id} {reminder.topic} {reminder.subject}"
    typer.echo(f"{what} sent to {code}, acknowledge by {due}")
