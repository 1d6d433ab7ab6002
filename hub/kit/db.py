"""SQLAlchemy plumbing shared by every module: the declarative base and portable column types."""

from __future__ import annotations

import contextlib
import functools
import json
import operator
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Insert,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    TypeDecorator,
    Uuid,
    any_,
    bindparam,
    func,
    insert,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

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


KEYS_A_STATEMENT = 1_000  # of one IN list: far below PostgreSQL's 32,767 parameters and its parser's depth
_Key = TypeVar("_Key")


def in_chunks(keys: Collection[_Key]) -> Iterator[list[_Key]]:
    """``keys`` in lists of ``KEYS_A_STATEMENT`` at most, one IN list a statement each: whatever
    the number of keys, a fixed number of statements for the usual few, and no statement too long."""
    ordered = list(keys)
    for start in range(0, len(ordered), KEYS_A_STATEMENT):
        yield ordered[start : start + KEYS_A_STATEMENT]


def records(query: Select[Any]) -> Any:
    """PostgreSQL: ``query``'s rows as one array of records, in its order, for a column of a statement
    that folds several reads into one: ``array((SELECT (a, b, ...) ...))``."""
    return func.array(query.with_only_columns(tuple_(*query.selected_columns)).scalar_subquery())


def any_of(name: str, item: Any) -> Any:
    """PostgreSQL: ``= ANY(:name)``, the list bound as one array of ``item`` whatever its length."""
    return any_(bindparam(name, type_=ARRAY(item)))


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


class EncodedJson(dict[str, Any]):
    """A JSON object that gives its own encoding (``encoded``), for values whose larger part many rows
    share, encoded once (an act's assessment: its verdict). COPY (``RowBuffer``) sends that text for
    a JSON column; elsewhere (an INSERT, the ORM) it is the dict it is, encoded by the column. So
    ``encoded`` returns exactly ``json.dumps`` of the dict, the column's own encoding."""

    __slots__ = ()

    def encoded(self) -> str:
        return json.dumps(self)


_ROWS = "hub.rows"
# PostgreSQL: a table's rows go by COPY from this many on; fewer (a single message's) by INSERT, which
# costs the same round trip and is seen by the statement listeners and the traces, which COPY is not.
COPY_FROM_ROWS = 50


