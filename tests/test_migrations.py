"""The Alembic revisions are the schema: same revisions on SQLite and PostgreSQL, no drift from the models."""

from __future__ import annotations

import uuid
import warnings
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import hub.models  # noqa: F401
from hub.acts.models import ActReport
from hub.cases.models import Case, Creditor, Debtor
from hub.database import MIGRATIONS_DIR, alembic_config, create_engine, migrate, session_factory, unit_of_work
from hub.kit.db import Base
from hub.ledger import service as ledger
from hub.ledger.postings import (
    COLLECTED_BY_OFFICE,
    COLLECTION,
    REMITTANCE,
    Posting,
    collection_postings,
    remittance_postings,
)
from hub.mandates.models import Mandate
from hub.messaging.models import StoredMessage
from hub.offices.models import Office
from tests.conftest import database_like
from tests.hub.acts.factories import Seeded, seed
from tests.hub.ledger.factories import kept_money, kept_months, ledger_money, ledger_months, posted_on


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    with warnings.catch_warnings():
        # SQLite's expression indexes (ix_mandates_working_quiet_since) cannot be reflected, so not
        # compared there: PostgreSQL compares them.
        warnings.filterwarnings("ignore", ".*expression-based index")
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


def _downgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, revision)


def _office_columns(connection: Connection) -> tuple[set[str], set[str], set[str]]:
    found = inspect(connection)
    return (
        {c["name"] for c in found.get_columns("offices")},
        {c["name"] for c in found.get_columns("receipts")},
        set(found.get_table_names()),
    )


async def test_office_bank_details_go_down_and_up_again(database_url: str, tmp_path: Path) -> None:
    """20261204_0018 on a database of its own: down to 0017 removes what it added, up puts it back."""
    async with database_like(database_url, tmp_path) as url:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(_downgrade, "20261204_0017")
                offices, receipts, tables = await conn.run_sync(_office_columns)
            assert not {"iban", "bic"} & offices and "invoice_id" not in receipts
            assert "office_events" not in tables
            await migrate(engine)
            async with engine.connect() as conn:
                offices, receipts, tables = await conn.run_sync(_office_columns)
            assert {"iban", "bic"} <= offices and "invoice_id" in receipts and "office_events" in tables
        finally:
            await engine.dispose()


def _case_update_columns(connection: Connection) -> tuple[set[str], set[str]]:
    found = inspect(connection)
    return {c["name"] for c in found.get_columns("cases")}, set(found.get_table_names())


async def test_case_updates_go_down_and_up_again(database_url: str, tmp_path: Path) -> None:
    """20261204_0019 on a database of its own: down to 0018 removes what it added, up puts it back."""
    added = {"debtor_deceased", "limitation_reached_on"}
    async with database_like(database_url, tmp_path) as url:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(_downgrade, "20261204_0018")
                cases, tables = await conn.run_sync(_case_update_columns)
            assert not added & cases and not {"case_updates", "case_update_notices"} & tables
            await migrate(engine)
            async with engine.connect() as conn:
                cases, tables = await conn.run_sync(_case_update_columns)
            assert added <= cases and {"case_updates", "case_update_notices"} <= tables
        finally:
            await engine.dispose()


async def test_remittances_go_down_and_up_again(database_url: str, tmp_path: Path) -> None:
    """20261204_0020 on a database of its own: down to 0019 removes its tables, up puts them back."""
    async with database_like(database_url, tmp_path) as url:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(_downgrade, "20261204_0019")
                tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert not {"remittances", "remittance_lines"} & tables and "ledger_entries" in tables
            await migrate(engine)
            async with engine.connect() as conn:
                tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert {"remittances", "remittance_lines"} <= tables
        finally:
            await engine.dispose()


def _messages_options(connection: Connection) -> list[str]:
    found = connection.exec_driver_sql("SELECT reloptions FROM pg_class WHERE relname = 'messages'")
    return list(found.scalar_one() or [])


