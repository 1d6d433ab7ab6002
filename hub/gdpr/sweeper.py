"""The retention sweep as a background worker (``hub serve``, roles ``all`` and ``relay``) and as
``hub gdpr sweep``: each pass erases the cases closed longer ago than ``HUB_GDPR_RETENTION_DAYS``,
in transactions of its own."""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.database import unit_of_work
from hub.gdpr import service
from hub.kit.clock import utcnow

log = structlog.get_logger()
BATCH = 100  # cases erased per transaction


async def sweep_all(sessions: async_sessionmaker[AsyncSession], *, batch: int = BATCH) -> list[str]:
    """Erases every case past retention, ``batch`` per committed transaction; returns their refs."""
    erased: list[str] = []
    today = utcnow().date()
    while True:
        async with unit_of_work(sessions) as session:
            done = await service.sweep(session, today=today, limit=batch)
        erased += done
        if len(done) < batch:
            return erased


async def run_forever(
    sessions: async_sessionmaker[AsyncSession], stop: asyncio.Event, every_s: float
) -> None:
    """A sweep every ``every_s`` seconds until ``stop``; a failed pass is logged and retried next time."""
    while not stop.is_set():
        try:
            erased = await sweep_all(sessions)
            if erased:
                log.info("gdpr_retention_swept", count=len(erased))
        except Exception:
            log.exception("gdpr_sweep_failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=every_s)
        except TimeoutError:
            pass
