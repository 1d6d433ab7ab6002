"""The ``hub`` command line."""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession
from typer.core import TyperGroup
from typer.exceptions import TyperException

from hub.acts.commands import reports_app
from hub.backtest.commands import backtest
from hub.cases.commands import cases_app
from hub.database import (
    engine_from_settings,
    failure_message,
    is_busy,
    migrate,
    refresh_statistics,
    session_factory,
)
from hub.finance.commands import finance_app
from hub.gdpr.commands import gdpr_app
from hub.kit.commands import in_batches, in_transaction
from hub.kit.errors import HubError
from hub.ledger.commands import ledger_app
from hub.mandates.commands import mandates_app
from hub.messaging import service as messaging
from hub.messaging.signing import ReceiptSigner
from hub.offices import service as offices
from hub.offices.models import DeliveryChannel
from hub.settings import get_settings
from hub.staff import service as staff
from hub.staff.models import Role
from hub.tariff.commands import tariff_app
from hub.worklist.commands import worklist_app


class _Commands(TyperGroup):
    """Whatever a command fails with, the operator reads one line on stderr and the exit code is 1:
    no traceback, no SQL and no parameters (a database error's text carries both). Each command is
    one transaction (imports: see ``hub.cases.commands.import_file``), so nothing of it was kept."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):  # usage errors, exits: typer's own
            raise
        except HubError as exc:
            typer.secho(f"error: {exc.detail} [{exc.code}]", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=1) from None
        except Exception as exc:
            message = failure_message(exc, busy_timeout=get_settings().sqlite_busy_timeout)
            then = ", run it again" if is_busy(exc) else ""
            # What the command had committed before stands (imports say what); the rest rolled back.
            typer.secho(
                f"error: {message}; its transaction was rolled back{then}", fg=typer.colors.RED, err=True
            )
            raise typer.Exit(code=1) from None


app = typer.Typer(
    cls=_Commands,
    help="EDI hub between the collection agency and the bailiff offices.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _logs_to_stderr() -> None:
    """Logs go to stderr as JSON lines (hub.logging), before any command logs: stdout is the
    command's output alone (a key, a URL, a table)."""
    from hub.logging import configure_logging

    try:
        level = get_settings().log_level
    except Exception:  # invalid settings: the command itself says so, in its one line
        level = "INFO"
    configure_logging(level)


offices_app = typer.Typer(help="Bailiff offices.", no_args_is_help=True)
keys_app = typer.Typer(help="Office API keys.", no_args_is_help=True)
app.add_typer(offices_app, name="offices")
app.add_typer(keys_app, name="keys")
staff_app = typer.Typer(help="Agency staff accounts.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")
dead_app = typer.Typer(help="Messages in hub.dead (needs HUB_AMQP_URL).", no_args_is_help=True)
app.add_typer(dead_app, name="dead")
app.add_typer(cases_app, name="cases")
app.add_typer(mandates_app, name="mandates")
app.add_typer(reports_app, name="reports")
app.add_typer(finance_app, name="finance")
app.add_typer(ledger_app, name="ledger")
app.add_typer(tariff_app, name="tariff")
app.add_typer(worklist_app, name="worklist")
app.add_typer(gdpr_app, name="gdpr")
receipts_app = typer.Typer(help="The keys that sign the hub's receipts.", no_args_is_help=True)
app.add_typer(receipts_app, name="receipts")
secrets_app = typer.Typer(help="What HUB_SECRET_KEY seals, after a rotation.", no_args_is_help=True)
app.add_typer(secrets_app, name="secrets")
app.command("backtest")(backtest)

T = TypeVar("T")


class ServeRole(enum.StrEnum):
    ALL = "all"
    API = "api"
    RELAY = "relay"
    WORKER = "worker"


