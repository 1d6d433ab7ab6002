"""The raw limits' database access: asyncpg on PostgreSQL, aiosqlite on SQLite, no SQLAlchemy and
no hub code (the drivers the hub itself runs on). SQL is written with ``?`` placeholders."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

import aiosqlite
import asyncpg


def dsn(database_url: str) -> str:
    """The driver's address for a SQLAlchemy URL (``postgresql+asyncpg://`` or ``sqlite+aiosqlite:///``)."""
    if database_url.startswith("sqlite"):
        return database_url.split(":///", 1)[1]
    return re.sub(r"^postgresql\+asyncpg://", "postgresql://", database_url)


def _numbered(sql: str) -> str:
    count = 0

    def number(_match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"${count}"

    return re.sub(r"\?", number, sql)


class RawDb:
    """A pool of ``size`` connections on PostgreSQL; one connection on SQLite (one writer anyway)."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.sqlite = database_url.startswith("sqlite")
        self.pool: asyncpg.Pool | None = None
        self.lite: aiosqlite.Connection | None = None
        self.turn = asyncio.Lock()  # SQLite: one transaction at a time on the one connection

    async def open(self, size: int = 1) -> RawDb:
        if self.sqlite:
            self.lite = await aiosqlite.connect(dsn(self.url), isolation_level=None)
            await self.lite.execute("PRAGMA journal_mode=WAL")
            await self.lite.execute("PRAGMA synchronous=NORMAL")
        else:
            self.pool = await asyncpg.create_pool(dsn(self.url), min_size=size, max_size=size)
        return self

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        if self.lite is not None:
            await self.lite.close()

    async def execute(self, sql: str, *args: Any) -> None:
        """One statement in a transaction of its own."""
        if self.lite is not None:
            async with self.turn:
                await self.lite.execute("BEGIN IMMEDIATE")
                await self.lite.execute(sql, args)
                await self.lite.commit()
            return
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            await conn.execute(_numbered(sql), *args)

    async def write(self, table: str, columns: Sequence[str], records: Sequence[tuple[Any, ...]]) -> None:
        """Rows in one transaction: COPY on PostgreSQL, one multi-row executemany on SQLite."""
        if self.lite is not None:
            marks = ", ".join("?" for _ in columns)
            insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - our tables
            async with self.turn:
                await self.lite.execute("BEGIN IMMEDIATE")
                await self.lite.executemany(insert, records)
                await self.lite.commit()
            return
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            await conn.copy_records_to_table(table, records=records, columns=list(columns))

    async def relay_once(self, batch: int) -> int:
        """Claims due rows of ``raw_outbox`` (SKIP LOCKED), puts each in ``raw_mailbox``, marks them
        sent: the relay's work with nothing else. Returns how many."""
        if self.lite is not None:
            await self.lite.execute("BEGIN IMMEDIATE")
            cursor = await self.lite.execute(
                "SELECT id, recipient FROM raw_outbox WHERE status = 'pending' ORDER BY id LIMIT ?", (batch,)
            )
            claimed = list(await cursor.fetchall())
            await self.lite.executemany(
                "INSERT INTO raw_mailbox (recipient, outbox_id) VALUES (?, ?)",
                [(r[1], r[0]) for r in claimed],
            )
            await self.lite.executemany(
                "UPDATE raw_outbox SET status = 'sent' WHERE id = ?", [(r[0],) for r in claimed]
            )
            await self.lite.commit()
            return len(claimed)
        assert self.pool is not None
        async with self.pool.acquire() as conn, conn.transaction():
            claimed = await conn.fetch(
                "SELECT id, recipient FROM raw_outbox WHERE status = 'pending' ORDER BY id LIMIT $1 "
                "FOR UPDATE SKIP LOCKED",
                batch,
            )
            await conn.executemany(
                "INSERT INTO raw_mailbox (recipient, outbox_id) VALUES ($1, $2)",
                [(r[1], r[0]) for r in claimed],
            )
            await conn.execute(
                "UPDATE raw_outbox SET status = 'sent' WHERE id = ANY($1)", [r[0] for r in claimed]
            )
            return len(claimed)
