"""Shared fixtures: real databases with the real migrations, each test in a rolled-back transaction.

PostgreSQL and RabbitMQ are the machine's servers. Locally a test that needs one skips when it is
unreachable; under ``CI=true`` it fails instead, so CI never goes green without them.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit

import aio_pika
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from hub.database import create_engine, migrate, session_factory
from hub.settings import Settings

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get(
    "HUB_TEST_PG_ADMIN_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
AMQP_URL = os.environ.get("HUB_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
# The official EN 16931 stylesheets, read in place beside the project (never copied into it).
EN16931_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "en16931"
if "HUB_EN16931_DIR" not in os.environ and EN16931_DIR.is_dir():
    os.environ["HUB_EN16931_DIR"] = str(EN16931_DIR)
# Every message's checks learn from the reports before it (no reuse of the learned rates across
# messages, HUB_LEARNED_RATES_SECONDS): a test reads what the tests before it left in a database
# only when it says so (tests/hub/acts/test_tallies.py shows the reuse).
os.environ.setdefault("HUB_LEARNED_RATES_SECONDS", "0")
# No time limit on a property's example: timings belong in `hub bench`, never in a pass/fail test,
# and `make test` runs the files on two processes at once (ADR 0025), where an example waits its turn.
hypothesis_settings.register_profile("hub", deadline=None)
hypothesis_settings.load_profile("hub")


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def require(service: str, ok: bool) -> None:
    if ok:
        return
    message = f"{service} is unreachable"
    if IN_CI:
        pytest.fail(f"{message}: CI must run the {service} tests (see TESTING.md to start it)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def amqp_url() -> str:
    require("RabbitMQ", reachable(AMQP_URL, 5672))
    return AMQP_URL


@asynccontextmanager
async def postgres_database(*, icu_locale: str | None = None) -> AsyncIterator[str]:
    """A database of this run's own, migrated with the real Alembic revisions, dropped at the end;
    with ``icu_locale``, its strings compared by that ICU collation (as a database created with a
    language's locale compares them), not the cluster's default."""
    require("PostgreSQL", reachable(PG_ADMIN_URL, 5432))
    name = f"hub_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    collation = ""
    if icu_locale is not None:
        collation = f" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '{icu_locale}'"
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"{collation}'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = create_engine(url)
    await migrate(engine)
    await engine.dispose()
    try:
        yield url
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def sqlite_database(folder: Path) -> str:
    url = f"sqlite+aiosqlite:///{folder / 'hub.db'}"
    engine = create_engine(url)
    await migrate(engine)
    await engine.dispose()
    return url


@asynccontextmanager
async def database_like(url: str, folder: Path) -> AsyncIterator[str]:
    """A new migrated database of the same engine as ``url`` (a SQLite file in ``folder``)."""
    if url.startswith("sqlite"):
        yield await sqlite_database(folder)
        return
    async with postgres_database() as new_url:
        yield new_url


# Two databases per engine: one that stays empty (each test in a rolled-back transaction), one for
# tests that commit as production does (the HTTP app, the relay), where rows accumulate.
@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    async with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
async def postgres_committed_url() -> AsyncIterator[str]:
    async with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
async def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return await sqlite_database(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
async def sqlite_committed_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return await sqlite_database(tmp_path_factory.mktemp("sqlite-committed"))


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each database test runs on SQLite and on PostgreSQL."""
    url: str = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    return url


@pytest.fixture(scope="session")
def committed_database_url(database_url: str, request: pytest.FixtureRequest) -> str:
    """The committing database of the same engine as ``database_url``."""
    name = "sqlite_committed_url" if database_url.startswith("sqlite") else "postgres_committed_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture(scope="session")
async def committed_engine(committed_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(committed_database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(committed_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that commit, for code that owns its transactions (relay, pushers, consumers)."""
    return session_factory(committed_engine)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back after the test (polar's pattern)."""
    async with rolled_back_session(engine) as session:
        yield session


@pytest.fixture
async def pg_session(postgres_url: str) -> AsyncIterator[AsyncSession]:
    """For what only PostgreSQL has (triggers, row locks): its session, rolled back after the test."""
    engine = create_engine(postgres_url)
    try:
        async with rolled_back_session(engine) as session:
            yield session
    finally:
        await engine.dispose()


@asynccontextmanager
async def rolled_back_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    conn: AsyncConnection = await engine.connect()
    transaction = await conn.begin()
    session = AsyncSession(bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        await session.close()
        await transaction.rollback()
        await conn.close()


@pytest.fixture
def settings(committed_database_url: str) -> Settings:
    return Settings(
        env="test", database_url=committed_database_url, amqp_url="", secret_key="t" * 40, role="api"
    )


# RabbitMQ: one virtual host per test session on the shared broker, emptied after each test. The
# topology's names are fixed, so two runs (two engineers, CI) cannot share a virtual host; a test
# cannot share one with the test before it either, so each test's queues and exchanges are deleted
# over AMQP when it ends. Not a virtual host per test: on RabbitMQ 3.10 ``delete_vhost`` with
# quorum queues inside can hang, and ``add_vhost`` then hangs behind it (a CI run lost that way).


def rabbitmqctl(*args: str) -> str:
    """The shared broker's ``rabbitmqctl``: only vhost-scoped commands, never stop or kill."""
    try:
        done = subprocess.run(
            ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        require(f"rabbitmqctl ({error})", False)
        raise
    if done.returncode != 0:
        require(f"rabbitmqctl {args[0]} ({done.stderr.strip()})", False)
    return done.stdout


@pytest.fixture(scope="session")
def session_vhost(amqp_url: str) -> Iterator[str]:
    name = f"hubt_{secrets.token_hex(4)}"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield name
    finally:
        # Empty by now: each test emptied it. Best effort: every test has passed or failed on its own
        # by then, and an empty virtual host left behind harms nothing, whereas RabbitMQ 3.10's
        # delete_vhost can hang on a loaded broker (the warning names it for deleting by hand).
        try:
            done = subprocess.run(
                ["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True, text=True, timeout=120
            )
            failed = done.returncode != 0
        except (OSError, subprocess.TimeoutExpired):
            failed = True
        if failed:
            warnings.warn(
                f"the test virtual host {name} is left on the broker (delete_vhost failed)", stacklevel=1
            )


async def empty_vhost(url: str, name: str) -> None:
    """Deletes every queue and every exchange of our own in ``name`` (what a test declared)."""
    for attempt in range(3):
        try:
            exported = json.loads(rabbitmqctl("export_definitions", "--format", "json", "-"))
            break
        except json.JSONDecodeError:
            # RabbitMQ 3.10 answers an Erlang error instead (badarg in maps:from_list) while another
            # client adds or deletes a virtual host of its own (a bench run beside the tests).
            if attempt == 2:
                raise
            await asyncio.sleep(1)
    queues = [q["name"] for q in exported["queues"] if q["vhost"] == name]
    exchanges = [e["name"] for e in exported["exchanges"] if e["vhost"] == name]
    connection = await aio_pika.connect(url, timeout=30)
    async with connection:
        channel = await connection.channel()
        for queue in queues:
            await channel.queue_delete(queue)
        for exchange in exchanges:
            await channel.exchange_delete(exchange)


@pytest.fixture
async def vhost(amqp_url: str, session_vhost: str) -> AsyncIterator[str]:
    yield session_vhost
    await empty_vhost(vhost_url_of(amqp_url, session_vhost), session_vhost)


def vhost_url_of(amqp_url: str, name: str) -> str:
    return amqp_url.rstrip("/") + "/" + quote(name, safe="")


async def until_inbound_routes(vhost: str, *, within: float = 120) -> None:
    """Waits until the exchange ``hub.inbound`` routes to the queue ``hub.inbound`` in ``vhost``. A
    worker declares the exchanges, then the queues, then the bindings: a message an office publishes
    in between is unroutable, and RabbitMQ drops it (a publisher learns it only with ``mandatory``
    and ``on_return_raises``). Waiting for the queue alone is not enough, nor is ``/healthz``."""

    def routes() -> bool:
        listed = rabbitmqctl("list_bindings", "-p", vhost, "source_name", "destination_name")
        return ("hub.inbound", "hub.inbound") in {tuple(line.split("\t")[:2]) for line in listed.splitlines()}

    async with asyncio.timeout(within):
        while not await asyncio.to_thread(routes):  # noqa: ASYNC110 - polls the broker
            await asyncio.sleep(0.2)


@pytest.fixture
def vhost_url(amqp_url: str, vhost: str) -> str:
    return vhost_url_of(amqp_url, vhost)


async def eventually(condition: Callable[[], bool], *, within: float = 30.0, every: float = 0.05) -> None:
    """Waits until ``condition()`` is true; a liveness bound, not a timing assertion."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - polls state that has no event to await
            await asyncio.sleep(every)


@pytest.fixture
def counts(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    """Writes a chaos or scale run's counts into the test run's own output, passing or not, so CI's
    log shows them (a plain ``print`` is captured and shown only on failure)."""

    def write(line: str) -> None:
        with capsys.disabled():
            print(line)

    return write