@app.command("migrate")
def migrate_command() -> None:
    """Apply the database migrations (Alembic) up to the latest revision."""

    async def run() -> None:
        engine = engine_from_settings(get_settings())
        try:
            await migrate(engine)
            await refresh_statistics(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    typer.echo("database is up to date")


@app.command()
def demo() -> None:
    """Load demo offices, creditors and cases (a second run adds nothing)."""
    from hub.demo import load_demo

    added = in_transaction(load_demo)
    typer.echo(
        f"demo data: {added.offices} office(s), {added.creditors} creditor(s), {added.cases} case(s) added"
    )
    typer.echo("create an API key for an office with: hub keys create CJ75001")
    if added.staff_password is not None:
        typer.echo(
            f"staff console: {_console_url('/')} - sign in as {added.staff_email} "
            f"with the password {added.staff_password} (demo only)"
        )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default HUB_HOST or 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default HUB_PORT or 8000)")] = None,
    role: Annotated[
        ServeRole | None,
        typer.Option(help="all (default: API + relay + consumers), api, relay or worker; HUB_ROLE"),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Processes (default HUB_WORKERS or 1; README)")
    ] = None,
) -> None:
    """Serve the hub: the HTTP API (health and metrics in every role) and the role's workers."""
    import uvicorn

    from hub.app import create_app

    settings = get_settings()
    if role is not None:
        settings = settings.model_copy(update={"role": role.value})
    host, port = host or settings.host, port or settings.port
    processes = workers or settings.workers
    mode = "embedded (no broker)" if settings.embedded_broker else "with RabbitMQ"
    typer.echo(
        f"hub ({settings.role}, {mode}, {processes} worker(s)) on http://{host}:{port} - API docs at "
        f"http://{host}:{port}/docs"
    )
    # uvloop's event loop and httptools' parser: the same code, less time per request in the loop.
    fast: dict[str, Any] = {"loop": "uvloop" if sys.platform != "win32" else "asyncio", "http": "httptools"}
    # SIGTERM: uvicorn stops listening, waits for the requests in flight (at most the grace), then
    # runs the app's shutdown, which stops the role's workers within the grace too (hub.runtime).
    fast["timeout_graceful_shutdown"] = settings.shutdown_grace_seconds
    _exit_zero_after_sigterm()
    if processes == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_config=None, **fast)
        return
    # Each worker process builds its own app from the environment: the role chosen here goes there.
    os.environ["HUB_ROLE"] = settings.role
    uvicorn.run(
        "hub.app:create_app", factory=True, workers=processes, host=host, port=port, log_config=None, **fast
    )


def _exit_zero_after_sigterm() -> None:
    """uvicorn handles SIGTERM itself (the graceful stop), then raises it again for the handler that
    was in place before it: the default one would end the process by the signal (status 143), which
    orchestrators and supervisors read as a crash. The stop was orderly: exit 0."""

    def orderly_exit(_signum: int, _frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, orderly_exit)


@receipts_app.command("keys")
def receipts_keys() -> None:
    """Every published receipt key, current first: id, algorithm, public key (base64). Before
    rotating HUB_SECRET_KEY, add the current public key to HUB_RECEIPT_PREVIOUS_PUBLIC_KEYS (newest
    first), so the receipts it signed still verify after the rotation."""
    from hub.messaging.signing import ReceiptKeys, ReceiptSigner

    settings = get_settings()
    keys = ReceiptKeys.of(ReceiptSigner(settings.secret_key), settings.previous_receipt_keys)
    for key in keys.keys:
        typer.echo(
            f"{key.key_id}  {key.algorithm}  {key.public_key_b64}  {'current' if key.current else 'previous'}"
        )


