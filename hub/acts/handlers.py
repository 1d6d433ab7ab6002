"""The acts module's use cases on the one inbound path (``hub.messaging.inbound``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts import service
from hub.messaging.inbound import handles
from hub.messaging.models import StoredMessage
from hub.offices.models import Office
from schemas import v1


@handles("act_report")
async def act_report_received(
    session: AsyncSession, message: v1.MessageModel, stored: StoredMessage, office: Office
) -> None:
    assert isinstance(message, v1.ActReport)
    await service.record_act_report(session, message, stored, office)
