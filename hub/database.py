"""Engine, sessions and migrations. The edge (a request, a consumed message, a CLI command) owns
the transaction: services receive a session and never commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from hub.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    if database_url.startswith("sqlite"):
        engine = create_async_engine(database_url, **kwargs)
        event.listen(engine.sync_engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(database_url, **kwargs)


def engine_from_settings(settings: Settings) -> AsyncEngine:
    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    return create_engine(settings.database_url)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends normally, rolled back on any exception."""
    async with factory() as session, session.begin():
        yield session


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
