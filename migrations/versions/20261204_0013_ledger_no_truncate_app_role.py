"""the ledger refuses TRUNCATE; the restricted application role hub_app

Revision ID: 20261204_0013
Revises: 20261201_0012
Create Date: 2026-12-04 01:30:00

PostgreSQL only (SQLite has neither triggers on TRUNCATE nor roles). ``hub_app`` is the role the
hub runs as in production (README, "Production database role"): it reads and writes the tables,
only reads and appends to the ledger, and can neither truncate, alter nor create anything. It is
NOLOGIN: a login role of the deployment's own is granted it (``GRANT hub_app TO hub_web``). Roles
belong to the whole server, so it is created only if missing and never dropped here.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261204_0013"
down_revision: str | None = "20261201_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "hub_app"
LEDGER = ("ledger_entries", "ledger_transactions")
READ_WRITE = "SELECT, INSERT, UPDATE, DELETE"
DEFAULTS = "ALTER DEFAULT PRIVILEGES IN SCHEMA public"  # for what the migrating role creates later

CREATE_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
    END IF;
EXCEPTION
    -- Another database of the same server created it meanwhile (migrations run side by side).
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The append-only trigger (20261123_0006) is per row: TRUNCATE fires no row trigger.
    for table in LEDGER:
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()"
        )
    op.execute(CREATE_ROLE)
    # No DDL: before PostgreSQL 15 every role may create tables in the public schema.
    op.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT {READ_WRITE} ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"REVOKE UPDATE, DELETE ON {', '.join(LEDGER)} FROM {APP_ROLE}")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    # Tables and sequences of later revisions (created by the role that migrates): the same rights;
    # a later append-only table revokes UPDATE and DELETE in its own revision, as above.
    op.execute(f"{DEFAULTS} GRANT {READ_WRITE} ON TABLES TO {APP_ROLE}")
    op.execute(f"{DEFAULTS} GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"{DEFAULTS} REVOKE {READ_WRITE} ON TABLES FROM {APP_ROLE}")
    op.execute(f"{DEFAULTS} REVOKE USAGE, SELECT ON SEQUENCES FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")
    for table in LEDGER:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