@secrets_app.command("rewrap")
def secrets_rewrap() -> None:
    """After HUB_SECRET_KEY was rotated (the old secret in HUB_PREVIOUS_SECRET_KEYS): wrap every
    case's data key and seal every webhook secret again with the new secret, in short transactions,
    while the hub runs. No message body and no office's secret changes. Then HUB_PREVIOUS_SECRET_KEYS
    can be emptied. Run again, it leaves what is current; exits 1, naming them, when some open with
    none of the secrets given."""
    from hub.messaging import sealing

    settings = get_settings()
    sealing.use_secret_key(settings.secret_key, settings.previous_secrets())
    keys = sealing.Rewrapped()
    webhooks = offices.Resealed()

    async def step(session: AsyncSession, after: uuid.UUID | None) -> tuple[int, uuid.UUID | None]:
        nonlocal webhooks
        done, after = await sealing.rewrap_case_keys(session, after=after)
        keys.add(done)
        if after is None:  # the last batch: the webhook secrets, a few per office, with it
            webhooks = await offices.reseal_webhook_secrets(session, settings.secret_box())
        return done.rewrapped + done.current + done.skipped + len(done.unusable), after

    in_batches("re-wrapping case keys", sealing.count_case_keys, step)
    typer.echo(
        f"case keys: {keys.rewrapped} re-wrapped, {keys.current} current already, {keys.skipped} erased "
        f"or changed meanwhile (left), {len(keys.unusable)} opening with none of the secrets"
    )
    typer.echo(
        f"webhook secrets: {webhooks.resealed} re-sealed, {webhooks.current} current already, "
        f"{len(webhooks.unusable)} office(s) whose secret opens with none of the secrets"
    )
    if keys.unusable:
        shown = ", ".join(str(case_id) for case_id in keys.unusable[:10])
        typer.secho(
            f"error: the data keys of {len(keys.unusable)} case(s) open with neither HUB_SECRET_KEY nor "
            f"HUB_PREVIOUS_SECRET_KEYS (cases {shown}{', ...' if len(keys.unusable) > 10 else ''}): give "
            "the secret that wrapped them in HUB_PREVIOUS_SECRET_KEYS and run it again",
            fg=typer.colors.RED,
            err=True,
        )
    if webhooks.unusable:
        typer.secho(
            f"error: the webhook secrets of {', '.join(webhooks.unusable)} open with none of the secrets: "
            "give each a new one (hub offices webhook CODE --url URL)",
            fg=typer.colors.RED,
            err=True,
        )
    if keys.unusable or webhooks.unusable:
        raise typer.Exit(code=1)
    typer.echo("everything is sealed with HUB_SECRET_KEY: HUB_PREVIOUS_SECRET_KEYS can be emptied", err=True)


@offices_app.command("add")
def offices_add(
    code: Annotated[str, typer.Argument(help="Stable office code, e.g. CJ75001")],
    name: Annotated[str, typer.Option(help="The office's name")],
    departements: Annotated[str, typer.Option(help="Départements covered, comma-separated: 75,92,93")] = "",
    channel: Annotated[
        DeliveryChannel, typer.Option(help="How messages reach the office")
    ] = DeliveryChannel.PULL,
    siret: Annotated[str | None, typer.Option(help="The office's SIRET (14 digits), for invoices")] = None,
    iban: Annotated[str | None, typer.Option(help="The IBAN the agency pays the office's fees to")] = None,
    bic: Annotated[str | None, typer.Option(help="The BIC of the office's bank (8 or 11 characters)")] = None,
) -> None:
    """Register a bailiff office (its details can be changed later with `hub offices update`)."""

    async def work(session: AsyncSession) -> str:
        office = await offices.add_office(
            session,
            code=code,
            name=name,
            departements=departements.split(",") if departements else [],
            delivery_channel=channel,
            siret=siret,
            iban=iban,
            bic=bic,
        )
        return office.code

    added = in_transaction(work)
    typer.echo(f"office {added} added")
    url = get_settings().amqp_url
    if url:
        from hub.broker import declare_office_queue_once

        try:
            asyncio.run(declare_office_queue_once(url, added))
        except Exception as exc:  # the office is committed: say so, in one line
            typer.secho(
                f"error: office {added} added, but its queue could not be declared on the broker "
                f"({failure_message(exc)}); `hub serve` declares it when it connects",
                fg=typer.colors.RED,
                err=True,
            )
            raise typer.Exit(code=1) from None
        typer.echo(f"queue office.{added} declared on the broker")


