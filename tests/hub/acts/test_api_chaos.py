"""The API process killed with ``kill -9`` again and again while offices post act reports, each with
an ``Idempotency-Key`` and retried by the client until it has an answer, as an office's IT would:
every report is stored exactly once, and asking again with the same key answers byte for byte what
the first answer said. ``hub serve`` runs as a subprocess on PostgreSQL (a database of its own).

CI size: ``HUB_CHAOS_POSTS`` (default 500) posts and ``HUB_CHAOS_API_KILLS`` (default 5) kills;
the issue's full size: ``HUB_CHAOS_POSTS=5000``. The counts are printed."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import func, select

from hub.acts.models import ActReport
from hub.bench.http import MANDATES_PER_OFFICE, act_report_template, hub_serve, offices_with_keys
from hub.bench.serving import Server, free_port
from hub.database import create_engine
from tests.conftest import postgres_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
POSTS = int(os.environ.get("HUB_CHAOS_POSTS", "500"))
KILLS = int(os.environ.get("HUB_CHAOS_API_KILLS", "5"))
CLIENTS = 4
FINAL = {202, 409, 422}  # an answer the client keeps; anything else (or no answer) is retried


def _restart(server: Server) -> None:
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=30)
    server.__enter__()  # the same command, port and database; ready once /healthz answers


@pytest.mark.timeout(900)  # each restart waits for hub serve to answer /healthz again
async def test_kill_9_of_the_api_during_posts_stores_each_once_and_replays_identically(
    counts: Callable[[str], None],
) -> None:
    async with postgres_database() as url:
        keyed = await offices_with_keys(url, CLIENTS)
        answers: dict[int, bytes] = {}
        retries = 0
        with hub_serve(url, free_port()) as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:

                async def post(n: int) -> httpx.Response:
                    code, key = keyed[n % CLIENTS]
                    body = act_report_template(code, f"M-{code}-{n // CLIENTS % MANDATES_PER_OFFICE}")
                    return await client.post(
                        "/v1/act-reports",
                        content=body.replace("__N__", str(n)),
                        headers={
                            "Authorization": f"Bearer {key}",
                            "Content-Type": "application/json",
                            "Idempotency-Key": f"chaos-{n}",
                        },
                    )

                async def office(first: int) -> None:
                    nonlocal retries
                    for n in range(first, POSTS, CLIENTS):
                        while True:
                            try:
                                answer = await post(n)
                            except httpx.TransportError:
                                answer = None
                            if answer is not None and answer.status_code in FINAL:
                                answers[n] = answer.content
                                break
                            retries += 1
                            await asyncio.sleep(0.1)

                async def killer() -> None:
                    for kill in range(1, KILLS + 1):
                        while len(answers) < POSTS * kill // (KILLS + 1):  # noqa: ASYNC110 - counts
                            await asyncio.sleep(0.02)
                        await asyncio.to_thread(_restart, server)

                await asyncio.gather(killer(), *(office(first) for first in range(CLIENTS)))

                # Asked again with the same key and body: the same answer, byte for byte.
                changed = []
                for n in range(POSTS):
                    again = await post(n)
                    if again.content != answers[n]:
                        changed.append(n)

        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                stored = await conn.scalar(select(func.count()).select_from(ActReport))
                distinct = await conn.scalar(select(func.count(func.distinct(ActReport.office_reference))))
        finally:
            await engine.dispose()

    accepted = sum(1 for body in answers.values() if b'"accepted":true' in body.replace(b" ", b""))
    counts(
        f"\napi chaos: {KILLS} kill -9 of hub serve; posted {POSTS}, retried {retries}, answered "
        f"{len(answers)}, accepted {accepted}, stored {stored} ({distinct} distinct), replays changed "
        f"{len(changed)}"
    )
    assert len(answers) == POSTS
    assert accepted == POSTS, "each act report of the sample is valid: every one accepted"
    assert stored == distinct == POSTS, "each stored once"
    assert changed == []
