"""Case keys (``hub.messaging.sealing``): given to a case that has none, kept by a case that has
one, never given back to an erased case."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import default
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.database import unit_of_work
from hub.messaging import sealing
from hub.messaging.repository import MessageRepository
from tests.hub.ledger.factories import add_creditors_with_cases


async def test_a_writer_gives_a_key_to_its_case_if_it_has_none_in_one_statement(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with unit_of_work(sessions) as session:
        keyed, erased, new = await add_creditors_with_cases(session, [3])
    async with unit_of_work(sessions) as session:
        await sealing.load_keys(session, [keyed], create=True)
        await sealing.destroy_key(session, erased)
    async with sessions() as session:
        before = await MessageRepository(session).case_keys([keyed, erased, new])
    assert before[keyed] is not None and before[erased] is None and new not in before

    sent: list[str] = []

    def count(_c: object, _cur: object, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):
            sent.append(statement)

    async with unit_of_work(sessions) as session:
        engine = session.bind.sync_engine  # type: ignore[union-attr]
        event.listen(engine, "before_cursor_execute", count)
        try:
            statements = []
            for case_id in (keyed, erased, new):  # as three messages' writers would, one case each
                await sealing.load_keys(session, [case_id], create=True)
                statements.append(len(sent))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        message = _Sealed(uuid.uuid4(), new, b"")
        message.body = sealing.seal_for(session, new, message.id, b"<m/>")
        dialect = engine.dialect.name
    # PostgreSQL: the key given if the case has none, else read, in one statement; SQLite: read, then
    # given if none was found.
    assert statements == ([1, 2, 3] if dialect == "postgresql" else [1, 2, 4])

    async with sessions() as session:
        after = await MessageRepository(session).case_keys([keyed, erased, new])
    assert after[keyed] == before[keyed] and after[erased] is None and after[new] is not None
    async with sessions() as session:  # the key given is the one read back
        assert await sealing.open_bodies(session, [message]) == {message.id: b"<m/>"}


@dataclass
class _Sealed:
    """The columns of a stored message that opening its body reads."""

    id: uuid.UUID
    case_id: uuid.UUID
    body: bytes
    sealed: bool = True


@pytest.mark.postgres
async def test_giving_a_case_its_key_is_compiled_once(pg_session: AsyncSession) -> None:
    """The one statement that gives a case its key (``case_keys_added``) is SQLAlchemy's cached
    statement from the second case on, whatever the number of cases: a multi-row VALUES had no cache
    key and was compiled for each message, about 1 ms of the hub's CPU."""
    first, second, third = await add_creditors_with_cases(pg_session, [3])
    hits: list[object] = []

    def cached(_c: object, _cur: object, statement: str, _p: object, context: Any, _m: bool) -> None:
        if "case_keys" in statement:
            hits.append(context.cache_hit)

    repo = MessageRepository(pg_session)
    engine = pg_session.bind.sync_engine  # type: ignore[union-attr]
    event.listen(engine, "before_cursor_execute", cached)
    try:
        await repo.case_keys_added({first: b"k1"})
        found = await repo.case_keys_added({second: b"k2", third: b"k3", first: b"k4"})
    finally:
        event.remove(engine, "before_cursor_execute", cached)
    assert found == {first: b"k1", second: b"k2", third: b"k3"}  # the first keeps its key
    assert hits[1:] == [default.CACHE_HIT]
