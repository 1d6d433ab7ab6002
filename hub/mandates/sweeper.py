"""The expiry sweep as a background worker (``hub serve``, roles ``all`` and ``relay``) and as
``hub mandates expire``: each pass expires lapsed mandates in transactions of its own."""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.database import unit_of_work
from hub.mandates import service

log = structlog.get_logger()
BATCH = 500  # mandates expired per transaction


async def expire_all(sessions: async_sessionmaker[AsyncSession], *, batch: int = BATCH) -> list[str]:
    """Expires every lapsed mandate, ``batch`` per committed transaction; returns their refs."""
    expired: list[str] = []
    while True:
        async with unit_of_work(sessions) as session:
            done = await service.expire_lapsed(session, limit=batch)
        expired += done
        if len(done) < batch:
            return expired


async def run_forever(
    sessions: async_sessionmaker[AsyncSession], stop: asyncio.Event, every_s: float
) -> None:
    """A sweep every ``every_s`` seconds until ``stop``; a failed pass is logged and retried next time."""
    while not stop.is_set():
        try:
            expired = await expire_all(sessions)
            if expired:
                log.info("mandates_expired", count=len(expired), refs=expired[:20])
        except Exception:
            log.exception("mandate_expiry_failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=every_s)
        except TimeoutError:
            pass
