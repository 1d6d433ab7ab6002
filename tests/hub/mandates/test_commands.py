"""``hub mandates import FILE.csv`` and ``hub mandates expire`` as users run them: each row issued or
held, bad rows listed by line; lapsed mandates expired once."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from hub.cli import app
from hub.database import create_engine
from hub.mandates.models import Mandate
from hub.mandates.service import lifecycle
from hub.messaging.models import StoredMessage
from hub.settings import get_settings
from tests.conftest import postgres_database
from tests.hub.cases.test_commands import HEADER
from tests.hub.test_cli import HUB, hub, hub_env, serving  # noqa: F401 - the CLI fixture


def test_import_issues_holds_and_lists_bad_rows(hub_env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    cases = tmp_path / "cases.csv"
    cases.write_text(
        HEADER.replace("\n", ",debtor.address.line1,debtor.address.postcode,debtor.address.city\n")
        + "C-RICH,Banque,person,Jean,75,500000,consumer,judgment,2025-01-02,2000000,1 rue A,75011,Paris\n"
        + "C-POOR,Banque,person,Anne,75,2000,consumer,judgment,2025-01-02,,2 rue B,75011,Paris\n"
        + "C-NOTITLE,Banque,person,Paul,75,500000,consumer,,,2000000,3 rue C,75011,Paris\n",
        encoding="utf-8",
    )
    mandates = tmp_path / "mandates.csv"
    mandates.write_text(
        "case_ref,office_code,kind,acts[],fee_budget_cents\n"
        "C-RICH,CJ75001,per_act,SERVE_TITLE,\n"
        "C-POOR,CJ75001,per_act,PAYMENT_ORDER,\n"
        "C-NOTITLE,CJ75001,per_act,BANK_GARNISHMENT,\n"
        "C-NONE,CJ75001,per_act,SERVE_TITLE,\n"
        "C-RICH,CJ75001,whole_file,SERVE_TITLE,\n",
        encoding="utf-8",
    )
    hub(hub_env, "migrate")
    hub(hub_env, "offices", "add", "CJ75001", "--name", "Étude de Paris", "--departements", "75")
    hub(hub_env, "cases", "import", str(cases))
    result = hub(hub_env, "mandates", "import", str(mandates), ok=False)
    assert result.returncode == 1
    assert "2 mandate(s) imported (1 held for review), 3 row(s) rejected" in result.stdout
    assert "line 4: acts[0]: No enforceable title" in result.stderr
    assert "line 5: case_ref: no case with ref C-NONE [case.not_found]" in result.stderr
    assert "line 6: fee_budget_cents:" in result.stderr and "line 6: acts:" in result.stderr


@pytest.mark.parametrize(("seconds", "reads"), [("3600", 1), ("0", 4)])
def test_an_import_reads_the_learned_rates_as_the_snapshot_says(
    hub_env: dict[str, str],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    seconds: str,
    reads: int,
) -> None:
    """Each row's checks use the learned rates read at most every HUB_LEARNED_RATES_SECONDS (ADR
    0016): an import of four rows reads the tallies once, or for every row with 0."""
    cases = tmp_path / "cases.csv"
    cases.write_text(
        HEADER.replace("\n", ",debtor.address.line1,debtor.address.postcode,debtor.address.city\n")
        + "".join(
            f"C-{n},Banque,person,Jean,75,500000,consumer,judgment,2025-01-02,2000000,{n} rue A,75011,Paris\n"
            for n in range(4)
        ),
        encoding="utf-8",
    )
    mandates = tmp_path / "mandates.csv"
    mandates.write_text(
        "case_ref,office_code,kind,acts[]\n"
        + "".join(f"C-{n},CJ75001,per_act,SERVE_TITLE\n" for n in range(4)),
        encoding="utf-8",
    )
    hub(hub_env, "migrate")
    hub(hub_env, "offices", "add", "CJ75001", "--name", "Étude de Paris", "--departements", "75")
    hub(hub_env, "cases", "import", str(cases))
    for name in ("HUB_DATABASE_URL", "HUB_AMQP_URL", "HUB_ENV"):
        monkeypatch.setenv(name, hub_env[name])
    monkeypatch.setenv("HUB_LEARNED_RATES_SECONDS", seconds)
    monkeypatch.setattr(lifecycle.RATES, "max_age", lifecycle.RATES.max_age)  # restored after the test
    get_settings.cache_clear()
    tallies: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "FROM act_report_tallies" in statement:
            tallies.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        result = CliRunner().invoke(app, ["mandates", "import", str(mandates)])
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "4 mandate(s) imported" in result.output
    assert len(tallies) == reads


def run_at_once(command: list[str], env: dict[str, str], logs: list[Path]) -> list[int]:
    """Starts ``command`` once per log at the same moment; each one's exit status."""
    runs = [
        subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT) for log in logs
    ]
    return [run.wait(timeout=300) for run in runs]


