"""Engine, sessions and migrations. The edge (a request, a consumed message, a CLI command) owns
the transaction: services receive a session and never commit.

SQLite: the hub takes transaction control over from the driver. pysqlite (and aiosqlite on top of
it) begins a transaction only before an INSERT/UPDATE/DELETE and treats ``SAVEPOINT``/``RELEASE``
outside one as a transaction of their own, so a savepoint released inside a unit of work committed
what came before it. Following SQLAlchemy's recipe ("Serializable isolation / Savepoints /
Transactional DDL"), the driver's handling is switched off (``isolation_level = None``) and the
engine emits BEGIN itself, so a unit of work is all-or-none and its savepoints nest inside it,
as on PostgreSQL.

- Writers begin with ``BEGIN IMMEDIATE``: the write lock is taken at the start, so two writers
  (the API, the relay, a ``hub mandates import`` in another process) take turns, each waiting up to
  the busy timeout (``HUB_SQLITE_BUSY_TIMEOUT``, seconds). A deferred BEGIN would let two
  transactions read, then fail the lock upgrade at once with "database is locked", whatever the
  timeout.
- ``PRAGMA journal_mode=WAL``: readers never block the writer and the writer never blocks them.
- Read-only work begins with a plain (deferred) ``BEGIN``, which takes no write lock: a session
  from :func:`session_factory` with ``read_only=True``, or a connection with the execution option
  :data:`READ_ONLY`. Such a transaction reads one snapshot; if it writes anyway, SQLite refuses
  the write when another writer committed meanwhile ("database is locked"), so use it for reads
  only (listings, reports). A connection in ``AUTOCOMMIT`` gets no BEGIN.

PostgreSQL is untouched: its transactions already nest savepoints, and its writers wait on rows.
A pooled PostgreSQL connection is pinged before use only when it sat idle in the pool longer than
``PING_AFTER_IDLE_SECONDS`` (a server restart or a firewall drops idle ones): a busy hub sends no
ping per request, which ``pool_pre_ping`` would (one round trip each). Its sessions run with the
server's JIT compilation off unless ``HUB_DATABASE_JIT`` says otherwise (ADR 0022): a worklist page
or a monthly report costed over the JIT threshold spent more compiling than it saved.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from alembic import command
from alembic.config import Config
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from hub.settings import Settings

log = structlog.get_logger()

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
READ_ONLY_OPTION = "hub_read_only"
# Execution options of read-only work: on SQLite a deferred BEGIN (no write lock).
READ_ONLY: dict[str, Any] = {READ_ONLY_OPTION: True}
DEFAULT_BUSY_TIMEOUT = 10.0
PING_AFTER_IDLE_SECONDS = 10.0
_IDLE_SINCE = "hub_idle_since"


def _sqlite_connect(busy_timeout: float) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver no longer begins or ends transactions: the "begin" listener below does.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        try:
            # Persistent in the file: a no-op once set. Switching needs the file to itself; if another
            # process holds it longer than the busy timeout, this connection keeps the current mode.
            cursor.execute("PRAGMA journal_mode=WAL")
        except Exception as exc:  # the driver's OperationalError; the next connection retries
            log.warning("sqlite_wal_not_set", error=str(exc))
        cursor.close()

    return on_connect


def _sqlite_begin(conn: Connection) -> None:
    options = conn.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return
    conn.exec_driver_sql("BEGIN" if options.get(READ_ONLY_OPTION) else "BEGIN IMMEDIATE")


def create_engine(
    database_url: str,
    *,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
    jit: bool = False,
    **kwargs: Any,
) -> AsyncEngine:
    """The hub's engine; on SQLite, with transaction control taken over from the driver (above);
    on PostgreSQL, pinging connections idle over ``ping_after_idle`` seconds, its sessions with the
    server's JIT compilation off unless ``jit``."""
    kwargs.setdefault("hide_parameters", True)  # an error's text, logged, quotes no debtor's data
    if database_url.startswith("sqlite"):
        engine = create_async_engine(database_url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_connect(busy_timeout))
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    if not jit and make_url(database_url).get_driver_name() == "asyncpg":
        # A startup parameter of each connection: set once, no statement per session.
        connect_args = kwargs.get("connect_args", {})
        server_settings = {**connect_args.get("server_settings", {}), "jit": "off"}
        kwargs["connect_args"] = {**connect_args, "server_settings": server_settings}
    engine = create_async_engine(database_url, **kwargs)
    _ping_after_idle(engine, ping_after_idle)
    return engine


def _ping_after_idle(engine: AsyncEngine, seconds: float) -> None:
    """SQLAlchemy's pessimistic disconnect handling, for connections idle over ``seconds`` only: a
    dead one is replaced (the pool retries the checkout with a new connection) before the request
    uses it."""

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < seconds:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:  # the driver's error for a connection the server closed
            raise DisconnectionError("the pooled connection is gone") from exc

    event.listen(engine.sync_engine, "checkin", checkin)
    event.listen(engine.sync_engine, "checkout", checkout)