@pytest.mark.postgres
async def test_messages_fillfactor_goes_down_and_up_again(postgres_url: str, tmp_path: Path) -> None:
    """20261205_0029 (PostgreSQL only): down to 0028 gives ``messages`` full pages again, up half filled."""
    async with database_like(postgres_url, tmp_path) as url:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                assert await conn.run_sync(_messages_options) == ["fillfactor=50"]
            async with engine.begin() as conn:
                await conn.run_sync(_downgrade, "20261204_0028")
                assert await conn.run_sync(_messages_options) == []
            await migrate(engine)
            async with engine.connect() as conn:
                assert await conn.run_sync(_messages_options) == ["fillfactor=50"]
        finally:
            await engine.dispose()


def _message_keys(connection: Connection) -> dict[str, set[str]]:
    """The tables among the relay's rows whose ``message_pk`` has a foreign key to ``messages``, with
    the indexes each keeps."""
    found = inspect(connection)
    keys: dict[str, set[str]] = {}
    for table in ("mailbox", "message_events"):
        if any(k["referred_table"] == "messages" for k in found.get_foreign_keys(table)):
            keys[table] = {i["name"] for i in found.get_indexes(table)}
    return keys


def _indexes(connection: Connection, table: str) -> set[str]:
    found = inspect(connection)
    return {i["name"] for i in found.get_indexes(table)} | {
        u["name"] for u in found.get_unique_constraints(table)
    }


async def test_relay_rows_foreign_keys_go_up_and_down_again(database_url: str, tmp_path: Path) -> None:
    """20261205_0030: down to 0029 gives the mailbox items and lifecycle steps their foreign keys to
    ``messages`` back, up drops them again; their indexes stay through both (SQLite rebuilds the
    tables)."""
    async with database_like(database_url, tmp_path) as url:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                assert await conn.run_sync(_message_keys) == {}
                before = {t: await conn.run_sync(_indexes, t) for t in ("mailbox", "message_events")}
            assert {
                "uq_mailbox_message_pk",
                "ix_mailbox_recipient_acked",
                "ix_mailbox_push_due_id",
            } <= before["mailbox"]
            assert "ix_message_events_message_pk" in before["message_events"]
            async with engine.begin() as conn:
                await conn.run_sync(_downgrade, "20261205_0029")
                assert set(await conn.run_sync(_message_keys)) == {"mailbox", "message_events"}
            await migrate(engine)
            async with engine.connect() as conn:
                assert await conn.run_sync(_message_keys) == {}
                after = {t: await conn.run_sync(_indexes, t) for t in ("mailbox", "message_events")}
            assert after == before
        finally:
            await engine.dispose()


def _index_rows(connection: Connection, table: str) -> dict[str, str | None]:
    """The table's indexes, each with the rows it holds (its predicate; None: every row)."""
    found = inspect(connection)
    where = {
        i["name"]: i.get("dialect_options", {}).get(f"{connection.dialect.name}_where")
        for i in found.get_indexes(table)
    }
    return {name: None if rows is None else str(rows) for name, rows in where.items()}


async def test_worklist_read_indexes_go_down_and_up_again(database_url: str, tmp_path: Path) -> None:
    """20261205_0033: down to 0032 gives the hold notices their index of every notice's deadline back
    and drops the acts' by day, up keeps the notices not acknowledged alone and adds the acts' again."""
    async with database_like(database_url, tmp_path) as url:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                notices = await conn.run_sync(_index_rows, "hold_notices")
                acts = await conn.run_sync(_indexes, "act_reports")
            assert "ix_hold_notices_ack_due_by" not in notices
            assert "acknowledged_at IS NULL" in str(notices["ix_hold_notices_unacknowledged_ack_due_by"])
            assert "ix_act_reports_act_date" in acts
            async with engine.begin() as conn:
                await conn.run_sync(_downgrade, "20261205_0032")
                down = await conn.run_sync(_index_rows, "hold_notices")
                assert "ix_act_reports_act_date" not in await conn.run_sync(_indexes, "act_reports")
            assert "ix_hold_notices_unacknowledged_ack_due_by" not in down
            assert down["ix_hold_notices_ack_due_by"] is None
            await migrate(engine)
            async with engine.connect() as conn:
                assert await conn.run_sync(_index_rows, "hold_notices") == notices
                assert await conn.run_sync(_indexes, "act_reports") == acts
        finally:
            await engine.dispose()


