"""The expiry sweep as the worker runs it: in committed transactions of its own, until stopped."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.database import unit_of_work
from hub.kit.clock import utcnow
from hub.mandates import service, sweeper
from hub.mandates.models import MandateKind, MandateStatus
from hub.mandates.service import MandateIn
from tests.hub.mandates.factories import RICH, a_case, an_office


async def test_the_worker_expires_a_lapsed_mandate_and_stops_when_told(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with unit_of_work(sessions) as session:
        office = await an_office(session)
        case = await a_case(session, **RICH)
        data = MandateIn(
            case_ref=case.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=["SERVE_TITLE"]
        )
        mandate = await service.create_mandate(session, data, actor="handler@agence.example")
        mandate.expires_at = utcnow() - timedelta(minutes=1)
        ref = mandate.ref

    states: list[str] = []

    async def status() -> None:
        async with sessions() as session:
            states.append((await service.get_mandate(session, ref)).status)

    stop = asyncio.Event()
    worker = asyncio.create_task(sweeper.run_forever(sessions, stop, every_s=0.05))
    try:
        for _ in range(200):
            await status()
            if states[-1] == MandateStatus.EXPIRED:
                break
            await asyncio.sleep(0.05)
        assert states[-1] == MandateStatus.EXPIRED
    finally:
        stop.set()
        await asyncio.wait_for(worker, timeout=10)
    assert ref not in await sweeper.expire_all(sessions)  # expired once, for good