class RowBuffer:
    """Rows of insert-only tables that nothing reads back in the same unit of work (lifecycle
    events, receipts, outbox rows, ledger entries), written by ``write`` with one executemany per
    table instead of one ORM object and, for an autoincrement key, one round trip each. Active on a
    session between ``open`` and ``close`` (a batch chunk); elsewhere ``stage`` returns False and
    the caller adds ORM objects as before. Rows point only at rows the unit of work writes, so
    ``write`` flushes the session first."""

    def __init__(
        self, session: AsyncSession, *, fold_lifecycle: bool = False, one_statement: bool = False
    ) -> None:
        self.session = session
        self.rows: dict[type[Base], list[dict[str, Any]]] = {}
        self.fold_lifecycle = fold_lifecycle
        self.one_statement = one_statement
        # Called before each write, to finish rows that are staged unfinished (batch receipts signed
        # once for the rows of the write).
        self.before_write: list[Callable[[], None]] = []

    @classmethod
    def open(
        cls, session: AsyncSession, *, fold_lifecycle: bool = False, one_statement: bool = False
    ) -> RowBuffer:
        """``fold_lifecycle``: the unit of work is a batch chunk, whose records' lifecycle steps
        that add nothing are folded into their status (``hub.messaging.service.record``).
        ``one_statement``: the unit of work is one message, a few rows per table: on PostgreSQL
        ``write`` sends every table's rows in one statement (``_insert_together``), not one per table."""
        buffer = cls(session, fold_lifecycle=fold_lifecycle, one_statement=one_statement)
        session.sync_session.info[_ROWS] = buffer
        return buffer

    @staticmethod
    def folds_lifecycle(session: AsyncSession) -> bool:
        buffer = RowBuffer.of(session)
        return buffer is not None and buffer.fold_lifecycle

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
        buffer.add(model, row)
        return True

    def add(self, model: type[Base], row: dict[str, Any]) -> None:
        """Buffers ``row`` of ``model``'s table."""
        self.rows.setdefault(model, []).append(row)

    def extend(self, model: type[Base], rows: list[dict[str, Any]]) -> None:
        self.rows.setdefault(model, []).extend(rows)

    @staticmethod
    def row_of(obj: Base, *, defaulted: Collection[str] = ("created_at",)) -> dict[str, Any]:
        """A new object's column values as a row; ``defaulted``: columns its insert fills in."""
        table = cast(Table, type(obj).__table__)
        return {c.key: getattr(obj, c.key) for c in table.columns if c.key not in defaulted}

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    async def write(self) -> None:
        for finish in self.before_write:
            finish()
        await self.session.flush()
        rows, self.rows = self.rows, {}
        by_table = {cast(Table, model.__table__): values for model, values in rows.items()}
        copy = self.session.get_bind().dialect.name == "postgresql"
        if copy and self.one_statement and len(by_table) > 1:
            await self._insert_together(by_table)
            return
        # A row's foreign keys point at rows written before it.
        for table, statement in _inserts_in_order(len(Base.metadata.tables)):
            if (values := by_table.get(table)) is not None:
                if copy and len(values) >= COPY_FROM_ROWS:
                    await self._copy(table, values)
                else:
                    # Core, not the ORM's bulk insert: no objects, no keys fetched back.
                    await self.session.execute(statement, values)

    async def _copy(self, table: Table, values: list[dict[str, Any]]) -> None:
        """PostgreSQL: the rows with COPY (asyncpg's binary ``copy_records_to_table``) on the
        session's own connection, so in its transaction. What an INSERT would fill in is filled in
        here: the columns' Python defaults and bind conversions (JSON to text, UTC times)."""
        connection = await self.session.connection()
        written = _written(table, tuple(values[0]), connection.dialect)
        # Only the columns with a conversion are converted, in place: most have none (the driver's).
        converted = [(at, to) for at, (_key, to) in enumerate(written.given) if to is not None]
        converted += [
            (at, to) for at, (_make, to) in enumerate(written.defaulted, len(written.given)) if to is not None
        ]
        fill = [make for make, _to in written.defaulted]
        given = [key for key, _to in written.given]
        read = operator.itemgetter(*given)
        records = []
        for row in values:
            record = [*read(row)] if len(given) > 1 else [read(row)]
            for make in fill:
                record.append(make())
            for at, to in converted:
                record[at] = to(record[at])
            records.append(tuple(record))
        raw = await connection.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            table.name, records=records, columns=[c.name for c in written.columns]
        )

    async def _insert_together(self, by_table: dict[Table, list[dict[str, Any]]]) -> None:
        """PostgreSQL: the rows of every table in one statement, a data-modifying CTE per table but
        the last (``WITH inbox_rows AS (INSERT INTO inbox (...) SELECT * FROM unnest($1::type[],
        ...)), ... INSERT INTO ledger_entries ...``), each column one array parameter: one round trip,
        and a text that depends on the tables and columns written, not on the number of rows (the
        driver prepares it once). Foreign keys are checked at the end of the statement, so a row may
        point at one written with it. Values are filled in and converted as for COPY."""
        connection = await self.session.connection()
        order = _table_order(len(Base.metadata.tables))
        shape = tuple((table, tuple(by_table[table][0])) for table in sorted(by_table, key=order.__getitem__))
        statement, written = _together(shape, connection.dialect)
        arrays: list[list[Any]] = []
        for (table, _given), plan in zip(shape, written, strict=True):
            values = by_table[table]
            for key, convert in plan.given:
                found = [row[key] for row in values]
                arrays.append(found if convert is None else [convert(value) for value in found])
            for make, convert in plan.defaulted:
                made = [make() for _row in values]
                arrays.append(made if convert is None else [convert(value) for value in made])
        await connection.exec_driver_sql(statement, tuple(arrays))

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


