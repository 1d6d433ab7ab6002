"""Legal periods in months and years (art. 641-642 CPC): same day number, else the month's last day."""

from __future__ import annotations

from datetime import date

import pytest

from hub.recovery.dates import add_months, add_years


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 9, 2), 6, date(2026, 3, 2)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2023, 8, 31), 6, date(2024, 2, 29)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 15), -12, date(2025, 1, 15)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("start", "years", "expected"),
    [
        (date(2016, 3, 10), 10, date(2026, 3, 10)),
        (date(2016, 2, 29), 10, date(2026, 2, 28)),
        (date(2016, 2, 29), 4, date(2020, 2, 29)),
    ],
)
def test_add_years(start: date, years: int, expected: date) -> None:
    assert add_years(start, years) == expected
