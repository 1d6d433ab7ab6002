"""The acts module's use cases on the one inbound path (``hub.messaging.inbound``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts import service
from hub.mandates.service import completion
from hub.messaging.inbound import handles
from hub.messaging.models import StoredMessage
from hub.offices.models import Office
from schemas import v1


@contextmanager
def _reading(reads: service.ReportReads, reported: completion.ReportedActs) -> Iterator[object]:
    token = service.preloaded_reads.set(reads)
    counted = completion.preloaded_reported.set(reported)
    try:
        yield reads
    finally:
        completion.preloaded_reported.reset(counted)
        service.preloaded_reads.reset(token)


async def preload_act_reports(
    session: AsyncSession, office: Office, messages: Sequence[v1.MessageModel]
) -> AbstractContextManager[object]:
    reports = [m for m in messages if isinstance(m, v1.ActReport)]
    reads = await service.ReportReads.load(session, office, reports)
    mine = [m for m in reads.mandates.values() if m.office_id == office.id]
    return _reading(reads, await completion.ReportedActs.load(session, mine))


@handles("act_report", preload=preload_act_reports)
async def act_report_received(
    session: AsyncSession, message: v1.MessageModel, stored: StoredMessage, office: Office
) -> None:
    assert isinstance(message, v1.ActReport)
    act = await service.record_act_report(session, message, stored, office)
    await completion.act_reported(session, act, office)
