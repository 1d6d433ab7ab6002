"""How a mandate moves on with the office's act reports: ``in_progress`` on its first act reported,
then ``completed`` once its work is done: a per-act
mandate when every act it ordered has an accepted act report; any mandate, whole-file ones
included, when an act report says the debtor paid in full (nothing is left to collect). A whole-file
mandate ends otherwise when staff cancel it (``endings``).

The act report handler calls :func:`act_reported` once the report is recorded; a completed mandate
refuses later act reports (``mandate.not_reportable``), like a cancelled one. Only this module
changes a mandate's status, through ``lifecycle.transition``.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import RecordedAct
from hub.mandates.models import Mandate, MandateKind
from hub.mandates.repository import MandateRepository
from hub.mandates.service.lifecycle import S, transition
from hub.offices.models import Office
from schemas.v1.outcomes import OutcomeCode

# Collection starts with the first act reported.
STARTS_PROGRESS = frozenset({S.ISSUED.value, S.ACKNOWLEDGED.value})
# Outcomes that end the mandate whatever acts remain: the claim is settled.
CLOSING_OUTCOMES = frozenset({OutcomeCode.PAID_IN_FULL.value})


class ReportedActs:
    """The acts reported so far under each per-act mandate of a set of act reports, loaded in one
    query before they are recorded, then kept current as each one is."""

    def __init__(self, counts: dict[uuid.UUID, Counter[str]]) -> None:
        self.counts = counts

    @classmethod
    async def load(cls, session: AsyncSession, mandates: Iterable[Mandate]) -> ReportedActs:
        per_act = [m.id for m in mandates if m.kind == MandateKind.PER_ACT.value]
        if not per_act:
            return cls({})
        with session.no_autoflush:
            return cls(await MandateRepository(session).acts_reported(per_act))

    def recorded(self, act: RecordedAct) -> Counter[str]:
        counts = self.counts.setdefault(act.mandate_id, Counter())
        counts[act.act_code] += 1
        return counts


def _done(mandate: Mandate, act: RecordedAct, reported: Counter[str]) -> str | None:
    """Why the mandate is done after ``act``, or None."""
    if act.outcome_code in CLOSING_OUTCOMES:
        return "the debtor paid in full"
    if mandate.kind == MandateKind.PER_ACT.value and all(
        reported[code] >= times for code, times in Counter(mandate.acts).items()
    ):
        return f"every act ordered has an act report ({', '.join(mandate.acts)})"
    return None


async def act_reported(
    session: AsyncSession,
    act: RecordedAct,
    office: Office,
    *,
    reported: ReportedActs,
    mandate: Mandate | None = None,
) -> None:
    """After ``office``'s act report ``act`` was recorded: puts its mandate in progress on its first
    act, and completes it when its work is done, each logged with the office as actor and the report
    as the reason. ``reported``: the acts reported before, loaded for the set ``act`` came in;
    ``mandate``: the act's, as the set's reads loaded it (else found in the session)."""
    if mandate is None:
        mandate = await MandateRepository(session).get_by_id(act.mandate_id)  # loaded: no query
    assert mandate is not None and mandate.id == act.mandate_id  # the report was just recorded under it
    if mandate.status in STARTS_PROGRESS:
        started = f"act {act.office_reference} reported ({act.act_code})"
        await transition(session, mandate, S.IN_PROGRESS, actor=office.code, reason=started)
    if mandate.status != S.IN_PROGRESS.value:
        return
    why = _done(mandate, act, reported.recorded(act))
    if why is not None:
        reason = f"act {act.office_reference} reported ({act.act_code}, {act.outcome_code}): {why}"
        await transition(session, mandate, S.COMPLETED, actor=office.code, reason=reason)