SUMMARY = re.compile(r"(\d+) mandate\(s\) imported \(\d+ held for review(?:, (\d+) already imported)?\)")


@pytest.mark.postgres
async def test_two_runs_of_one_file_at_once_create_each_mandate_once(tmp_path: Path) -> None:
    """Two operators import the same file at the same moment on PostgreSQL: each mandate is created
    and sent once, and a row the other run created while this one waited for its debtor counts as
    already imported, not as refused."""
    rows = 200
    cases = tmp_path / "cases.csv"
    cases.write_text(
        HEADER.replace("\n", ",debtor.address.line1,debtor.address.postcode,debtor.address.city\n")
        + "".join(
            f"C-{n},Banque,person,D{n},75,500000,consumer,judgment,2025-01-02,2000000,{n} rue A,75011,Paris\n"
            for n in range(rows)
        ),
        encoding="utf-8",
    )
    mandates = tmp_path / "mandates.csv"
    mandates.write_text(
        "case_ref,office_code,kind,acts[]\n"
        + "".join(f"C-{n},CJ75001,per_act,SERVE_TITLE\n" for n in range(rows)),
        encoding="utf-8",
    )
    async with postgres_database() as url:
        env = {**os.environ, "HUB_DATABASE_URL": url, "HUB_AMQP_URL": "", "HUB_ENV": "development"}
        hub(env, "offices", "add", "CJ75001", "--name", "Étude de Paris", "--departements", "75")
        hub(env, "cases", "import", str(cases))
        command = [*HUB, "mandates", "import", str(mandates), "--chunk", "10"]
        logs = [tmp_path / f"run-{n}.log" for n in range(2)]
        statuses = await asyncio.to_thread(run_at_once, command, env, logs)
        outputs = [log.read_text() for log in logs]
        assert statuses == [0, 0], outputs
        found = [SUMMARY.search(output) for output in outputs]
        assert all(found), outputs
        imported = sum(int(m.group(1)) for m in found if m)
        already = sum(int(m.group(2) or 0) for m in found if m)
        assert (imported, already) == (rows, rows), outputs
        engine = create_engine(url)
        async with engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(Mandate)) == rows
            sent = select(func.count()).where(StoredMessage.kind == "mandate")
            assert await conn.scalar(sent) == rows
        await engine.dispose()


