"""An office's usual pace, and when a mandate has gone quiet: pure rules, no I/O.

An office's pace is the median gap, in days, between two consecutive acts it reported on one
mandate (acts of one day on one mandate count once). A mandate is stale when the days since its
last activity (its last act reported, else the day it was issued) exceed
``max(stale_days, factor x median gap)``: an office that usually acts every 20 days is not chased
after 30, and one that acts every 3 days is not left alone for 90. An office with no two acts on a
mandate yet is judged by ``stale_days`` alone."""

from __future__ import annotations

import itertools
import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Pace:
    office_code: str
    median_gap_days: float | None  # None: no two acts on one mandate to learn from
    gaps: int  # how many gaps it was learned from


def office_paces(acts: Iterable[tuple[str, uuid.UUID, date]]) -> dict[str, Pace]:
    """Each office's pace from its acts: (office code, mandate id, act date)."""
    days: dict[tuple[str, uuid.UUID], set[date]] = defaultdict(set)
    for office, mandate, on in acts:
        days[(office, mandate)].add(on)
    gaps: dict[str, list[int]] = defaultdict(list)
    for (office, _), dates in days.items():
        ordered = sorted(dates)
        gaps[office].extend((b - a).days for a, b in itertools.pairwise(ordered))
    offices = {office for office, _ in days}
    return {
        office: Pace(office, statistics.median(gaps[office]) if gaps[office] else None, len(gaps[office]))
        for office in offices
    }


def pace_of(office_code: str, gaps: int, low: int, high: int) -> Pace:
    """An office's pace from its ``gaps`` gaps' middle one (``low == high``, an odd count) or two
    middle ones (even), as ``office_paces`` computes it: the database finds the middle gaps
    (``WorklistRepository.office_paces``)."""
    return Pace(office_code, low if gaps % 2 else (low + high) / 2, gaps)


def stale_threshold(pace: Pace | None, *, stale_days: int, factor: int) -> int:
    """The days of quiet after which a mandate of this office is stale."""
    if pace is None or pace.median_gap_days is None:
        return stale_days
    return max(stale_days, round(factor * pace.median_gap_days))


def stale_explanation(
    mandate_ref: str,
    quiet_days: int,
    since: date,
    acted: bool,
    pace: Pace | None,
    *,
    stale_days: int,
    factor: int,
) -> str:
    """The rule applied, in one sentence."""
    what = "its last act reported" if acted else "it was issued and accepted, with no act reported"
    threshold = stale_threshold(pace, stale_days=stale_days, factor=factor)
    if pace is None or pace.median_gap_days is None:
        usual = (
            "this office has no pace on record yet, so the threshold is "
            f"HUB_WORKLIST_STALE_DAYS = {stale_days}"
        )
    else:
        usual = (
            f"this office's median gap between acts is {pace.median_gap_days:g} days, so the threshold is "
            f"max({stale_days}, {factor} x {pace.median_gap_days:g}) = {threshold}"
        )
    return (
        f"Mandate {mandate_ref} has been quiet for {quiet_days} days since {what} on "
        f"{since.isoformat()}; {usual}."
    )
