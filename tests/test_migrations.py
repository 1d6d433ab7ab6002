"""The Alembic revisions are the schema: same revisions on SQLite and PostgreSQL, no drift from the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import hub.models  # noqa: F401
from hub.database import MIGRATIONS_DIR, alembic_config
from hub.kit.db import Base


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == [], f"models and migrations differ; write a revision: {diff}"


async def test_every_table_exists_after_upgrade(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= tables


def test_revisions_are_date_prefixed_and_linear() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    heads = script.get_heads()
    assert len(heads) == 1, f"several heads: {heads}"
    for revision in script.walk_revisions():
        assert revision.revision[:8].isdigit(), f"{revision.revision} is not date-prefixed (YYYYMMDD_NNNN)"
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        assert path.name[:8].isdigit(), f"{path.name} is not date-prefixed"