def _copy_conversion(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """What an INSERT does to a value of ``column`` before sending it; for a JSON column, an
    ``EncodedJson`` gives its own encoding (the same text)."""
    convert = column.type.bind_processor(dialect)
    if convert is None or not isinstance(column.type, JSON):
        return convert
    encode = convert
    # Most rows' values of some columns (a receipt's errors, an outbox row's headers): encoded once.
    null, empty = encode(None), encode([])

    def encoded(value: Any) -> Any:
        if value is None:
            return null
        if value.__class__ is list and not value:
            return empty
        return value.encoded() if isinstance(value, EncodedJson) else encode(value)

    return encoded


@functools.cache
def _inserts_in_order(table_count: int) -> list[tuple[Table, Insert]]:
    """Every table in foreign key order (parents first), each with its INSERT statement, for the
    ``table_count`` tables defined so far: ``MetaData.sorted_tables`` sorts them on every call, and
    a new ``insert()`` has no cache key memoized yet, while every office message writes rows."""
    return [(table, insert(table)) for table in Base.metadata.sorted_tables]


@functools.cache
def _table_order(table_count: int) -> dict[Table, int]:
    """Each table's place in foreign key order (``_inserts_in_order``)."""
    return {table: at for at, (table, _insert) in enumerate(_inserts_in_order(table_count))}


class _Written(NamedTuple):
    """How a buffer's rows of a table are written: the columns (those the rows give, then those left
    to a Python-side default), each given key with its conversion, each default with its conversion."""

    columns: tuple[Column[Any], ...]
    given: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    defaulted: tuple[tuple[Callable[[], Any], Callable[[Any], Any] | None], ...]


@functools.lru_cache(maxsize=256)
def _written(table: Table, given: tuple[str, ...], dialect: Dialect) -> _Written:
    """For rows of ``table`` giving the keys ``given`` (the first row's: a buffer's rows of a table
    all give the same): the columns they leave to a Python-side default, which a bulk write fills in
    itself, and every conversion, worked out once per shape, not per write."""
    defaulted = [c for c in table.columns if c.key not in given and c.default is not None]
    return _Written(
        (*(table.c[key] for key in given), *defaulted),
        tuple((key, _copy_conversion(table.c[key], dialect)) for key in given),
        tuple((_default_of(c), _copy_conversion(c, dialect)) for c in defaulted),
    )


@functools.lru_cache(maxsize=64)
def _together(
    shape: tuple[tuple[Table, tuple[str, ...]], ...], dialect: Dialect
) -> tuple[str, tuple[_Written, ...]]:
    """The text of ``RowBuffer._insert_together`` for these tables (in this order) and the keys their
    rows give, and how each table's rows are written."""
    quote = dialect.identifier_preparer.quote
    written = tuple(_written(table, given, dialect) for table, given in shape)
    inserts: list[str] = []
    number = 0
    for (table, _given), plan in zip(shape, written, strict=True):
        arrays = []
        for column in plan.columns:
            number += 1
            arrays.append(f"${number}::{column.type.compile(dialect=dialect)}[]")
        names = ", ".join(quote(column.name) for column in plan.columns)
        rows = f"SELECT * FROM unnest({', '.join(arrays)})"  # noqa: S608 (placeholders and type names)
        inserts.append(f"INSERT INTO {quote(table.name)} ({names}) {rows}")
    *first, last = inserts
    if not first:
        return last, written
    ctes = ", ".join(
        f"{table.name}_rows AS ({insert})" for (table, _g), insert in zip(shape, first, strict=False)
    )
    return f"WITH {ctes} {last}", written


def _default_of(column: Column[Any]) -> Callable[[], Any]:
    """A column's Python-side default (scalar or callable) as a function of nothing."""
    default = column.default
    if isinstance(default, ScalarElementColumnDefault):
        value = default.arg
        return lambda: value
    if isinstance(default, CallableColumnDefault):
        make = default.arg
        return lambda: make(None)  # type: ignore[arg-type]  # wrapped by SQLAlchemy: takes a context, unused
    raise TypeError(f"column {column} has a default COPY cannot fill in: {default!r}")
