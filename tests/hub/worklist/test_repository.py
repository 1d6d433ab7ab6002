"""The worklist's statements that compute in the database what a rule computes in Python give the
rule's answer, on both engines: each office's pace (``hub.worklist.pace.office_paces``)."""

from __future__ import annotations

import random

from sqlalchemy.ext.asyncio import AsyncSession

from hub.worklist import pace
from hub.worklist.repository import WorklistRepository
from tests.hub.finance.factories import act
from tests.hub.worklist.factories import a_mandate, an_office, days_ago

WINDOW = 365


async def test_the_offices_paces_are_the_rules(session: AsyncSession) -> None:
    """Offices of a few mandates each with acts drawn at random (acts of one day on one mandate,
    acts before the window, a mandate of one act, an office of single acts): the database's middle
    gaps make each office's pace exactly as ``office_paces`` does from the acts, an int median or a
    float one, and no row for an office with no gap."""
    draw = random.Random(20261205)
    acts = []
    offices = [await an_office(session) for _ in range(6)]
    codes = [o.code for o in offices]
    for n, office in enumerate(offices):
        for _ in range(1 if n == 5 else draw.randint(1, 4)):
            s = await a_mandate(session, office)
            for _ in range(1 if n == 5 else draw.randint(1, 7)):
                ago = draw.choice([draw.randint(0, 420), 3, 3, 10])
                await act(session, s, days_ago(ago))
                acts.append((office.code, s.mandate.id, days_ago(ago)))
    since = days_ago(WINDOW)

    rows = await WorklistRepository(session).office_paces(since, None)
    found = {row[0]: pace.pace_of(*row) for row in rows if row[0] in codes}

    expected = {
        code: p
        for code, p in pace.office_paces(a for a in acts if a[2] >= since).items()
        if p.median_gap_days is not None
    }
    assert repr(sorted(found.items())) == repr(sorted(expected.items()))
    assert len(expected) >= 4 and codes[5] not in found
    assert {type(p.median_gap_days) for p in expected.values()} == {int, float}, "both kinds of median"
    first = await WorklistRepository(session).office_paces(since, offices[0].id)
    assert [pace.pace_of(*row) for row in first] == [found[offices[0].code]]
