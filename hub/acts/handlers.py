"""The acts module's use case on the one inbound path (``hub.messaging.inbound``), wired by
``hub.bootstrap``: the act report, read for a whole set of reports at once (a batch chunk, or a set
of one) by its preloader, whose reads the handler receives as ``delivery.preloaded``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts import service
from hub.mandates.service import completion
from hub.messaging.inbound import Delivery
from hub.offices.models import Office
from schemas import v1


@dataclass(frozen=True)
class ActReportReads:
    """What checking, recording and completing a set of act reports reads."""

    reports: service.ReportReads
    reported: completion.ReportedActs


async def preload_act_reports(
    session: AsyncSession, office: Office, messages: Sequence[v1.MessageModel]
) -> ActReportReads:
    reports = [m for m in messages if isinstance(m, v1.ActReport)]
    reads = await service.ReportReads.load(session, office, reports)
    if reads.acts_reported is not None:  # read with the rest (PostgreSQL)
        return ActReportReads(reads, completion.ReportedActs(reads.acts_reported))
    mine = [m for m in reads.mandates.values() if m.office_id == office.id]
    return ActReportReads(reads, await completion.ReportedActs.load(session, mine))


def case_of_act_report(reads: object, message: v1.MessageModel) -> uuid.UUID | None:
    """The report's case as its preload found it with its mandate (``KindHandling.case_of``)."""
    assert isinstance(reads, ActReportReads) and isinstance(message, v1.ActReport)
    return reads.reports.case_of(message)


def applied_act_reports(reads: object) -> Mapping[str, uuid.UUID] | None:
    """The reports' message ids applied already, as their preload read them once their locks were
    held (``KindHandling.applied_of``); None: not read there (SQLite), the processor reads them."""
    assert isinstance(reads, ActReportReads)
    return reads.reports.applied


async def act_report_received(session: AsyncSession, delivery: Delivery) -> None:
    """Checks the report before writing anything (so it needs no savepoint), records it, and lets
    the mandates module move its mandate on (in progress, completed)."""
    assert isinstance(delivery.message, v1.ActReport) and isinstance(delivery.preloaded, ActReportReads)
    reads = delivery.preloaded
    act = await service.record_act_report(
        session, delivery.message, delivery.stored, delivery.office, reads=reads.reports
    )
    mandate = reads.reports.mandates[delivery.message.mandate_ref]  # the act's: it was recorded
    await completion.act_reported(session, act, delivery.office, reported=reads.reported, mandate=mandate)