def engine_from_settings(settings: Settings) -> AsyncEngine:
    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    # A process's PostgreSQL connections (``HUB_DATABASE_POOL_SIZE``): at most 15 by default, as
    # SQLAlchemy's default pool (5 kept, 10 more opened when busy), but every one opened is kept.
    # With 5 kept, more concurrent requests than 5 closed a connection as it came back and opened
    # another for the next request: each a PostgreSQL backend started, asyncpg's type introspection
    # and every statement prepared again (72 connections for the bench's 3,000 act reports).
    pool: dict[str, Any] = (
        {} if settings.is_sqlite else {"pool_size": settings.database_pool_size, "max_overflow": 0}
    )
    return create_engine(
        settings.database_url, busy_timeout=settings.sqlite_busy_timeout, jit=settings.database_jit, **pool
    )


def session_factory(engine: AsyncEngine, *, read_only: bool = False) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine``; ``read_only``: for work that only reads (no write lock on SQLite)."""
    bind = engine.execution_options(**READ_ONLY) if read_only else engine
    return async_sessionmaker(bind, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends normally, rolled back on any exception."""
    async with factory() as session, session.begin():
        yield session


def is_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked": a writer waited its busy timeout in vain (nothing applied)."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def failure_message(exc: BaseException, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> str:
    """A failure in one line an operator can act on: never a traceback, an SQL statement or its
    parameters (a DBAPI error's text carries both)."""
    if is_busy(exc):
        return f"the database is busy (another writer held it for {busy_timeout:g} s)"
    if isinstance(exc, DBAPIError) and any(
        missing in str(exc.orig) for missing in ("no such table", "UndefinedTable")
    ):
        return "the database has no tables yet or is behind the code: run `hub migrate`"
    if isinstance(exc, DBAPIError):
        reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        return f"the database refused it ({type(exc.orig).__name__}: {reason[:200]})"
    if isinstance(exc, SQLAlchemyError):
        return f"database error ({type(exc).__name__})"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def _upgrade(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply the Alembic revisions on the engine's database (the same revisions on every engine)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)


# A table is analysed during a load once the load has written more than this share of the rows its
# statistics counted: autovacuum's default rule (``autovacuum_analyze_scale_factor``).
ANALYZE_SHARE = 0.1

_ROWS_WHEN_ANALYSED = text(
    "SELECT relname, reltuples FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
    "AND relname = ANY(:names)"
)


def due_for_analysis(written: int, rows_when_analysed: float) -> bool:
    """Whether a table whose statistics counted ``rows_when_analysed`` rows (-1 or 0: never analysed,
    or analysed empty) is planned on stale figures once a load has written ``written`` rows into it."""
    return written > 0 and written > ANALYZE_SHARE * max(rows_when_analysed, 0)


async def analyze_tables(
    sessions: async_sessionmaker[AsyncSession], tables: Collection[str], *, written: int
) -> list[str]:
    """``ANALYZE`` of those of ``tables`` a load in progress has written ``written`` rows into that
    are due (``due_for_analysis``: what their statistics counted, ``pg_class.reltuples``, is
    current as each analysis ends), on PostgreSQL, in a transaction of its own
    (``refresh_statistics`` is for the end of a load): a table's plans (the prepared statements'
    and the foreign key checks') are made again on its new statistics. A table much bigger than
    what the load wrote is left as it is: its analysis (a sample of 30,000 rows) would cost more
    than its plans gain. The tables analysed; none on SQLite, whose plans do not degrade that way.
    Best effort, as ``refresh_statistics``."""
    try:
        async with sessions() as session, session.begin():
            if session.get_bind().dialect.name != "postgresql":
                return []
            found = await session.execute(_ROWS_WHEN_ANALYSED, {"names": sorted(tables)})
            due = sorted(name for name, rows in found if due_for_analysis(written, rows))
            if due:
                await session.execute(text(f"ANALYZE {', '.join(due)}"))
            return due
    except DBAPIError as exc:
        log.warning("statistics_not_refreshed", error=failure_message(exc))
        return []


async def refresh_statistics(engine: AsyncEngine) -> None:
    """Brings the query planner's statistics up to date (``ANALYZE``, on both engines: SQLite's fills
    ``sqlite_stat1``), at the end of ``hub migrate`` and after bulk loads. Until then a table loaded
    in bulk is planned as the small table it was (the relay's claim once sorted an 83k pending
    backlog until the table was analysed); autovacuum gets there, but later. Best effort: a failure
    (a busy SQLite file) is logged, and what was loaded stays loaded."""
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("ANALYZE")
    except DBAPIError as exc:
        log.warning("statistics_not_refreshed", error=failure_message(exc))
