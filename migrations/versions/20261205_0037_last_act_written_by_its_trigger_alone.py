"""mandates.last_act_on is written by the act reports' trigger alone

Revision ID: 20261205_0037
Revises: 20261205_0036
Create Date: 2026-12-05 22:10:00

PostgreSQL only. ``mandates.last_act_on`` (20261205_0034) is the date of the mandate's last act
reported, kept by ``act_reports_last_act`` as act reports are inserted; the worklist's stale mandates
read it. No code of the hub writes it, and a write that did would leave a mandate stale or fresh
by mistake for good, without a sign. 0036 took the write rights on the other kept figures from
``hub_app``, but this one is a column of a table ``hub_app`` updates (a mandate's status, its
acknowledgement...), and PostgreSQL's column rights cannot take back what a table's grant gives.

So a row trigger refuses it instead, whoever the role: a mandate inserted with a last act, or an
update that changes it, unless the update comes from a trigger (``pg_trigger_depth()`` above 1: the
statement this guard fires for was itself run by a trigger, as ``act_reports_last_act``'s is). The
error is ``insufficient_privilege`` (42501), as the other kept figures' refusals. Loading with
triggers off (``session_replication_role = replica``, the scale rig) and the migrations' own
back-fills run before it, or without it, as they did.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261205_0037"
down_revision: str | None = "20261205_0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = (
    "permission denied for column last_act_on of table mandates: it is kept by the trigger "
    "act_reports_last_act (migration 20261205_0037)"
)
PG_GUARD = f"""
CREATE FUNCTION mandates_last_act_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$
"""
# Called only for a write of the column (their WHEN): nothing for the other inserts and updates.
PG_TRIGGERS = (
    "CREATE TRIGGER mandates_last_act_inserted BEFORE INSERT ON mandates FOR EACH ROW "
    "WHEN (NEW.last_act_on IS NOT NULL) EXECUTE FUNCTION mandates_last_act_kept()",
    "CREATE TRIGGER mandates_last_act_updated BEFORE UPDATE OF last_act_on ON mandates FOR EACH ROW "
    "WHEN (NEW.last_act_on IS DISTINCT FROM OLD.last_act_on) EXECUTE FUNCTION mandates_last_act_kept()",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(PG_GUARD)
    for trigger in PG_TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER mandates_last_act_updated ON mandates")
    op.execute("DROP TRIGGER mandates_last_act_inserted ON mandates")
    op.execute("DROP FUNCTION mandates_last_act_kept()")
