"""Alembic environment. Migrations always run through ``hub.database.migrate``, which hands a
connection over in ``config.attributes``; ``alembic`` on the command line works too."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

import hub.models  # noqa: F401 - registers every table on the metadata
from hub.database import engine_from_settings
from hub.kit.db import Base, UtcDateTime
from hub.settings import get_settings

target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Revisions use plain SQLAlchemy types, never the hub's own (they must not change under them)."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=_render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = engine_from_settings(get_settings())
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_online())
