"""``hub finance unremitted`` as finance runs it: per office and case, the money collected and not
remitted, its oldest collection, overdue past ``HUB_REMITTANCE_DEADLINE_DAYS``; clear errors."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from hub.database import create_engine, session_factory, unit_of_work
from hub.kit.clock import utcnow
from hub.offices.repository import OfficeRepository
from tests.hub.remittances.factories import collecting
from tests.hub.test_cli import hub, hub_env  # noqa: F401 - the CLI fixture


async def _collections(url: str) -> tuple[str, str]:
    """CJ75001 collected 123.45 on a case 100 days ago and 10.00 on another 5 days ago."""
    today = utcnow().date()
    engine = create_engine(url)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            office = await OfficeRepository(session).get_by_code("CJ75001")
            old = await collecting(session, [12_345], on=today - timedelta(days=100), office=office)
            recent = await collecting(session, [1_000], on=today - timedelta(days=5), office=office)
            return old.ref(0), recent.ref(0)
    finally:
        await engine.dispose()


def test_unremitted_lists_each_case_with_its_age_and_whether_it_is_overdue(
    hub_env: dict[str, str],  # noqa: F811
) -> None:
    hub(hub_env, "migrate")
    assert "No office holds money" in hub(hub_env, "finance", "unremitted").stdout
    hub(hub_env, "offices", "add", "CJ75001", "--name", "Étude de Paris", "--departements", "75")
    old, recent = asyncio.run(_collections(hub_env["HUB_DATABASE_URL"]))

    out = hub({**hub_env, "HUB_REMITTANCE_DEADLINE_DAYS": "60"}, "finance", "unremitted").stdout
    assert "deadline 60 days" in out
    rows = {line.split("│")[2].strip(): line for line in out.splitlines() if line.count("│") == 7}
    assert "133.45 EUR" in rows["all"] and "100" in rows["all"] and "yes" in rows["all"]
    assert "123.45 EUR" in rows[old] and "yes" in rows[old]
    assert "10.00 EUR" in rows[recent] and " no " in rows[recent]

    lenient = hub({**hub_env, "HUB_REMITTANCE_DEADLINE_DAYS": "120"}, "finance", "unremitted").stdout
    assert "yes" not in lenient
    unknown = hub(hub_env, "finance", "unremitted", "--office", "CJ00000", ok=False)
    assert unknown.returncode == 1 and "no office CJ00000" in unknown.stderr