@offices_app.command("list")
def offices_list() -> None:
    """List the registered offices."""

    async def work(session: AsyncSession) -> list[str]:
        return [
            f"{o.code}\t{o.name}\t{','.join(o.departements) or '-'}\t{o.delivery_channel}"
            for o in await offices.list_offices(session)
        ]

    rows = in_transaction(work, read_only=True)
    typer.echo("code\tname\tdépartements\tchannel")
    for row in rows:
        typer.echo(row)


@offices_app.command("update")
def offices_update(
    code: Annotated[str, typer.Argument(help="The office's code")],
    name: Annotated[str | None, typer.Option(help="The office's name")] = None,
    departements: Annotated[
        str | None, typer.Option(help="Départements covered, comma-separated: 75,92,93 (replaces them)")
    ] = None,
    channel: Annotated[DeliveryChannel | None, typer.Option(help="How messages reach the office")] = None,
    siret: Annotated[str | None, typer.Option(help="The office's SIRET (14 digits), for invoices")] = None,
    iban: Annotated[str | None, typer.Option(help="The IBAN the agency pays the office's fees to")] = None,
    bic: Annotated[str | None, typer.Option(help="The BIC of the office's bank (8 or 11 characters)")] = None,
    webhook_url: Annotated[
        str | None, typer.Option(help="The https:// endpoint the hub POSTs messages to")
    ] = None,
    by: Annotated[
        str | None, typer.Option(help="The staff member making the change (default: cli:<OS user>)")
    ] = None,
) -> None:
    """Change an office's details; what changed, by whom and when is recorded. Options not given
    stay as they are. A new webhook signing secret, if one is made, is printed alone on the last line."""
    import getpass

    async def work(session: AsyncSession) -> offices.OfficeUpdate:
        actor = f"cli:{getpass.getuser()}"
        if by is not None:
            actor = await staff.active_email(session, by)
        changes = offices.OfficeChanges(
            name=name,
            departements=[d for d in departements.split(",") if d.strip()]
            if departements is not None
            else None,
            delivery_channel=channel,
            siret=siret,
            iban=iban,
            bic=bic,
            webhook_url=webhook_url,
        )
        return await offices.update_office(session, get_settings().secret_box(), code, changes, actor=actor)

    update = in_transaction(work)
    if not update.changed:
        typer.echo(f"office {code}: nothing changed")
        return
    typer.echo(f"office {code} updated: {', '.join(sorted(update.changed))}")
    if update.webhook_secret is not None:
        typer.echo("webhook signing secret, shown only now:", err=True)
        typer.echo(update.webhook_secret)


@offices_app.command("webhook")
def offices_webhook(
    code: Annotated[str, typer.Argument(help="The office's code")],
    url: Annotated[str, typer.Option(help="The https:// endpoint the hub POSTs messages to")],
) -> None:
    """Push the office's messages to a webhook. Prints the new signing secret alone on the last line."""

    async def work(session: AsyncSession) -> str:
        return await offices.set_webhook(session, get_settings().secret_box(), code, url)

    secret = in_transaction(work)
    typer.echo(f"office {code} now receives webhooks at {url}; signing secret, shown only now:", err=True)
    typer.echo(secret)


