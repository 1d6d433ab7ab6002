"""act report tallies learn the share of the balance recovered; evidence with dates; the creditor's VAT

Revision ID: 20261204_0017
Revises: 20261204_0016
Create Date: 2026-12-04 17:10:00

The cost flag's expected recovery from an asset nobody knows is the share of the balance owed that
such an act brought back in past reports ("amounts seized and collected"), not how often it was
"served". Each tally row now also sums, per report, the money seized and collected as a share of
the case's balance at the time, in basis points (a report that brought back the whole balance
counts 10000). The share is computed by the same trigger that counts the report, from the case's
balance in the same transaction, so every writing path (the ORM, a batch's multi-row INSERT, COPY)
keeps it without a statement more per report.

Existing reports are back-filled against their case's balance today (their balance at the time is
not kept): an approximation for history, exact from now on.

The guardrails read which insolvency proceedings are known (a hard block, or a review for a file
only lodged); the cost flag reads, from now on: when each piece of evidence was seen (a balance seen a year
ago is weak evidence), debits pending on a known account, a vehicle's value, and whether the
creditor reclaims the VAT it pays (most banks cannot).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_0017"
down_revision: str | None = "20261204_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The balance owed: principal + interest + costs - payments, never below zero (CaseFacts.outstanding_cents).
_OWED = "GREATEST(c.principal_cents + c.interest_cents + c.costs_cents - c.paid_cents, 0)"
_SHARE_PG = (
    f"CASE WHEN {_OWED} = 0 THEN 0 ELSE "
    f"LEAST(r.seized_cents + r.collected_cents, {_OWED}) * 10000 / {_OWED} END"
)
_OWED_SQLITE = "MAX(c.principal_cents + c.interest_cents + c.costs_cents - c.paid_cents, 0)"

PG_TALLY = f"""
CREATE OR REPLACE FUNCTION act_reports_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO act_report_tallies AS t
        (act_code, office_id, outcome_code, brought_money, slot, reports, recovered_bp)
    SELECT r.act_code, r.office_id, r.outcome_code, (r.seized_cents > 0 OR r.collected_cents > 0),
           floor(random() * 16)::smallint, count(*), sum({_SHARE_PG})
    FROM new_reports r JOIN cases c ON c.id = r.case_id
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (act_code, office_id, outcome_code, brought_money, slot)
    DO UPDATE SET reports = t.reports + EXCLUDED.reports,
                  recovered_bp = t.recovered_bp + EXCLUDED.recovered_bp;
    INSERT INTO mandate_act_tallies AS t (mandate_id, act_code, reports)
    SELECT mandate_id, act_code, count(*) FROM new_reports GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (mandate_id, act_code) DO UPDATE SET reports = t.reports + EXCLUDED.reports;
    RETURN NULL;
END
$$
"""
PG_TALLY_BEFORE = """
CREATE OR REPLACE FUNCTION act_reports_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO act_report_tallies AS t (act_code, office_id, outcome_code, brought_money, slot, reports)
    SELECT act_code, office_id, outcome_code, (seized_cents > 0 OR collected_cents > 0),
           floor(random() * 16)::smallint, count(*)
    FROM new_reports GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (act_code, office_id, outcome_code, brought_money, slot)
    DO UPDATE SET reports = t.reports + EXCLUDED.reports;
    INSERT INTO mandate_act_tallies AS t (mandate_id, act_code, reports)
    SELECT mandate_id, act_code, count(*) FROM new_reports GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (mandate_id, act_code) DO UPDATE SET reports = t.reports + EXCLUDED.reports;
    RETURN NULL;