def _mandates_before_0034(connection: Connection) -> dict[str, uuid.UUID]:
    """At 20261205_0033: an office, a case, three mandates and their act reports (the first two acts,
    reported newest first; the second one act; the third none), written by Core with the columns that
    revision has."""
    office, creditor, debtor, case, message = (uuid.uuid4() for _ in range(5))
    connection.execute(insert(Office.__table__).values(id=office, code="CJ34", name="Etude"))
    connection.execute(insert(Creditor.__table__).values(id=creditor, name="Banque"))
    connection.execute(insert(Debtor.__table__).values(id=debtor, kind="person", name="Jean"))
    connection.execute(
        insert(Case.__table__).values(
            id=case, ref="C-34", creditor_id=creditor, debtor_id=debtor, claim_kind="consumer",
            principal_cents=250_000, currency="EUR",
        )
    )  # fmt: skip
    connection.execute(
        insert(StoredMessage.__table__).values(
            id=message, direction="inbound", message_id="CR-34", kind="act_report", sender="CJ34",
            recipient="AGENCY", content_type="application/json", body=b"{}", sha256="0" * 64,
            status="applied",
        )
    )  # fmt: skip
    mandates = {ref: uuid.uuid4() for ref in ("M-TWO", "M-ONE", "M-NONE")}
    for ref, mandate in mandates.items():
        connection.execute(
            insert(Mandate.__table__).values(
                id=mandate, ref=ref, case_id=case, office_id=office, kind="per_act", acts=[],
                currency="EUR", status="in_progress", created_by="a@b.c",
                issued_at=datetime(2026, 1, 5, 23, 30, tzinfo=UTC),
            )
        )  # fmt: skip
    acts = [("M-TWO", date(2026, 3, 10)), ("M-TWO", date(2026, 2, 1)), ("M-ONE", date(2026, 2, 20))]
    for n, (ref, on) in enumerate(acts):
        connection.execute(
            insert(ActReport.__table__).values(
                mandate_id=mandates[ref], case_id=case, office_id=office, message_pk=message,
                act_code="SERVE_TITLE", act_date=on, outcome_code="served", office_reference=f"R{n}",
                currency="EUR",
            )
        )  # fmt: skip
    return mandates


def _last_acts(connection: Connection) -> dict[str, date | None]:
    rows = connection.execute(select(Mandate.ref, Mandate.last_act_on).where(Mandate.ref.like("M-%")))
    return {ref: on for ref, on in rows.all()}


async def test_mandates_last_act_goes_down_and_up_again_filled_from_the_reports(
    database_url: str, tmp_path: Path
) -> None:
    """20261205_0034: down to 0033 drops ``mandates.last_act_on``, its trigger and the stale mandates'
    index; up adds them, the column filled from the act reports stored meanwhile (the latest of
    each mandate's, None for a mandate of none), and the trigger keeps it from then on."""
    async with database_like(database_url, tmp_path) as url:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(_downgrade, "20261205_0033")
                columns = await conn.run_sync(
                    lambda c: {x["name"] for x in inspect(c).get_columns("mandates")}
                )
                assert "last_act_on" not in columns
                assert "ix_mandates_working_quiet_since" not in await conn.run_sync(_indexes, "mandates")
                mandates = await conn.run_sync(_mandates_before_0034)
            await migrate(engine)
            async with engine.begin() as conn:
                if conn.dialect.name == "postgresql":  # SQLite's expression index cannot be reflected
                    assert "ix_mandates_working_quiet_since" in await conn.run_sync(_indexes, "mandates")
                assert await conn.run_sync(_last_acts) == {
                    "M-TWO": date(2026, 3, 10),
                    "M-ONE": date(2026, 2, 20),
                    "M-NONE": None,
                }
                row = (await conn.execute(select(ActReport.__table__).limit(1))).mappings().one()
                later = {"id": uuid.uuid4(), "mandate_id": mandates["M-NONE"], "act_date": date(2026, 4, 1)}
                await conn.execute(
                    insert(ActReport.__table__).values({**row, **later, "office_reference": "R9"})
                )
                assert (await conn.run_sync(_last_acts))["M-NONE"] == date(2026, 4, 1)
        finally:
            await engine.dispose()


