"""What an office holds on a case and the day of its oldest collection not remitted: an office remits
what it collected first, first."""

from __future__ import annotations

from datetime import date

import pytest

from hub.ledger.postings import COLLECTION, REMITTANCE
from hub.remittances.ageing import oldest_unremitted, unremitted

JAN, FEB, MAR = date(2026, 1, 10), date(2026, 2, 10), date(2026, 3, 10)


@pytest.mark.parametrize(
    ("movements", "expected"),
    [
        ([], (0, None)),
        ([(COLLECTION, JAN, 500)], (500, JAN)),
        ([(COLLECTION, JAN, 500), (COLLECTION, FEB, 300)], (800, JAN)),
        # 500 of January remitted: February's 300 is what is left.
        ([(COLLECTION, JAN, 500), (COLLECTION, FEB, 300), (REMITTANCE, MAR, -500)], (300, FEB)),
        # Part of January remitted: some of January's money is still held.
        ([(COLLECTION, JAN, 500), (COLLECTION, FEB, 300), (REMITTANCE, MAR, -400)], (400, JAN)),
        ([(COLLECTION, JAN, 500), (REMITTANCE, FEB, -500)], (0, None)),
        # A reversed collection nets out on its day.
        ([(COLLECTION, JAN, 500), (COLLECTION, JAN, -500), (COLLECTION, FEB, 200)], (200, FEB)),
    ],
)
def test_oldest_unremitted(movements: list[tuple[str, date, int]], expected: tuple[int, date | None]) -> None:
    assert oldest_unremitted(movements) == expected


def test_overdue_past_the_deadline_per_case_and_office() -> None:
    rows = [
        ("CJ1", "C-1", "EUR", COLLECTION, JAN, 500),
        ("CJ1", "C-2", "EUR", COLLECTION, MAR, 300),
        ("CJ1", "C-3", "EUR", COLLECTION, JAN, 100),
        ("CJ1", "C-3", "EUR", REMITTANCE, FEB, -100),  # nothing held: left out
        ("CJ2", "C-9", "EUR", COLLECTION, MAR, 700),
    ]
    (one, two) = unremitted(rows, today=date(2026, 3, 20), deadline_days=30)
    assert (one.office_code, one.cents, one.oldest_on, one.overdue) == ("CJ1", 800, JAN, True)
    assert [(c.case_ref, c.cents, c.age_days, c.overdue) for c in one.cases] == [
        ("C-1", 500, 69, True),
        ("C-2", 300, 10, False),
    ]
    assert (two.office_code, two.cents, two.overdue, two.age_days) == ("CJ2", 700, False, 10)
    # Exactly the deadline's age is not overdue yet.
    (on_time,) = unremitted(rows[-1:], today=date(2026, 4, 9), deadline_days=30)
    assert (on_time.age_days, on_time.overdue) == (30, False)
