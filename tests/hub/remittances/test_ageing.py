"""Money held past the agency's deadline, per case and per office (the day of each case's oldest
collection not remitted is the database's: ``tests/hub/remittances/test_repository.py``)."""

from __future__ import annotations

from datetime import date

from hub.remittances.ageing import unremitted

JAN, MAR = date(2026, 1, 10), date(2026, 3, 10)


def test_overdue_past_the_deadline_per_case_and_office() -> None:
    cases = [
        ("CJ2", "C-9", "EUR", 700, MAR),
        ("CJ1", "C-2", "EUR", 300, MAR),
        ("CJ1", "C-1", "EUR", 500, JAN),
    ]
    (one, two) = unremitted(cases, today=date(2026, 3, 20), deadline_days=30)
    assert (one.office_code, one.cents, one.oldest_on, one.overdue) == ("CJ1", 800, JAN, True)
    assert [(c.case_ref, c.cents, c.age_days, c.overdue) for c in one.cases] == [
        ("C-1", 500, 69, True),
        ("C-2", 300, 10, False),
    ]
    assert (two.office_code, two.cents, two.overdue, two.age_days) == ("CJ2", 700, False, 10)
    # Exactly the deadline's age is not overdue yet.
    (on_time,) = unremitted(cases[:1], today=date(2026, 4, 9), deadline_days=30)
    assert (on_time.age_days, on_time.overdue) == (30, False)


def test_an_office_holding_money_in_two_currencies_is_listed_once_in_each() -> None:
    cases = [("CJ1", "C-1", "USD", 100, MAR), ("CJ1", "C-1", "EUR", 200, JAN)]
    found = unremitted(cases, today=date(2026, 3, 20), deadline_days=30)
    assert [(o.currency, o.cents, o.overdue) for o in found] == [("EUR", 200, True), ("USD", 100, False)]
