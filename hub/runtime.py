"""The background workers of a hub process, by role: the outbox relay and the webhook pusher
("relay"), the AMQP consumers ("worker"); "all" runs everything beside the API."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.kit.crypto import SecretBox
from hub.messaging.relay import Relay
from hub.messaging.webhooks import WebhookPusher
from hub.settings import Settings


class Workers:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._client = httpx.AsyncClient()

    def _spawn(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.create_task(work, name=name))

    async def start(self) -> None:
        if self.settings.role in ("all", "relay"):
            # With a broker the relay's AMQP transport arrives with the routing issue; until then
            # every office is served through its mailbox (pull inbox or webhook).
            relay = Relay(self.sessions)
            pusher = WebhookPusher(self.sessions, SecretBox(self.settings.secret_key), self._client)
            self._spawn("outbox-relay", relay.run_forever(self.stop))
            self._spawn("webhook-pusher", pusher.run_forever(self.stop))

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(*self._tasks)
        await self._client.aclose()

    async def wait(self) -> None:
        """For a process without the API: runs until stopped."""
        await self.stop.wait()