def test_expire_expires_lapsed_mandates_once(hub_env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    cases = tmp_path / "cases.csv"
    cases.write_text(
        HEADER.replace("\n", ",debtor.address.line1,debtor.address.postcode,debtor.address.city\n")
        + "C-A,Banque,person,Jean,75,500000,consumer,judgment,2025-01-02,2000000,1 rue A,75011,Paris\n"
        + "C-B,Banque,person,Anne,75,500000,consumer,judgment,2025-01-02,2000000,2 rue B,75011,Paris\n",
        encoding="utf-8",
    )
    mandates = tmp_path / "mandates.csv"
    mandates.write_text(
        "ref,case_ref,office_code,kind,acts[]\nM-LAPSED,C-A,CJ75001,per_act,SERVE_TITLE\n"
        "M-VALID,C-B,CJ75001,per_act,SERVE_TITLE\n",
        encoding="utf-8",
    )
    hub(hub_env, "migrate")
    hub(hub_env, "offices", "add", "CJ75001", "--name", "Étude de Paris", "--departements", "75")
    hub(hub_env, "cases", "import", str(cases))
    hub(hub_env, "mandates", "import", str(mandates))
    assert hub(hub_env, "mandates", "expire").stdout.splitlines() == ["0 mandate(s) expired"]

    async def lapse() -> None:
        engine = create_engine(hub_env["HUB_DATABASE_URL"])
        async with engine.begin() as conn:
            lapsed = datetime(2026, 1, 1, tzinfo=UTC)
            await conn.execute(update(Mandate).where(Mandate.ref == "M-LAPSED").values(expires_at=lapsed))
        await engine.dispose()

    asyncio.run(lapse())
    assert hub(hub_env, "mandates", "expire").stdout.splitlines() == ["M-LAPSED", "1 mandate(s) expired"]
    assert hub(hub_env, "mandates", "expire").stdout.splitlines() == ["0 mandate(s) expired"]


ROWS = 200


def many_cases_and_mandates(env: dict[str, str], folder: Path) -> Path:
    """An office, ``ROWS`` cases, and a mandates file of one issued mandate per case (no ref column)."""
    cases, mandates = folder / "cases.csv", folder / "mandates.csv"
    header = HEADER.replace("\n", ",debtor.address.line1,debtor.address.postcode,debtor.address.city\n")
    cases.write_text(
        header
        + "".join(
            f"C-{i:04d},Banque,person,Debtor {i},75,500000,consumer,judgment,2025-01-02,2000000,"
            f"{i} rue A,75011,Paris\n"
            for i in range(ROWS)
        ),
        encoding="utf-8",
    )
    mandates.write_text(
        "case_ref,office_code,kind,acts[],fee_budget_cents\n"
        + "".join(f"C-{i:04d},CJ75001,per_act,SERVE_TITLE,\n" for i in range(ROWS)),
        encoding="utf-8",
    )
    hub(env, "migrate")
    hub(env, "offices", "add", "CJ75001", "--name", "Étude de Paris", "--departements", "75")
    hub(env, "cases", "import", str(cases))
    return mandates


def query(env: dict[str, str], sql: str) -> list[tuple[object, ...]]:
    """What a reader sees in the SQLite file now (WAL: it waits for no writer)."""
    with sqlite3.connect(env["HUB_DATABASE_URL"].split(":///", 1)[1], timeout=30) as db:
        return db.execute(sql).fetchall()


def mandates_count(env: dict[str, str]) -> int:
    (count,) = query(env, "SELECT count(*) FROM mandates")[0]
    assert isinstance(count, int)
    return count


def assert_every_row_once_and_whole(env: dict[str, str], rows: int) -> None:
    """Each case has at most one mandate, each mandate its log and its one message in the outbox."""
    assert query(env, "SELECT case_id FROM mandates GROUP BY case_id HAVING count(*) > 1") == []
    assert mandates_count(env) == rows
    assert query(env, "SELECT status, count(*) FROM mandates GROUP BY status") == (
        [("issued", rows)] if rows else []
    )
    logged = "SELECT count(DISTINCT mandate_id) FROM mandate_events WHERE to_status = 'issued'"
    assert query(env, logged) == [(rows,)]
    sent = (
        "SELECT m.recipient, count(*) FROM messages m JOIN outbox o ON o.message_pk = m.id "
        "WHERE m.kind = 'mandate' GROUP BY m.recipient"
    )
    assert query(env, sent) == ([("CJ75001", rows)] if rows else [])


def test_import_killed_halfway_while_serve_runs_then_run_again_creates_each_mandate_once(
    hub_env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    """The operator's story: ``hub serve`` runs (its relay delivers what the import queues, its
    sweeper runs), the import is killed after its first transactions, and run again."""
    mandates = many_cases_and_mandates(hub_env, tmp_path)
    env = {**hub_env, "HUB_MANDATE_EXPIRY_SWEEP_SECONDS": "0.5"}
    with serving(env):
        importing = subprocess.Popen(
            [*HUB, "mandates", "import", str(mandates)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "import.err").open("wb"),
        )
        try:
            deadline = time.monotonic() + 60
            while mandates_count(env) == 0:
                assert importing.poll() is None, (tmp_path / "import.err").read_text()[-500:]
                assert time.monotonic() < deadline, "no mandate committed within 60 s"
                time.sleep(0.05)
            importing.send_signal(signal.SIGKILL)
        finally:
            importing.wait(timeout=30)
        killed_at = mandates_count(env)
        assert 0 < killed_at < ROWS
        assert_every_row_once_and_whole(env, killed_at)  # what was committed is whole

        again = hub(env, "mandates", "import", str(mandates))
        assert (
            f"{ROWS - killed_at} mandate(s) imported (0 held for review, {killed_at} already imported)"
            in (again.stdout)
        )
        assert_every_row_once_and_whole(env, ROWS)
        third = hub(env, "mandates", "import", str(mandates))
        assert f"0 mandate(s) imported (0 held for review, {ROWS} already imported)" in third.stdout
    assert_every_row_once_and_whole(env, ROWS)


def test_a_writer_that_waits_in_vain_prints_one_line_and_keeps_nothing(
    hub_env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    mandates = tmp_path / "mandates.csv"
    mandates.write_text(
        "case_ref,office_code,kind,acts[]\nC-1,CJ75001,per_act,SERVE_TITLE\n", encoding="utf-8"
    )
    hub(hub_env, "migrate")
    env = {**hub_env, "HUB_SQLITE_BUSY_TIMEOUT": "0.5"}
    holder = sqlite3.connect(env["HUB_DATABASE_URL"].split(":///", 1)[1], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, for longer than the busy timeout
    try:
        failed = [
            hub(env, "mandates", "import", str(mandates), ok=False),
            hub(env, "offices", "add", "CJ75001", "--name", "Étude", "--departements", "75", ok=False),
            hub(env, "keys", "create", "CJ75001", ok=False),
        ]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    for result in failed:
        assert result.returncode == 1, result.stdout + result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr[:2000]
        assert lines[0].startswith("error: the database is busy (another writer held it for 0.5 s)")
        assert "run it again" in lines[0]
        for leak in ("Traceback", "INSERT", "SELECT", "[parameters"):
            assert leak not in result.stderr
    assert "nothing was imported" in failed[0].stderr
    assert query(env, "SELECT count(*) FROM offices") == [(0,)]
