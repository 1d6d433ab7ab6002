"""``hub finance ...`` commands, mounted by ``hub.cli``."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.finance import export, reports
from hub.finance import journal as journals
from hub.kit.commands import parse_day, refusal
from hub.kit.errors import HubError
from hub.kit.money import Money
from hub.payments.commands import payment_run_app
from hub.remittances.ageing import OfficeUnremitted

finance_app = typer.Typer(
    help="Finance: reconciliation and scorecards, money not remitted, the accounting journal, payment runs.",
    no_args_is_help=True,
)

finance_app.add_typer(payment_run_app, name="payment-run")


async def _load_unremitted(office: str | None) -> tuple[list[OfficeUnremitted], int]:
    from hub.database import engine_from_settings, session_factory, unit_of_work
    from hub.finance import service
    from hub.settings import get_settings

    settings = get_settings()
    engine = engine_from_settings(settings)
    try:
        async with unit_of_work(session_factory(engine, read_only=True)) as session:
            deadline = settings.remittance_deadline_days
            return await service.unremitted(session, deadline_days=deadline, office_code=office), deadline
    finally:
        await engine.dispose()


async def _load(office: str, start: date, end: date) -> tuple[reports.Reconciliation, reports.Scorecard]:
    from hub.database import engine_from_settings, session_factory, unit_of_work
    from hub.finance import service
    from hub.settings import get_settings

    engine = engine_from_settings(get_settings())
    try:
        async with unit_of_work(session_factory(engine, read_only=True)) as session:
            rec = await service.reconciliation(session, office, start, end)
            deadline = get_settings().remittance_deadline_days
            (card,) = await service.scorecards(
                session, start, end, office_code=office, remittance_deadline_days=deadline
            )
            return rec, card
    finally:
        await engine.dispose()


def _eur(cents: int | None, currency: str) -> str:
    return "-" if cents is None else Money(cents, currency).display()


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


def render(rec: reports.Reconciliation, card: reports.Scorecard, console: Console) -> None:
    """The reconciliation and the scorecard as tables a person reads."""
    cur = rec.currency
    console.print(f"[bold]Office {rec.office_code}[/bold], {rec.start} to {rec.end} (excluded), {cur}")
    totals = Table(title="Reconciliation", show_header=True)
    totals.add_column("figure")
    totals.add_column("amount", justify="right")
    for name, cents in (
        ("fees reported (ledger)", rec.ledger.fees_cents),
        (f"tariff of the {rec.acts - rec.unpriced_acts} priced act(s)", rec.tariff_cents),
        ("reported minus tariff", rec.ledger.fees_cents - rec.tariff_cents),
        ("invoiced, approved (ledger)", rec.ledger.invoiced_cents),
        ("paid (ledger)", rec.ledger.paid_cents),
        (f"{rec.invoices_received} invoice(s) received", rec.invoices_received_cents),
        (f"{rec.disputed_lines} disputed line(s)", rec.disputed_cents),
    ):
        totals.add_row(name, _eur(cents, cur))
    console.print(totals)
    acts = Table(title="Per act type")
    for column in ("act", "acts", "unpriced", "reported", "tariff", "difference"):
        acts.add_column(column, justify="left" if column == "act" else "right")
    for line in rec.act_types:
        acts.add_row(
            line.act_code,
            str(line.acts),
            str(line.unpriced_acts),
            _eur(line.reported_cents, cur),
            _eur(line.tariff_cents, cur),
            _eur(line.reported_minus_tariff_cents, cur),
        )
    console.print(acts)
    if rec.disputes:
        disputes = Table(title="Disputed invoice lines")
        for column in ("finding", "lines", "amount"):
            disputes.add_column(column, justify="left" if column == "finding" else "right")
        for d in rec.disputes:
            disputes.add_row(d.code, str(d.lines), _eur(d.cents, cur))
        console.print(disputes)
    score = Table(title="Scorecard (net efficiency)")
    for column in ("act", "acts", "flagged", "collected", "fees", "net"):
        score.add_column(column, justify="left" if column == "act" else "right")
    for score_line in (*card.act_types, card.total):
        score.add_row(
            score_line.act_code,
            str(score_line.acts),
            str(score_line.flagged_acts),
            _eur(score_line.ledger.collected_cents, cur),
            _eur(score_line.ledger.fees_cents, cur),
            _eur(score_line.ledger.net_cents, cur),
        )
    console.print(score)
    console.print(
        f"cases {card.cases}: cost per case {_eur(card.cost_per_case_cents, cur)}, recovered per case "
        f"{_eur(card.recovered_per_case_cents, cur)}; mandates sent {card.mandates_sent}, refused "
        f"{card.mandates_refused} (rate {_or_dash(card.refusal_rate)}); days to first act: median "
        f"{_or_dash(card.first_act_median_days)}, mean {_or_dash(card.first_act_mean_days)} over "
        f"{card.first_act_mandates} mandate(s)"
    )
    if card.unremitted_cents:
        late = ", OVERDUE" if card.unremitted_overdue else ""
        console.print(
            f"collected, not remitted today: {_eur(card.unremitted_cents, cur)}, the oldest collected on "
            f"{card.unremitted_oldest_on}{late}"
        )


@finance_app.command("report")
def finance_report(
    office: Annotated[str, typer.Option(help="The office's code, e.g. CJ75001")],
    from_: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (included)")],
    to: Annotated[str, typer.Option("--to", help="Day after the period, YYYY-MM-DD (excluded)")],
    csv: Annotated[
        Path | None, typer.Option(help="Also write the reconciliation CSV (the API's columns) to this file")
    ] = None,
    scorecard_csv: Annotated[
        Path | None, typer.Option(help="Also write the scorecard CSV (the API's columns) to this file")
    ] = None,
) -> None:
    """Reconciliation and scorecard of one office over [from, to): a table, and a CSV if asked."""
    start, end = parse_day(from_), parse_day(to)
    try:
        rec, card = asyncio.run(_load(office, start, end))
    except HubError as exc:
        raise refusal(exc) from exc
    render(rec, card, Console(width=120))
    if csv is not None:
        text = export.to_csv(export.RECONCILIATION_COLUMNS, export.reconciliation_rows(rec))
        csv.write_text(text, encoding="utf-8", newline="")
        typer.echo(f"reconciliation CSV written to {csv}")
    if scorecard_csv is not None:
        text = export.to_csv(export.SCORECARD_COLUMNS, export.scorecard_rows([card]))
        scorecard_csv.write_text(text, encoding="utf-8", newline="")
        typer.echo(f"scorecard CSV written to {scorecard_csv}")


@finance_app.command("unremitted")
def finance_unremitted(
    office: Annotated[str | None, typer.Option(help="One office's code, e.g. CJ75001")] = None,
) -> None:
    """Money offices collected and have not remitted, per office and case: amount, the day of the
    oldest collection not remitted, its age and whether it is past HUB_REMITTANCE_DEADLINE_DAYS."""
    try:
        held, deadline = asyncio.run(_load_unremitted(office))
    except HubError as exc:
        raise refusal(exc) from exc
    console = Console(width=120)
    if not held:
        console.print("No office holds money collected and not remitted.")
        return
    table = Table(title=f"Collected, not remitted (deadline {deadline} days)")
    for column in ("office", "case", "amount", "oldest collection", "age (days)", "overdue"):
        table.add_column(column, justify="right" if column in ("amount", "age (days)") else "left")
    for o in held:
        table.add_row(
            o.office_code,
            "all",
            _eur(o.cents, o.currency),
            str(o.oldest_on),
            str(o.age_days),
            _yes(o.overdue),
        )
        for c in o.cases:
            table.add_row(
                "", c.case_ref, _eur(c.cents, c.currency), str(c.oldest_on), str(c.age_days), _yes(c.overdue)
            )
    console.print(table)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


async def _journal(start: date, end: date) -> list[journals.JournalLine]:
    from hub.database import engine_from_settings, session_factory, unit_of_work
    from hub.finance import service
    from hub.settings import get_settings

    engine = engine_from_settings(get_settings())
    try:
        async with unit_of_work(session_factory(engine, read_only=True)) as session:
            return await service.journal(session, start, end)
    finally:
        await engine.dispose()


@finance_app.command("journal")
def finance_journal(
    from_: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (included)")],
    to: Annotated[str, typer.Option("--to", help="Day after the period, YYYY-MM-DD (excluded)")],
    format_: Annotated[
        str, typer.Option("--format", help="csv (journal CSV, cents) or fec (French FEC, | separated)")
    ] = "csv",
    output: Annotated[Path | None, typer.Option(help="Write to this file (default: standard output)")] = None,
) -> None:
    """The ledger's transactions of [from, to) as balanced journal entries: a journal CSV or the FEC."""
    if format_ not in ("csv", "fec"):
        raise typer.BadParameter(f"{format_!r}: the format is csv or fec", param_hint="--format")
    start, end = parse_day(from_), parse_day(to)
    try:
        lines = asyncio.run(_journal(start, end))
    except HubError as exc:
        raise refusal(exc) from exc
    text = journals.to_fec(lines) if format_ == "fec" else journals.to_journal_csv(lines)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8", newline="")
    entries = len({(line.journal_code, line.entry_number) for line in lines})
    typer.echo(f"{entries} entries, {len(lines)} lines written to {output}", err=True)
