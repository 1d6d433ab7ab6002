"""SQLAlchemy plumbing shared by every module: the declarative base and portable column types."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Collection
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    Uuid,
    insert,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub.kit.clock import utcnow

# Stable constraint names, so Alembic revisions are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL; INTEGER on SQLite, where only "INTEGER PRIMARY KEY" autoincrements.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every engine (SQLite keeps no time zone and hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value
        return stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored.astimezone(UTC)


def Cents(**kwargs: Any) -> Mapped[int]:
    """An amount in integer minor units. Never Numeric: SQLite stores Numeric as REAL."""
    return mapped_column(BigInteger(), **kwargs)


def Currency(**kwargs: Any) -> Mapped[str]:
    return mapped_column(String(3), default="EUR", server_default="EUR", **kwargs)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UuidPk:
    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


def is_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached (refused, reset, gone meanwhile): nothing was applied."""
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc.orig, OSError)
    return isinstance(exc, OSError)


async def advisory_locks(session: AsyncSession, keys: Collection[str]) -> None:
    """Holds each of ``keys`` until commit (PostgreSQL: a transaction advisory lock on its 64-bit
    hash), all in one statement and in one order (sorted by hash), so two writers taking several
    never wait on each other in a cycle. SQLite, one writer at a time: a no-op. What a key names is
    the caller's: ``"<sender> <message id>"`` for a message, ``"act_reference <office id> <ref>"``."""
    if not keys or session.get_bind().dialect.name != "postgresql":
        return
    await session.execute(
        text(
            "SELECT pg_advisory_xact_lock(k) FROM (SELECT hashtextextended(x, 0) AS k "
            "FROM unnest(CAST(:keys AS text[])) AS x ORDER BY 1) AS ordered"
        ),
        {"keys": sorted(set(keys))},
    )


_ROWS = "hub.rows"


class RowBuffer:
    """Rows of insert-only tables that nothing reads back in the same unit of work (lifecycle
    events, receipts, outbox rows, ledger entries), written by ``write`` with one executemany per
    table instead of one ORM object and, for an autoincrement key, one round trip each. Active on a
    session between ``open`` and ``close`` (a batch chunk); elsewhere ``stage`` returns False and
    the caller adds ORM objects as before. Rows point only at rows the unit of work writes, so
    ``write`` flushes the session first."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.rows: dict[type[Base], list[dict[str, Any]]] = {}

    @classmethod
    def open(cls, session: AsyncSession) -> RowBuffer:
        buffer = cls(session)
        session.sync_session.info[_ROWS] = buffer
        return buffer

    def close(self) -> None:
        self.session.sync_session.info.pop(_ROWS, None)

    @staticmethod
    def of(session: AsyncSession) -> RowBuffer | None:
        buffer: RowBuffer | None = session.sync_session.info.get(_ROWS)
        return buffer

    @staticmethod
    def stage(session: AsyncSession, model: type[Base], row: dict[str, Any]) -> bool:
        """Buffers ``row`` (of ``model``'s table) when a buffer is open on ``session``; False when none is."""
        buffer = RowBuffer.of(session)
        if buffer is None:
            return False
        buffer.rows.setdefault(model, []).append(row)
        return True

    @staticmethod
    def row_of(obj: Base, *, defaulted: Collection[str] = ("created_at",)) -> dict[str, Any]:
        """A new object's column values as a row; ``defaulted``: columns its insert fills in."""
        table = cast(Table, type(obj).__table__)
        return {c.key: getattr(obj, c.key) for c in table.columns if c.key not in defaulted}

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    async def write(self) -> None:
        await self.session.flush()
        rows, self.rows = self.rows, {}
        by_table = {cast(Table, model.__table__): values for model, values in rows.items()}
        for table in Base.metadata.sorted_tables:  # a row's foreign keys point at rows written before it
            if (values := by_table.get(table)) is not None:
                # Core, not the ORM's bulk insert: no objects, no keys fetched back.
                await self.session.execute(insert(table), values)

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """Writes what is buffered and stages ORM objects until the block ends: for writes that a
        savepoint may roll back (buffered rows would outlive the rollback)."""
        await self.write()
        self.close()
        try:
            yield
        finally:
            self.session.sync_session.info[_ROWS] = self
