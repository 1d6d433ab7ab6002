"""Office messages about reminders, on the one inbound path (``hub.messaging.inbound``, wired by
``hub.bootstrap``): the acknowledgement of a reminder."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.messaging.inbound import Delivery
from hub.worklist import service
from schemas import v1


async def reminder_acknowledged(session: AsyncSession, delivery: Delivery) -> None:
    """Records when the office acknowledged a reminder sent to it (once; late ones too)."""
    message, office = delivery.message, delivery.office
    assert isinstance(message, v1.ReminderAck)
    await service.acknowledge_reminder(session, office, message)
