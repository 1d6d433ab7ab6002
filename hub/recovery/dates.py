"""Calendar arithmetic for legal periods, as pure functions.

Periods in months or years end on the day of the last month that bears the same number as the
starting day, or on that month's last day when it has no such day (art. 641 and 642 of the Code de
procédure civile): 31 August + 6 months = 28 (or 29) February; 29 February + 10 years = 28 February.
"""

from __future__ import annotations

import calendar
from datetime import date


def add_months(start: date, months: int) -> date:
    """``start`` moved by ``months`` calendar months, clamped to the end of the target month."""
    index = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def add_years(start: date, years: int) -> date:
    """``start`` moved by ``years`` years (29 February lands on 28 February in a common year)."""
    return add_months(start, 12 * years)