@offices_app.command("webhook-rotate")
def offices_webhook_rotate(
    code: Annotated[str, typer.Argument(help="The office's code")],
    finish: Annotated[
        bool, typer.Option(help="Drop the previous secret (the office uses the new one)")
    ] = False,
) -> None:
    """Rotate the webhook secret: pushes carry both signatures until --finish."""

    async def work(session: AsyncSession) -> str | None:
        if finish:
            await offices.finish_webhook_rotation(session, code)
            return None
        return await offices.rotate_webhook_secret(session, get_settings().secret_box(), code)

    secret = in_transaction(work)
    if secret is None:
        typer.echo(f"office {code}: previous webhook secret dropped")
    else:
        typer.echo(f"office {code}: pushes now carry two signatures; new secret, shown only now:", err=True)
        typer.echo(secret)


@offices_app.command("amqp-user")
def offices_amqp_user(
    code: Annotated[str, typer.Argument(help="The office's code (its channel must be amqp)")],
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Delete the broker user and close its connections")
    ] = False,
    by: Annotated[
        str | None, typer.Option(help="The staff member making the change (default: cli:<OS user>)")
    ] = None,
) -> None:
    """Create the office's own RabbitMQ user (run again: rotate its password), or revoke it. It may
    consume only office.<code> and publish only to hub.inbound, as itself. The AMQP URL to give the
    office is printed alone on the last line, once: the password is kept nowhere."""
    import getpass

    from hub.offices import broker_users

    async def work(session: AsyncSession) -> broker_users.AmqpCredentials | bool:
        actor = f"cli:{getpass.getuser()}"
        if by is not None:
            actor = await staff.active_email(session, by)
        if revoke:
            return await broker_users.revoke_amqp_user(session, get_settings(), code, actor=actor)
        return await broker_users.issue_amqp_user(session, get_settings(), code, actor=actor)

    done = in_transaction(work)
    if isinstance(done, bool):
        typer.echo(f"broker user {code} revoked" if done else f"office {code} had no broker user")
        return
    what = "password rotated, its open connections closed" if done.rotated else "created"
    typer.echo(f"broker user {done.username} {what}; the AMQP URL, shown only now:", err=True)
    typer.echo(done.url)


@keys_app.command("create")
def keys_create(code: Annotated[str, typer.Argument(help="The office's code")]) -> None:
    """Create an API key for an office. The key is printed once, alone on the last line."""

    async def work(session: AsyncSession) -> offices.IssuedKey:
        return await offices.create_key(session, code)

    issued = in_transaction(work)
    typer.echo(
        f"API key {issued.key_id} created for office {issued.office_code}; it is shown only now:", err=True
    )
    typer.echo(issued.secret)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (second part of the key)")]) -> None:
    """Revoke an API key: it is refused from now on."""

    async def work(session: AsyncSession) -> str:
        key = await offices.revoke_key(session, key_id)
        return key.key_id

    typer.echo(f"API key {in_transaction(work)} revoked")


def _console_url(path: str) -> str:
    settings = get_settings()
    scheme = "https" if settings.console_https else "http"
    return f"{scheme}://{settings.host}:{settings.port}/console{path}"


def _new_password(email: str) -> str:
    return str(typer.prompt(f"password for {email}", hide_input=True, confirmation_prompt=True))


@staff_app.command("add")
def staff_add(
    email: Annotated[str, typer.Argument(help="The person's email")],
    role: Annotated[Role, typer.Option(help="staff, finance or admin")],
    password: Annotated[
        bool, typer.Option("--password", help="Ask for a console password (otherwise: the sign-in link only)")
    ] = False,
) -> None:
    """Create a staff account. Prints a one-time console sign-in link (on stderr) and the API token,
    shown once, alone on the last line."""
    from datetime import timedelta

    from hub.console import service as console

    chosen = _new_password(email) if password else None

    async def work(session: AsyncSession) -> tuple[str, str]:
        user, token = await staff.add_staff(session, email, role)
        if chosen is not None:
            user.password_hash = console.hash_password(chosen)
        hours = get_settings().console_link_hours
        link = await console.create_sign_in_link(session, user, valid=timedelta(hours=hours))
        return token, link

    token, link = in_transaction(work)
    hours = get_settings().console_link_hours
    typer.echo(
        f"console sign-in link, once, within {hours} h: {_console_url('/sign-in/link/' + link)}", err=True
    )
    typer.echo(
        f"staff account {email.strip().lower()} ({role.value}) created; token, shown only now:", err=True
    )
    typer.echo(token)


