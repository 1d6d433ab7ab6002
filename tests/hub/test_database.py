"""The unit of work is all-or-none on every engine: a savepoint nests inside it (SQLite's driver
used to commit what came before a released savepoint), and SQLite writers take turns."""

from __future__ import annotations

import asyncio
import socket
import uuid

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.cases.models import Creditor
from hub.database import create_engine, engine_from_settings, session_factory, unit_of_work
from hub.kit.db import is_unavailable
from hub.settings import Settings


class Boom(Exception):
    pass


async def names(sessions: async_sessionmaker[AsyncSession], *wanted: str) -> set[str]:
    async with unit_of_work(sessions) as session:
        found = await session.scalars(select(Creditor.name).where(Creditor.name.in_(wanted)))
        return set(found)


@pytest.mark.parametrize("write_first", [False, True], ids=["savepoint-first", "write-first"])
async def test_a_released_savepoint_does_not_commit_what_came_before_it(
    sessions: async_sessionmaker[AsyncSession], write_first: bool
) -> None:
    """A unit of work that reads, maybe writes, releases a savepoint (as the imports do for each
    row), writes again and fails: nothing of it remains."""
    before, inside, after = (f"{what}-{uuid.uuid4().hex}" for what in ("before", "inside", "after"))
    with pytest.raises(Boom):
        async with unit_of_work(sessions) as session:
            await session.scalar(select(func.count()).select_from(Creditor))
            if write_first:
                session.add(Creditor(name=before))
                await session.flush()
            async with session.begin_nested():
                session.add(Creditor(name=inside))
            session.add(Creditor(name=after))
            await session.flush()
            raise Boom
    assert await names(sessions, before, inside, after) == set()


async def test_a_savepoint_rolled_back_keeps_the_outer_writes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    kept, dropped, after = (f"{what}-{uuid.uuid4().hex}" for what in ("kept", "dropped", "after"))
    async with unit_of_work(sessions) as session:
        session.add(Creditor(name=kept))
        await session.flush()
        with pytest.raises(Boom):
            async with session.begin_nested():
                session.add(Creditor(name=dropped))
                await session.flush()
                raise Boom
        session.add(Creditor(name=after))
    assert await names(sessions, kept, dropped, after) == {kept, after}


async def test_sqlite_writers_that_read_first_take_turns(committed_database_url: str) -> None:
    """Two units of work that read, then write: with a deferred BEGIN the second failed its lock
    upgrade at once ("database is locked"); with BEGIN IMMEDIATE it waits for the first."""
    if not committed_database_url.startswith("sqlite"):
        pytest.skip("SQLite's one writer at a time")
    engine = create_engine(committed_database_url)
    sessions = session_factory(engine)
    tag = uuid.uuid4().hex
    first_read = asyncio.Event()

    async def count(session: AsyncSession) -> int:
        return await session.scalar(select(func.count()).where(Creditor.name.like(f"{tag}%"))) or 0

    async def first() -> None:
        async with unit_of_work(sessions) as session:
            seen = await count(session)
            first_read.set()
            await asyncio.sleep(0.3)  # room for the second to read meanwhile (it did, before)
            session.add(Creditor(name=f"{tag}-{seen}"))

    async def second() -> None:
        await first_read.wait()
        async with unit_of_work(sessions) as session:
            seen = await count(session)
            session.add(Creditor(name=f"{tag}-{seen}"))

    try:
        await asyncio.gather(first(), second())
        async with unit_of_work(sessions) as session:
            got = set(await session.scalars(select(Creditor.name).where(Creditor.name.like(f"{tag}%"))))
    finally:
        await engine.dispose()
    assert got == {f"{tag}-0", f"{tag}-1"}  # the second saw the first's write: one after the other


async def test_read_only_sessions_do_not_wait_for_a_writer(committed_database_url: str) -> None:
    if not committed_database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    engine = create_engine(committed_database_url)
    try:
        async with unit_of_work(session_factory(engine)) as writing:
            writing.add(Creditor(name=f"w-{uuid.uuid4().hex}"))
            await writing.flush()
            async with unit_of_work(session_factory(engine, read_only=True)) as reading:
                assert await reading.scalar(select(func.count()).select_from(Creditor)) is not None
    finally:
        await engine.dispose()


