"""The unit of work is all-or-none on every engine: a savepoint nests inside it (SQLite's driver
used to commit what came before a released savepoint), and SQLite writers take turns."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.cases.models import Creditor
from hub.database import create_engine, session_factory, unit_of_work


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