END
$$
"""
SQLITE_TRIGGER = f"""
CREATE TRIGGER act_reports_tally AFTER INSERT ON act_reports
BEGIN
    INSERT INTO act_report_tallies
        (act_code, office_id, outcome_code, brought_money, slot, reports, recovered_bp)
    SELECT NEW.act_code, NEW.office_id, NEW.outcome_code,
           (NEW.seized_cents > 0 OR NEW.collected_cents > 0), 0, 1,
           CASE WHEN {_OWED_SQLITE} = 0 THEN 0 ELSE
                MIN(NEW.seized_cents + NEW.collected_cents, {_OWED_SQLITE}) * 10000 / {_OWED_SQLITE} END
    FROM cases c WHERE c.id = NEW.case_id
    ON CONFLICT (act_code, office_id, outcome_code, brought_money, slot)
    DO UPDATE SET reports = reports + 1, recovered_bp = recovered_bp + excluded.recovered_bp;
    INSERT INTO mandate_act_tallies (mandate_id, act_code, reports)
    VALUES (NEW.mandate_id, NEW.act_code, 1)
    ON CONFLICT (mandate_id, act_code) DO UPDATE SET reports = reports + 1;
END
"""
SQLITE_TRIGGER_BEFORE = """
CREATE TRIGGER act_reports_tally AFTER INSERT ON act_reports
BEGIN
    INSERT INTO act_report_tallies (act_code, office_id, outcome_code, brought_money, slot, reports)
    VALUES (NEW.act_code, NEW.office_id, NEW.outcome_code,
            (NEW.seized_cents > 0 OR NEW.collected_cents > 0), 0, 1)
    ON CONFLICT (act_code, office_id, outcome_code, brought_money, slot)
    DO UPDATE SET reports = reports + 1;
    INSERT INTO mandate_act_tallies (mandate_id, act_code, reports)
    VALUES (NEW.mandate_id, NEW.act_code, 1)
    ON CONFLICT (mandate_id, act_code) DO UPDATE SET reports = reports + 1;
END
"""


def _backfill(share: str) -> str:
    # Summed over the report's tally key; the first slot of each key takes the whole sum (slots
    # are summed on read).
    return (
        "UPDATE act_report_tallies SET recovered_bp = COALESCE(("
        f"SELECT sum({share}) FROM act_reports r JOIN cases c ON c.id = r.case_id "
        "WHERE r.act_code = act_report_tallies.act_code AND r.office_id = act_report_tallies.office_id "
        "AND r.outcome_code = act_report_tallies.outcome_code "
        "AND (r.seized_cents > 0 OR r.collected_cents > 0) = act_report_tallies.brought_money), 0) "
        "WHERE slot = (SELECT min(s.slot) FROM act_report_tallies s "
        "WHERE s.act_code = act_report_tallies.act_code AND s.office_id = act_report_tallies.office_id "
        "AND s.outcome_code = act_report_tallies.outcome_code "
        "AND s.brought_money = act_report_tallies.brought_money)"
    )


EVIDENCE = (
    ("insolvency_kind", sa.String(length=32)),
    ("bank_balance_seen_on", sa.Date()),
    ("pending_debits_cents", sa.BigInteger()),
    ("income_seen_on", sa.Date()),
    ("goods_valued_on", sa.Date()),
    ("vehicle_value_cents", sa.BigInteger()),
    ("vehicle_valued_on", sa.Date()),
)


def upgrade() -> None:
    with op.batch_alter_table("creditors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reclaims_vat", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name, kind in EVIDENCE:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table("act_report_tallies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recovered_bp", sa.BigInteger(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_backfill(_SHARE_PG))
        op.execute(PG_TALLY)
    else:
        share = _SHARE_PG.replace("GREATEST", "MAX").replace("LEAST", "MIN")
        op.execute(_backfill(share))
        op.execute("DROP TRIGGER IF EXISTS act_reports_tally")
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_TALLY_BEFORE)
    else:
        op.execute("DROP TRIGGER IF EXISTS act_reports_tally")
        op.execute(SQLITE_TRIGGER_BEFORE)
    with op.batch_alter_table("act_report_tallies", schema=None) as batch_op:
        batch_op.drop_column("recovered_bp")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name, _ in reversed(EVIDENCE):
            batch_op.drop_column(name)
    with op.batch_alter_table("creditors", schema=None) as batch_op:
        batch_op.drop_column("reclaims_vat")