async def test_money_held_goes_down_and_up_again_filled_from_the_ledger(
    database_url: str, tmp_path: Path
) -> None:
    """20261205_0035: down to the revision before drops the money held and its trigger; up fills
    them from the ledger's entries (collections, remittances, a reversal of each), as the trigger had
    kept them."""
    revision = ScriptDirectory.from_config(alembic_config()).get_revision("20261205_0035")
    before_revision = revision.down_revision if revision is not None else None
    assert isinstance(before_revision, str)
    kept = {"money_held", "money_collected_days"}
    async with database_like(database_url, tmp_path) as url:
        engine = create_engine(url)
        try:
            s, other, ids = await seeded_and_moved(engine)
            async with unit_of_work(session_factory(engine)) as session:
                money = await kept_money(session, ids)
                assert money == await ledger_money(session, ids)
            assert money[0] == {
                (s.office.id, s.case.id, "EUR"): 700 - 200,
                (s.office.id, s.case.id, "USD"): 300,
                (s.office.id, other.case.id, "EUR"): 0,
            }
            async with engine.begin() as conn:
                await conn.run_sync(_downgrade, before_revision)
                assert not kept & await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            await migrate(engine)
            async with unit_of_work(session_factory(engine)) as session:
                assert await kept_money(session, ids) == money
        finally:
            await engine.dispose()


async def test_the_offices_months_go_down_and_up_again_filled_from_the_ledger(
    database_url: str, tmp_path: Path
) -> None:
    """20261206_0038: down to the revision before drops the offices' months and their trigger; up
    fills them from the ledger's entries (in the month of each transaction, a reversal's in its own),
    as the trigger had kept them."""
    async with database_like(database_url, tmp_path) as url:
        engine = create_engine(url)
        try:
            s, _, ids = await seeded_and_moved(engine)
            async with unit_of_work(session_factory(engine)) as session:
                months = await kept_months(session, ids)
                assert months == await ledger_months(session, ids)
            april = (s.office.id, date(2026, 4, 1), COLLECTED_BY_OFFICE, "EUR")
            assert months[april] == -900 + 100  # the collection and the remittance reversed in April
            async with engine.begin() as conn:
                await conn.run_sync(_downgrade, "20261205_0037")
                assert "ledger_office_months" not in await conn.run_sync(
                    lambda c: set(inspect(c).get_table_names())
                )
            await migrate(engine)
            async with unit_of_work(session_factory(engine)) as session:
                assert await kept_months(session, ids) == months
        finally:
            await engine.dispose()


async def seeded_and_moved(engine: AsyncEngine) -> tuple[Seeded, Seeded, list[uuid.UUID]]:
    """Two cases of one office with money ``moved`` on them, committed; their office's id."""
    async with unit_of_work(session_factory(engine)) as session:
        s = await seed(session)
        other = await seed(session, office=s.office)
        return s, other, await moved(session, s, other)


async def moved(session: AsyncSession, s: Seeded, other: Seeded) -> list[uuid.UUID]:
    """Money collected and remitted on ``s``'s and ``other``'s cases, one collection and one
    remittance reversed; their office's id."""
    on = date(2026, 3, 2)

    async def post(who: Seeded, kind: str, postings: list[Posting], day: date = on) -> uuid.UUID:
        return (await posted_on(session, who, kind, postings, day)).id

    wrong = await post(s, COLLECTION, collection_postings(collected_cents=900, currency="EUR"))
    await post(s, COLLECTION, collection_postings(collected_cents=700, currency="EUR"), date(2026, 1, 5))
    await post(s, COLLECTION, collection_postings(collected_cents=300, currency="USD"))
    await post(s, REMITTANCE, remittance_postings(remitted_cents=200, currency="EUR"))
    bounced = await post(s, REMITTANCE, remittance_postings(remitted_cents=100, currency="EUR"))
    await post(other, COLLECTION, collection_postings(collected_cents=400, currency="EUR"))
    await post(other, REMITTANCE, remittance_postings(remitted_cents=400, currency="EUR"))
    await ledger.reverse(session, wrong, reason="typed twice", effective_on=date(2026, 4, 1))
    await ledger.reverse(session, bounced, reason="bounced", effective_on=date(2026, 4, 1))
    return [s.office.id]