@staff_app.command("set-password")
def staff_set_password(email: Annotated[str, typer.Argument(help="The person's email")]) -> None:
    """Set (or change) a staff member's console password, asked twice, never echoed."""
    from hub.console import service as console

    chosen = _new_password(email)

    async def work(session: AsyncSession) -> None:
        await console.set_password(session, email, chosen)

    in_transaction(work)
    typer.echo(f"console password of {email.strip().lower()} set")


@staff_app.command("disable")
def staff_disable(email: Annotated[str, typer.Argument(help="The person's email")]) -> None:
    """Disable a staff account: its token is refused from now on."""

    async def work(session: AsyncSession) -> None:
        await staff.disable_staff(session, email)

    in_transaction(work)
    typer.echo(f"staff account {email} disabled")


def _message_pk(value: str) -> uuid.UUID:
    """The hub's id of a stored message; anything else is a one-line error, not a usage box."""
    try:
        return uuid.UUID(value)
    except ValueError:
        typer.secho(
            f"error: {value!r} is not a message id (the hub's UUID of a stored message)",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(code=1) from None


@app.command()
def resend(
    message_pk: Annotated[str, typer.Argument(help="The hub's id of an outbound message")],
) -> None:
    """Send an outbound message again, with the same message id."""
    pk = _message_pk(message_pk)

    async def work(session: AsyncSession) -> int:
        entry = await messaging.resend(session, pk, actor="cli")
        return entry.id

    typer.echo(f"message {pk} queued again (outbox {in_transaction(work)})")


@app.command()
def bench(
    size: Annotated[
        str, typer.Option(help="tiny (seconds), ci (a few minutes) or full (the issue's volumes)")
    ] = "ci",
    only: Annotated[
        list[str] | None, typer.Option(help="Run only these groups (repeatable); see `hub.bench.groups`")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the figures as JSON to this file")] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            envvar="HUB_BENCH_DATABASE_URL",
            help="A PostgreSQL server to measure on (a scratch database is created and dropped); "
            "default: scratch SQLite files",
        ),
    ] = None,
    amqp_url: Annotated[
        str | None,
        typer.Option(
            envvar="HUB_BENCH_AMQP_URL",
            help="A RabbitMQ broker (a scratch virtual host is made by rabbitmqctl), or `private` for a node "
            "of the run's own (TESTING.md); default: no AMQP rows",
        ),
    ] = None,
) -> None:
    """Measure the hub's paths beside the raw limits of the same libraries, in one run, and print a
    table (no pass/fail: compare the ratios of one run)."""
    import json
    import time

    from hub import bench as benches

    if size not in benches.SIZES:
        raise typer.BadParameter(f"size {size!r}; choose from {list(benches.SIZES)}")
    try:
        chosen = benches.selected(only)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    run = benches.Bench(size=size, database_url=database_url, amqp_url=amqp_url)
    typer.echo(f"hub bench --size {size} on {run.engine}; groups: {', '.join(g.name for g in chosen)}")
    typer.echo(benches.TABLE_HEADER)

    def show(rows: list[benches.Row]) -> None:
        for line in benches.table_lines(rows):
            typer.echo(line)

    started = time.perf_counter()

    async def measure() -> list[benches.Row]:
        async with benches.private_broker(run):
            return await benches.run(run, chosen, show)

    rows = asyncio.run(measure())
    typer.echo("ratios (throughput / raw limit, same run):")
    for row in rows:
        if row.ratio is not None:
            typer.echo(f"  {row.group:<8} {row.name:<56} {row.ratio:.2f} of raw {row.raw}")
    if out is not None:
        out.write_text(json.dumps(benches.report(run, rows, started), indent=2) + "\n", encoding="utf-8")
        typer.echo(f"written to {out}")


