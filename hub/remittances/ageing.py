"""Money offices hold and have not remitted, and how old it is: pure rules, no I/O.

An office remits first what it collected first, so what it still holds on a case is its latest
collections: the oldest unremitted collection is found walking the case's collections from the
newest back until they add up to what is held. It is overdue when older than the agency's deadline
(``HUB_REMITTANCE_DEADLINE_DAYS``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from hub.ledger.postings import COLLECTION


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


def oldest_unremitted(movements: Iterable[tuple[str, date, int]]) -> tuple[int, date | None]:
    """(cents held, day of the oldest collection not remitted) from one case's ``collected_by_office``
    movements of one office and currency: (transaction kind, effective day, cents). None when
    nothing is held."""
    rows = list(movements)
    held = sum(cents for _, _, cents in rows)
    if held <= 0:
        return held, None
    collected: dict[date, int] = defaultdict(int)
    for kind, day, cents in rows:
        if kind == COLLECTION:  # a reversed collection nets out on its own day
            collected[day] += cents
    days = sorted((day for day, cents in collected.items() if cents > 0), reverse=True)
    covered = 0
    for day in days:
        covered += collected[day]
        if covered >= held:
            return held, day
    return held, days[-1] if days else None


def unremitted(
    rows: Iterable[tuple[str, str, str, str, date, int]], *, today: date, deadline_days: int
) -> list[OfficeUnremitted]:
    """Per office and currency, by office code: what it holds per case, its oldest unremitted
    collection and whether that is past ``deadline_days``. ``rows``: (office code, case ref, currency,
    kind, day, cents) movements of ``collected_by_office``. Cases that hold nothing are left out."""
    per_case: dict[tuple[str, str, str], list[tuple[str, date, int]]] = defaultdict(list)
    for office_code, case_ref, currency, kind, day, cents in rows:
        per_case[(office_code, currency, case_ref)].append((kind, day, cents))
    per_office: dict[tuple[str, str], list[CaseUnremitted]] = defaultdict(list)
    for (office_code, currency, case_ref), movements in sorted(per_case.items()):
        held, oldest = oldest_unremitted(movements)
        if held <= 0 or oldest is None:
            continue
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
