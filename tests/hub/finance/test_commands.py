"""``hub finance report`` as users run it: a table of the figures, the CSV files, clear errors."""

from __future__ import annotations

import asyncio
import csv
from datetime import date
from pathlib import Path

from hub.database import create_engine, session_factory, unit_of_work
from hub.finance import export
from hub.offices.repository import OfficeRepository
from tests.hub.acts.factories import seed
from tests.hub.finance.factories import act
from tests.hub.test_cli import hub, hub_env  # noqa: F401 - the CLI fixture


async def _acts(url: str) -> None:
    engine = create_engine(url)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            office = await OfficeRepository(session).get_by_code("CJ75001")
            s = await seed(session, office=office)
            await act(session, s, date(2026, 2, 2), collected=12_345)
            await act(session, s, date(2026, 3, 1))
    finally:
        await engine.dispose()


def test_report_prints_the_figures_and_writes_csv(hub_env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    hub(hub_env, "migrate")
    hub(hub_env, "offices", "add", "CJ75001", "--name", "Étude de Paris", "--departements", "75")
    asyncio.run(_acts(hub_env["HUB_DATABASE_URL"]))
    rec_csv, card_csv = tmp_path / "rec.csv", tmp_path / "card.csv"
    result = hub(
        hub_env,
        *("finance", "report", "--office", "CJ75001", "--from", "2026-02-01", "--to", "2026-03-01"),
        *("--csv", str(rec_csv), "--scorecard-csv", str(card_csv)),
    )
    out = result.stdout
    assert "Office CJ75001" in out and "Reconciliation" in out and "Scorecard" in out
    assert "61.90 EUR" in out  # fees reported: 51.58 + 10.32
    assert "123.45 EUR" in out and "61.55 EUR" in out  # collected, and net (123.45 - 61.90)
    with rec_csv.open(newline="", encoding="utf-8") as f:
        rec = list(csv.DictReader(f))
    assert tuple(rec[0]) == export.RECONCILIATION_COLUMNS and rec[0]["reported_cents"] == "6190"
    with card_csv.open(newline="", encoding="utf-8") as f:
        card = list(csv.DictReader(f))
    assert card[0]["act_code"] == "ALL" and card[0]["collected_cents"] == "12345"


def test_unknown_office_and_bad_period_are_clear_errors(hub_env: dict[str, str]) -> None:  # noqa: F811
    hub(hub_env, "migrate")
    hub(hub_env, "offices", "add", "CJ75001", "--name", "Étude de Paris", "--departements", "75")
    unknown = hub(
        hub_env,
        "finance",
        "report",
        "--office",
        "CJ00000",
        "--from",
        "2026-02-01",
        "--to",
        "2026-03-01",
        ok=False,
    )
    assert unknown.returncode == 1 and "error: no office CJ00000" in unknown.stderr
    backwards = hub(
        hub_env,
        "finance",
        "report",
        "--office",
        "CJ75001",
        "--from",
        "2026-03-01",
        "--to",
        "2026-02-01",
        ok=False,
    )
    assert backwards.returncode == 1 and "`to` must be after `from`" in backwards.stderr
    garbled = hub(
        hub_env,
        "finance",
        "report",
        "--office",
        "CJ75001",
        "--from",
        "2026-13-01",
        "--to",
        "2026-02-01",
        ok=False,
    )
    assert garbled.returncode == 2 and "not a date YYYY-MM-DD" in garbled.stderr
