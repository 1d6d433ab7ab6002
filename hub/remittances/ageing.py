"""Money offices hold and have not remitted, and how old it is: pure rules, no I/O.

An office remits first what it collected first, so what it still holds on a case is its latest
collections: the oldest unremitted collection is found walking the case's collections from the
newest back until they add up to what is held. That walk is done in the database alone
(``hub.remittances.repository.oldest_unremitted``: the worklist pages on its day, so it cannot be
done here), from figures it keeps as the ledger grows. Here: money is overdue when older than the
agency's deadline (``HUB_REMITTANCE_DEADLINE_DAYS``), and the cases add up per office."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class CaseUnremitted:
    case_ref: str
    currency: str
    cents: int  # collected on the case, not remitted
    oldest_on: date  # the day of the oldest collection not remitted yet
    age_days: int
    overdue: bool


@dataclass(frozen=True)
class OfficeUnremitted:
    office_code: str
    currency: str
    cents: int
    oldest_on: date
    age_days: int
    overdue: bool  # a case's money is older than the deadline
    cases: tuple[CaseUnremitted, ...]


def unremitted(
    cases: Iterable[tuple[str, str, str, int, date]], *, today: date, deadline_days: int
) -> list[OfficeUnremitted]:
    """Per office and currency, by office code: what it holds per case, its oldest unremitted
    collection and whether that is past ``deadline_days``. ``cases``: (office code, case ref,
    currency, cents held, day of the oldest collection not remitted) of each case on which an office
    holds money, as ``hub.remittances.repository.oldest_unremitted`` finds them."""
    per_office: dict[tuple[str, str], list[CaseUnremitted]] = defaultdict(list)
    for office_code, case_ref, currency, held, oldest in sorted(cases, key=lambda c: (c[0], c[2], c[1])):
        age = (today - oldest).days
        per_office[(office_code, currency)].append(
            CaseUnremitted(case_ref, currency, held, oldest, age, age > deadline_days)
        )
    return [_office(code, currency, cases) for (code, currency), cases in sorted(per_office.items())]


def _office(code: str, currency: str, cases: Sequence[CaseUnremitted]) -> OfficeUnremitted:
    oldest = min(c.oldest_on for c in cases)
    return OfficeUnremitted(
        office_code=code,
        currency=currency,
        cents=sum(c.cents for c in cases),
        oldest_on=oldest,
        age_days=max(c.age_days for c in cases),
        overdue=any(c.overdue for c in cases),
        cases=tuple(cases),
    )