async def _terminated(url: str, *, ping_after_idle: float) -> int:
    """Runs a query on a pooled connection whose server process was ended while it sat idle."""
    engine = create_engine(url, ping_after_idle=ping_after_idle, pool_size=1, max_overflow=0)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with admin.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        async with engine.connect() as conn:
            return int((await conn.execute(text("SELECT 1"))).scalar_one())
    finally:
        await engine.dispose()
        await admin.dispose()


@pytest.mark.postgres
async def test_a_connection_idle_past_the_ping_delay_is_pinged_and_replaced(postgres_url: str) -> None:
    assert await _terminated(postgres_url, ping_after_idle=0) == 1
    # Not idle long enough to be pinged: used as it is, it fails, as the unavailable database it is.
    with pytest.raises(Exception) as raised:
        await _terminated(postgres_url, ping_after_idle=3600)
    assert is_unavailable(raised.value)


@pytest.mark.postgres
async def test_postgresql_sessions_run_without_jit_unless_the_settings_turn_it_on(postgres_url: str) -> None:
    async def shown(engine: AsyncEngine) -> tuple[str, str]:
        try:
            async with engine.connect() as conn:
                row = (
                    await conn.execute(
                        text(
                            "SELECT current_setting('jit'), application_name "
                            "FROM pg_stat_activity WHERE pid = pg_backend_pid()"
                        )
                    )
                ).one()
                return str(row[0]), str(row[1])
        finally:
            await engine.dispose()

    def settings(**values: object) -> Settings:
        return Settings(env="test", database_url=postgres_url, secret_key="t" * 40, **values)

    assert (await shown(engine_from_settings(settings())))[0] == "off"
    # On: the server's own default (PostgreSQL's is on), as if the hub set nothing.
    assert (await shown(engine_from_settings(settings(database_jit=True))))[0] == "on"
    # A caller's own startup settings are kept beside it.
    own = {"server_settings": {"application_name": "hub-jit-test"}}
    assert await shown(create_engine(postgres_url, connect_args=own)) == ("off", "hub-jit-test")


@pytest.mark.postgres
@pytest.mark.parametrize("size", [None, 7])
async def test_a_process_keeps_every_postgresql_connection_it_opened_up_to_its_pool_size(
    postgres_url: str, size: int | None
) -> None:
    """More requests at once than the 5 connections SQLAlchemy's pool keeps by default: each
    connection opened for them is kept, none closed as it comes back (and opened again for the next
    request); and never more than ``HUB_DATABASE_POOL_SIZE`` at once (15 by default, as before)."""
    chosen = {} if size is None else {"database_pool_size": size}
    settings = Settings(env="test", database_url=postgres_url, secret_key="t" * 40, **chosen)
    kept = settings.database_pool_size
    assert kept == (size or 15)
    engine = engine_from_settings(settings)
    try:
        pids: set[int] = set()
        for _ in range(2):
            connections = [await engine.connect() for _ in range(kept)]
            for conn in connections:
                pids.add((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            for conn in connections:
                await conn.close()
        assert len(pids) == kept  # the second round used the first's connections
        assert engine.pool.checkedin() == kept  # type: ignore[attr-defined]
        held = [await engine.connect() for _ in range(kept)]
        try:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(engine.connect(), 0.5)  # one more waits for one to come back
        finally:
            for conn in held:
                await conn.close()
    finally:
        await engine.dispose()


async def test_a_request_answers_503_when_the_database_is_down() -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # a port nothing listens on
    settings = Settings(
        env="test",
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/hub",
        secret_key="t" * 40,
        role="api",
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as client,
    ):
        answer = await client.get("/v1/me", headers={"Authorization": "Bearer hub_0123_secret"})
    assert answer.status_code == 503 and answer.json()["code"] == "database.unavailable"
    assert answer.headers["retry-after"]
