"""``hub worklist`` and ``hub worklist remind`` as staff run them: the table with each item's rule,
a reminder sent once a day (again only with --force), clear refusals."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from hub.database import create_engine, session_factory, unit_of_work
from hub.kit.clock import utcnow
from hub.offices.repository import OfficeRepository
from tests.hub.test_cli import hub, hub_env  # noqa: F401 - the CLI fixture
from tests.hub.worklist.factories import a_mandate


async def _quiet_mandate(url: str) -> str:
    engine = create_engine(url)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            office = await OfficeRepository(session).get_by_code("CJ75001")
            assert office is not None
            s = await a_mandate(session, office, status="acknowledged", issued=utcnow() - timedelta(days=45))
            return s.mandate.ref
    finally:
        await engine.dispose()


def test_the_worklist_table_and_a_reminder_from_the_command_line(hub_env: dict[str, str]) -> None:  # noqa: F811
    hub(hub_env, "migrate")
    assert "nothing waits for a person today" in hub(hub_env, "worklist").stdout
    hub(hub_env, "offices", "add", "CJ75001", "--name", "Étude de Paris", "--departements", "75")
    hub(hub_env, "staff", "add", "paul@agence.example", "--role", "staff")
    ref = asyncio.run(_quiet_mandate(hub_env["HUB_DATABASE_URL"]))

    table = hub(hub_env, "worklist", "--kind", "stale_mandate").stdout.splitlines()
    assert table[0].split()[:3] == ["KIND", "OFFICE", "CASE"]
    [row] = [line for line in table if ref in line]
    assert row.startswith("stale_mandate") and "CJ75001" in row and " 45 " in row
    assert "HUB_WORKLIST_STALE_DAYS = 30" in row

    args = ["worklist", "remind", "--office", "CJ75001", "--topic", "stale_mandate", "--mandate", ref]
    sent = hub(hub_env, *args, "--by", "paul@agence.example", "--comment", "Où en est-on ?").stdout
    assert sent.startswith("RMD-") and f"stale_mandate {ref} sent to CJ75001" in sent
    again = hub(hub_env, *args, "--by", "paul@agence.example", ok=False)
    assert again.returncode == 1 and "reminded to the office today" in again.stderr
    hub(hub_env, *args, "--by", "paul@agence.example", "--force")
    [row] = [line for line in hub(hub_env, "worklist").stdout.splitlines() if ref in line]
    assert "no ack" in row
    stranger = hub(hub_env, *args, "--by", "nobody@agence.example", ok=False)
    assert stranger.returncode == 1 and "no active staff member" in stranger.stderr
