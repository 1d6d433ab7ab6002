"""The AMQP consumer process (`hub serve --role worker`) killed with ``kill -9`` again and again while
it works through act reports that offices published on ``hub.inbound``, as their own broker users.
A kill that lands between the commit and the ack makes RabbitMQ deliver the message again to the
restarted worker, which must recognise it (same sender, same message id) and post nothing twice:
every report is stored once, and the ledger holds one transaction per report and kind.

PostgreSQL (a database of its own) and the shared broker (a virtual host of the test's own).
CI size: ``HUB_CHAOS_MESSAGES`` (default 300) reports and ``HUB_CHAOS_WORKER_KILLS`` (default 6)
kills; the counts are printed.

Six kills is past the delivery limit of the office queues (5): RabbitMQ 3.10 counts a message
returned by a killed consumer as a delivery, and with that limit on ``hub.inbound`` the messages in
flight at every kill were dead-lettered, healthy. Since ADR 0021 the queue has no broker limit and
the worker counts: it dead-letters unhandled only a message delivered 20 times without an outcome.

The offices publish only once ``hub.inbound`` routes, with ``mandatory`` returns raised: publishing
as soon as ``/healthz`` answered lost the first office's first messages, unroutable while the worker
was still declaring its topology (ADR 0021 tells how that was mistaken for a broker defect)."""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import signal
import sys
from collections.abc import Callable, Iterator

import aio_pika
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.amqp import topology
from adapters.amqp.connection import connect
from hub.acts.models import ActReport
from hub.bench.http import MANDATES_PER_OFFICE, offices_with_keys
from hub.bench.serving import Server, free_port
from hub.database import create_engine
from hub.ledger.models import LedgerTransaction
from hub.messaging.models import StoredMessage
from schemas.v1 import SAMPLES_DIR
from tests.conftest import postgres_database, rabbitmqctl, until_inbound_routes, vhost_url_of

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow]
MESSAGES = int(os.environ.get("HUB_CHAOS_MESSAGES", "300"))
KILLS = int(os.environ.get("HUB_CHAOS_WORKER_KILLS", "6"))
OFFICES = 2
SAMPLE = (SAMPLES_DIR / "valid" / "act_report.xml").read_text()
PASSWORD = "office-secret"


def act_report(code: str, mandate_ref: str, n: int) -> bytes:
    return (
        SAMPLE.replace("CJ75001-2026-000123", f"CR-{code}-{n}")
        .replace("M-2026-000042", mandate_ref)
        .replace("CJ75001", code)
        .replace("A26/0815", f"A/{code}/{n}")
        .encode()
    )


@pytest.fixture
def office_users(vhost: str) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for code in made:
        rabbitmqctl("delete_user", code)


def _add_user(vhost: str, code: str) -> None:
    rabbitmqctl("add_user", code, PASSWORD)
    rabbitmqctl(
        "set_permissions", "-p", vhost, code, "^$", f"^{topology.INBOUND_EXCHANGE}$", f"^office\\.{code}$"
    )


async def _count(engine: AsyncEngine, query: object) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(query) or 0)  # type: ignore[call-overload]


@pytest.mark.timeout(900)  # each restart waits for the worker to answer /healthz again
async def test_kill_9_of_the_consumer_between_commit_and_ack_posts_nothing_twice(
    amqp_url: str, vhost: str, office_users: list[str], counts: Callable[[str], None]
) -> None:
    assert "M-2026-000042" in SAMPLE and "A26/0815" in SAMPLE, "the sample's refs this test rewrites"
    url_of_vhost = vhost_url_of(amqp_url, vhost)
    async with postgres_database() as url:
        keyed = await offices_with_keys(url, OFFICES)
        codes = [code for code, _key in keyed]
        for code in codes:
            _add_user(vhost, code)
            office_users.append(code)
        engine = create_engine(url)
        port = free_port()
        worker = Server(
            [sys.executable, "-m", "hub", "serve"],
            port,
            {
                "HUB_DATABASE_URL": url,
                "HUB_AMQP_URL": url_of_vhost,
                "HUB_ROLE": "worker",
                "HUB_PORT": str(port),
                "HUB_SECRET_KEY": secrets.token_urlsafe(48),
                "HUB_LOG_LEVEL": "WARNING",
            },
        )
        try:
            with worker:  # declares the topology, then consumes hub.inbound
                await until_inbound_routes(vhost)
                for code in codes:
                    host = url_of_vhost.split("@", 1)[1]
                    connection = await connect(f"amqp://{code}:{PASSWORD}@{host}")
                    async with connection:
                        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
                        exchange = await channel.get_exchange(topology.INBOUND_EXCHANGE, ensure=False)
                        for n in range(MESSAGES // OFFICES):
                            body = act_report(code, f"M-{code}-{n % MANDATES_PER_OFFICE}", n)
                            await exchange.publish(
                                aio_pika.Message(
                                    body,
                                    content_type="application/xml",
                                    message_id=f"CR-{code}-{n}",
                                    user_id=code,
                                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                ),
                                routing_key=topology.INBOUND_ROUTING_KEY,
                            )
                stored_query = (
                    select(func.count())
                    .select_from(StoredMessage)
                    .where(StoredMessage.sender.in_(codes), StoredMessage.kind == "act_report")
                )
                kills = 0
                rng = random.Random(7)
                while kills < KILLS and await _count(engine, stored_query) < MESSAGES:
                    await asyncio.sleep(rng.uniform(0.3, 1.5))  # somewhere in the stream of commits
                    assert worker.process is not None
                    worker.process.send_signal(signal.SIGKILL)
                    worker.process.wait(timeout=30)
                    kills += 1
                    await asyncio.to_thread(worker.__enter__)
                async with asyncio.timeout(300):
                    while await _count(engine, stored_query) < MESSAGES:  # noqa: ASYNC110 - polls the db
                        await asyncio.sleep(0.5)
                await asyncio.sleep(2)  # a copy redelivered late would be applied by now
            reports = await _count(engine, select(func.count()).select_from(ActReport))
            distinct = await _count(engine, select(func.count(func.distinct(ActReport.office_reference))))
            doubled = await _count(
                engine,
                select(func.count()).select_from(
                    select(LedgerTransaction.kind, LedgerTransaction.source)
                    .group_by(LedgerTransaction.kind, LedgerTransaction.source)
                    .having(func.count() > 1)
                    .subquery()
                ),
            )
            postings = await _count(engine, select(func.count()).select_from(LedgerTransaction))
        finally:
            await engine.dispose()
    counts(
        f"\nconsumer chaos: {kills} kill -9 of the worker; published {MESSAGES}, stored {reports} act "
        f"reports ({distinct} distinct), ledger transactions {postings}, posted twice {doubled}"
    )
    assert kills >= 1
    assert reports == distinct == MESSAGES
    assert postings >= MESSAGES and doubled == 0
