"""The office's ``remittance`` message on the one inbound path (``hub.messaging.inbound``, wired by
``hub.bootstrap``): posted whole, or refused whole with every failing line (the inbound path then
keeps nothing it wrote)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.messaging.inbound import Delivery
from hub.messaging.models import StoredMessage
from hub.remittances import service
from schemas import v1


async def remittance_received(session: AsyncSession, delivery: Delivery) -> None:
    message = delivery.message
    assert isinstance(message, v1.Remittance)
    assert isinstance(delivery.stored, StoredMessage)  # applied in a savepoint: never a staged row
    await service.receive(session, delivery.office, message, delivery.stored)
