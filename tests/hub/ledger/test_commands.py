"""``hub ledger remit|reverse`` as users run them: the posting printed, refusals with their code. The
commands run in-process (typer's runner; a ``hub`` subprocess costs seconds of imports each)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from hub.cli import app
from hub.database import create_engine, migrate, session_factory, unit_of_work
from hub.settings import get_settings
from hub.staff import service as staff
from hub.staff.models import Role
from tests.hub.acts.factories import seed
from tests.hub.finance.factories import act


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    monkeypatch.setenv("HUB_DATABASE_URL", url)
    monkeypatch.setenv("HUB_AMQP_URL", "")
    monkeypatch.setenv("HUB_ENV", "development")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


async def _collected(url: str) -> str:
    """A migrated database with a finance account and an office that collected 5,000 cents on a case."""
    engine = create_engine(url)
    try:
        await migrate(engine)
        async with unit_of_work(session_factory(engine)) as session:
            await staff.add_staff(session, "compta@agence.example", Role.FINANCE)
            s = await seed(session, code="CJ75001")
            await act(session, s, date(2026, 2, 2), collected=5000)
            return s.case.ref
    finally:
        await engine.dispose()


def hub(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_remit_then_reverse_from_the_command_line(database: str) -> None:
    case_ref = asyncio.run(_collected(database))
    remit = ("ledger", "remit", "--office", "CJ75001", "--case", case_ref, "--reference", "VIR-9")
    by = ("--on", "2026-02-10", "--by", "compta@agence.example")

    too_much = hub(*remit, "--cents", "5001", *by)
    assert too_much.exit_code == 1 and "ledger.remittance_above_collected" in too_much.stderr
    done = hub(*remit, "--cents", "5000", *by)
    assert done.exit_code == 0, done.output
    assert "by compta@agence.example" in done.stdout
    assert re.search(r"remitted_to_agency +5000 EUR", done.stdout)
    assert re.search(r"collected_by_office +-5000 EUR", done.stdout)
    transaction = re.search(r"^remittance (\S+) on 2026-02-10", done.stdout, re.M)
    assert transaction is not None

    reverse = ("ledger", "reverse", transaction[1], "--reason", "wrong case")
    reversed_ = hub(*reverse, *by)
    assert reversed_.exit_code == 0 and re.search(r"remitted_to_agency +-5000 EUR", reversed_.stdout)
    twice = hub(*reverse, *by)
    assert twice.exit_code == 1 and "ledger.already_reversed" in twice.stderr
    nobody = hub(*reverse, "--on", "2026-02-10", "--by", "nobody@agence.example")
    assert nobody.exit_code == 1 and "ledger.unknown_staff" in nobody.stderr
    cents = hub(*remit, "--cents", "0", *by)
    assert cents.exit_code == 2