@app.command()
def replay(
    message_pk: Annotated[str, typer.Argument(help="The hub's id of an inbound message")],
) -> None:
    """Run an inbound message through validation again (e.g. once its mandate exists). Its new
    signed receipt is sent to the office (``inbound.replay``); a message already applied keeps its
    first receipt."""
    from hub.bootstrap import inbound_processor
    from hub.messaging.inbound import replay

    pk = _message_pk(message_pk)

    async def work(session: AsyncSession) -> str:
        processor = inbound_processor(ReceiptSigner(get_settings().secret_key))
        outcome = await replay(session, processor, pk, actor="cli")
        receipt = outcome.receipt
        if outcome.duplicate:
            return f"already applied as message {receipt.message_pk} (its receipt stands); nothing done"
        if outcome.accepted:
            return "accepted"
        return "refused: " + "; ".join(f"{e['path']}: {e['message']} [{e['code']}]" for e in receipt.errors)

    typer.echo(f"message {pk}: {in_transaction(work)}")


def _amqp_url() -> str:
    url = get_settings().amqp_url
    if not url:
        typer.secho(
            "error: HUB_AMQP_URL is empty; the embedded hub has no dead-letter queue", fg="red", err=True
        )
        raise typer.Exit(code=1)
    return url


def _dead_letters(work: Callable[[str], Awaitable[T]]) -> T:
    """Runs ``work`` with the broker's URL; a missing URL, an unreachable broker or a broker
    without ``hub.dead`` is a one-line error."""
    from hub.messaging.dead_letters import DeadLettersUnavailable

    url = _amqp_url()
    # The AMQP client logs a refused connection before raising it; the error below says it once.
    logging.getLogger("aiormq.connection").setLevel(logging.CRITICAL)
    try:
        return asyncio.run(work(url))
    except DeadLettersUnavailable as exc:
        typer.secho(f"error: {exc.detail}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc


@dead_app.command("list")
def dead_list(limit: Annotated[int, typer.Option(help="At most this many")] = 100) -> None:
    """List the messages in hub.dead with their reason and the office that sent them (they stay there)."""
    from hub.messaging.dead_letters import read_dead_letters

    listed = _dead_letters(lambda url: read_dead_letters(url, limit=limit))
    typer.echo("message_id\tsender\treason\tdetail\tbytes")
    for letter in listed.letters:
        typer.echo(
            f"{letter.message_id}\t{letter.sender or '-'}\t{letter.reason}\t{letter.detail}\t{letter.size}"
        )
    typer.echo(f"{len(listed.letters)} message(s) of {listed.total} in hub.dead", err=True)


@dead_app.command("requeue")
def dead_requeue(
    limit: Annotated[int, typer.Option(help="Run at most this many again")] = 100,
) -> None:
    """Run the messages of hub.dead through the inbound path again, each as the office whose AMQP
    user sent it; those still not applicable stay in hub.dead (put back), and the ones behind
    them are run (among the first 1,000)."""
    from hub.bootstrap import inbound_processor
    from hub.messaging.dead_letters import KEPT, DeadLetter, requeue_dead_letters

    async def run(url: str) -> list[tuple[DeadLetter, str]]:
        engine = engine_from_settings(get_settings())
        try:
            processor = inbound_processor(ReceiptSigner(get_settings().secret_key))
            return await requeue_dead_letters(url, session_factory(engine), processor, limit=limit)
        finally:
            await engine.dispose()

    results = _dead_letters(run)
    for letter, verdict in results:
        typer.echo(f"{letter.message_id}\t{letter.sender or '-'}\t{verdict}")
    kept = sum(1 for _, verdict in results if verdict.startswith(KEPT))
    typer.echo(f"{len(results) - kept} message(s) run again, {kept} kept in hub.dead", err=True)
