"""The hub's view of RabbitMQ when ``HUB_AMQP_URL`` is set: a robust connection and its health."""

from __future__ import annotations

import asyncio

import aio_pika
from aio_pika.abc import AbstractRobustConnection

CONNECT_TIMEOUT_S = 5.0


class Broker:
    def __init__(self, url: str) -> None:
        self.url = url
        self.connection: AbstractRobustConnection | None = None

    async def start(self) -> None:
        """Connects in the background: the API serves (and /readyz says why) while the broker is down."""
        self._task = asyncio.create_task(self._connect())

    async def _connect(self) -> None:
        while self.connection is None:
            try:
                self.connection = await aio_pika.connect_robust(self.url, timeout=CONNECT_TIMEOUT_S)
            except Exception:
                await asyncio.sleep(2)

    async def health(self) -> str | None:
        if self.connection is None:
            return "broker unreachable: not connected yet"
        if self.connection.is_closed:
            return "broker unreachable: connection lost, reconnecting"
        return None

    async def stop(self) -> None:
        self._task.cancel()
        if self.connection is not None:
            await self.connection.close()
