"""What an office holds on a case and the day of its oldest collection not remitted
(``hub.remittances.repository.oldest_unremitted``), on both engines: an office remits what it
collected first, first."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.ledger import service as ledger
from hub.ledger.postings import COLLECTION, REMITTANCE, collection_postings, remittance_postings
from hub.remittances.repository import oldest_unremitted
from tests.hub.acts.factories import Seeded, seed
from tests.hub.ledger.factories import posted_on

JAN, FEB, MAR = date(2026, 1, 10), date(2026, 2, 10), date(2026, 3, 10)
# A movement: ("collect" | "remit", day, cents), or ("reverse", the movement's place, day).
Movement = tuple[str, date | int, date | int]


async def moved(session: AsyncSession, s: Seeded, movements: list[Movement]) -> None:
    """Posts ``movements`` on ``s``'s case as the hub does."""
    posted: list[uuid.UUID] = []
    for what, first, second in movements:
        if what == "reverse":
            assert isinstance(first, int) and isinstance(second, date)
            reversal = await ledger.reverse(session, posted[first], reason="wrong", effective_on=second)
            posted.append(reversal.id)
            continue
        assert isinstance(first, date) and isinstance(second, int)
        kind, postings = (
            (COLLECTION, collection_postings(collected_cents=second, currency="EUR"))
            if what == "collect"
            else (REMITTANCE, remittance_postings(remitted_cents=second, currency="EUR"))
        )
        posted.append((await posted_on(session, s, kind, postings, first)).id)


@pytest.mark.parametrize(
    ("movements", "expected"),
    [
        ([], None),
        ([("collect", JAN, 500)], (500, JAN)),
        ([("collect", JAN, 500), ("collect", FEB, 300)], (800, JAN)),
        # 500 of January remitted: February's 300 is what is left.
        ([("collect", JAN, 500), ("collect", FEB, 300), ("remit", MAR, 500)], (300, FEB)),
        # Part of January remitted: some of January's money is still held.
        ([("collect", JAN, 500), ("collect", FEB, 300), ("remit", MAR, 400)], (400, JAN)),
        ([("collect", JAN, 500), ("remit", FEB, 500)], None),
        # All remitted, then more collected: the new money alone.
        ([("collect", JAN, 500), ("remit", FEB, 500), ("collect", MAR, 100)], (100, MAR)),
        # A collection reversed later nets out on its own day, not the reversal's.
        ([("collect", JAN, 500), ("reverse", 0, MAR), ("collect", FEB, 200)], (200, FEB)),
        # Two collections on one day count as that day's money.
        ([("collect", JAN, 500), ("collect", JAN, 300), ("remit", FEB, 200)], (600, JAN)),
        # A remittance reversed: the money is held again, since its first day.
        ([("collect", JAN, 500), ("remit", FEB, 200), ("reverse", 1, MAR)], (500, JAN)),
        # Walking back from the newest day until what is held is covered.
        (
            [("collect", JAN, 100), ("collect", FEB, 100), ("collect", MAR, 100), ("remit", MAR, 150)],
            (150, FEB),
        ),
    ],
)
async def test_the_oldest_collection_not_remitted(
    session: AsyncSession, movements: list[Movement], expected: tuple[int, date] | None
) -> None:
    s = await seed(session)
    other = await seed(session, office=s.office)
    await moved(session, s, movements)
    await moved(session, other, [("collect", FEB, 700)])
    await session.flush()

    rows = (await session.execute(oldest_unremitted(s.office.id))).all()
    found = {ref: (cents, on) for _code, ref, _currency, cents, on in rows}
    assert found.get(s.case.ref) == expected
    assert found[other.case.ref] == (700, FEB)
    one = (await session.execute(oldest_unremitted(None, s.case.ref))).all()
    assert [(code, cents, on) for code, _ref, _cur, cents, on in one] == (
        [] if expected is None else [(s.office.code, *expected)]
    )
