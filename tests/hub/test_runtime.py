# ruff: noqa: ASYNC110, ASYNC210, ASYNC221 - the tests drive and poll real processes from outside
"""Graceful shutdown, as an orchestrator does it: a real SIGTERM to real ``hub serve`` processes of
each role. The process stops taking work, finishes what it holds, and exits 0; nothing it held is
lost, applied twice, or marked sent without the broker's confirmation."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.amqp import topology
from hub.acts.models import ActReport
from hub.database import create_engine, session_factory, unit_of_work
from hub.messaging import service
from hub.messaging.models import OutboxEntry, Receipt, StoredMessage
from hub.messaging.service import Envelope
from hub.offices import service as offices
from tests.conftest import rabbitmqctl, until_inbound_routes
from tests.hub.acts.factories import Seeded, bearer, report_json, seed, write_batch_file
from tests.hub.test_cli import _free_port

HUB = str(Path(sys.executable).parent / "hub")
GRACE_S = 60  # the bound given to the process; the test waits a little longer for it to exit


def hub_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    return env | {
        "HUB_DATABASE_URL": database_url,
        "HUB_SECRET_KEY": "s" * 40,
        "HUB_SHUTDOWN_GRACE_SECONDS": str(GRACE_S),
        "HUB_MANDATE_EXPIRY_SWEEP_SECONDS": "0",
        **extra,
    }


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[tuple[str, AsyncEngine]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    subprocess.run([HUB, "migrate"], env=hub_env(url), check=True, capture_output=True, timeout=120)
    engine = create_engine(url)
    yield url, engine
    await engine.dispose()


def serve(env: dict[str, str], role: str, *, answering: bool = True) -> tuple[subprocess.Popen[bytes], str]:
    """``hub serve --role role``; waits until it answers ``/healthz`` when ``answering`` (the relay
    and the worker are watched through the database instead: their health check may wait for the
    SQLite writer they are)."""
    port = _free_port()
    # A file, not a pipe: nobody reads the output while the process runs, and a full pipe would
    # stall the process on its next log line.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [HUB, "serve", "--role", role, "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    LOGS[process.pid] = log
    base = f"http://127.0.0.1:{port}"
    if not answering:
        return process, base
    for _ in range(600):
        if process.poll() is not None:
            raise AssertionError(output_of(process))
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        threading.Event().wait(0.1)
    process.kill()
    raise AssertionError("hub serve did not start")


LOGS: dict[int, Any] = {}  # each process's output file, by pid


def output_of(process: subprocess.Popen[bytes]) -> str:
    log = LOGS[process.pid]
    log.seek(0)
    return str(log.read().decode(errors="replace"))


def terminated(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    """Waits for a process sent SIGTERM (killed if the test failed before sending it); its status
    and output."""
    try:
        process.wait(timeout=GRACE_S + 30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"no exit within the grace:\n{output_of(process)[-3000:]}") from None
    return process.returncode, output_of(process)


def kill_on_failure(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()
        print(output_of(process)[-5000:])


async def stop_once(
    process: subprocess.Popen[bytes], ready: Callable[[], Awaitable[bool]], *, within: float, poll: float
) -> None:
    """Sends ``process`` SIGTERM once ``ready()`` holds (asked every ``poll`` seconds); kills it
    and raises if it does not within ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            while not await ready():
                await asyncio.sleep(poll)
    except BaseException:
        kill_on_failure(process)
        raise
    process.send_signal(signal.SIGTERM)


async def count(engine: AsyncEngine, statement: Any) -> int:
    """A plain read, on an engine of its own: the hub's engine begins every SQLite transaction
    IMMEDIATE (a write lock), which the process under test, writing the same file, holds."""
    reader = create_async_engine(engine.url)
    try:
        async with reader.connect() as connection:
            return int(await connection.scalar(statement) or 0)
    finally:
        await reader.dispose()


async def seeded(engine: AsyncEngine, **kwargs: Any) -> tuple[Seeded, str]:
    async with unit_of_work(session_factory(engine)) as session:
        s = await seed(session, **kwargs)
        key = (await offices.create_key(session, s.office.code)).secret
    return s, key


async def test_the_api_answers_the_request_in_flight_at_sigterm_then_exits_0(
    database: tuple[str, AsyncEngine], tmp_path: Path
) -> None:
    url, engine = database
    s, key = await seeded(engine)
    path = tmp_path / "batch.xml"
    write_batch_file(path, s.office.code, s.mandate.ref, 1500, bad_every=10**6)
    body = path.read_bytes()
    process, base = serve(hub_env(url), "api")

    def upload() -> Iterator[bytes]:
        # The signal is sent with the request half sent: it is in flight, whatever the timing.
        yield body[: len(body) // 2]
        process.send_signal(signal.SIGTERM)
        yield body[len(body) // 2 :]

    try:
        answer = await asyncio.to_thread(
            httpx.post,
            f"{base}/v1/act-reports/batch",
            content=upload(),
            headers=bearer(key, **{"Content-Type": "application/xml"}),
            timeout=GRACE_S,
        )
    finally:
        status, output = terminated(process)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted_count"] == 1500
    assert status == 0, output
    assert await count(engine, select(func.count()).select_from(ActReport)) == 1500
    with pytest.raises(httpx.TransportError):  # and it listens no more
        httpx.get(f"{base}/healthz", timeout=2)


@pytest.mark.rabbitmq
async def test_the_relay_stopped_mid_stream_leaves_every_row_published_and_marked_or_pending(
    database: tuple[str, AsyncEngine], vhost_url: str
) -> None:
    url, engine = database
    rows = 3000
    async with unit_of_work(session_factory(engine)) as session:
        for n in range(rows):
            envelope = Envelope(f"EV-{n}", "case_update", "HUB", "AGENCY")
            await service.enqueue_outbound(
                session,
                envelope,
                b"<x/>",
                "application/xml",
                exchange=topology.AGENCY_EXCHANGE,
                routing_key="case_update",
            )
    process, _base = serve(hub_env(url, HUB_AMQP_URL=vhost_url), "relay", answering=False)
    sent = select(func.count()).select_from(OutboxEntry).where(OutboxEntry.sent_at.is_not(None))

    async def at_work() -> bool:  # the relay is at work: stop it mid-stream
        return await count(engine, sent) > 0

    await stop_once(process, at_work, within=120, poll=0.05)
    status, output = terminated(process)
    assert status == 0, output

    reader = create_async_engine(engine.url)
    async with reader.connect() as session:
        marked = {
            str(i)
            for i in await session.scalars(select(OutboxEntry.id).where(OutboxEntry.sent_at.is_not(None)))
        }
        pending = await session.scalar(
            select(func.count()).select_from(OutboxEntry).where(OutboxEntry.sent_at.is_(None))
        )
    await reader.dispose()
    published = await drain(vhost_url, topology.AGENCY_QUEUE)
    assert marked, "the relay sent nothing before the signal"
    # Marked sent only when confirmed: every marked row is in the queue (a row published whose
    # confirm came too late may be there unmarked: it is pending and sent again, the consumer drops it).
    assert marked <= set(published), sorted(marked - set(published))[:5]
    assert len(published) == len(set(published))
    assert len(marked) + (pending or 0) == rows
    print(
        f"relay stopped at SIGTERM: {len(marked)} marked sent, {pending} pending, "
        f"{len(published)} in the queue"
    )


async def drain(vhost_url: str, queue: str) -> list[str]:
    """The AMQP message ids of every message in ``queue``, consumed (and acked)."""
    ids: list[str] = []
    connection = await aio_pika.connect(vhost_url)
    async with connection:
        channel = await connection.channel()
        source = await channel.declare_queue(queue, passive=True)
        while (message := await source.get(no_ack=True, fail=False)) is not None:
            ids.append(str(message.message_id))
    return ids


@pytest.fixture
def amqp_office(vhost: str) -> Iterator[str]:
    code = "CJ" + secrets.token_hex(4).upper()
    rabbitmqctl("add_user", code, "office-secret")
    rabbitmqctl(
        "set_permissions", "-p", vhost, code, "^$", f"^{topology.INBOUND_EXCHANGE}$", f"^office\\.{code}$"
    )
    yield code
    rabbitmqctl("delete_user", code)


@pytest.mark.rabbitmq
async def test_the_worker_stopped_in_a_stream_acks_what_it_committed_and_loses_nothing(
    database: tuple[str, AsyncEngine], vhost: str, vhost_url: str, amqp_office: str
) -> None:
    url, engine = database
    s, _key = await seeded(engine, code=amqp_office)
    env = hub_env(url, HUB_AMQP_URL=vhost_url)
    sent = 400
    process, _base = serve(env, "worker", answering=False)
    stored = select(func.count()).select_from(Receipt)
    await until_inbound_routes(vhost)  # the worker declares the topology once connected
    publisher = asyncio.create_task(publish_reports(vhost_url, s, sent))

    async def mid_stream() -> bool:
        return await count(engine, stored) >= 20

    await stop_once(process, mid_stream, within=120, poll=0.05)
    await publisher
    status, output = terminated(process)
    assert status == 0, output

    # Everything committed was acked: what is left in the queue is exactly what was not stored. The
    # messages the worker held unacked come back to the queue once the broker has seen its connection
    # close, a moment after the exit: wait for that (a message acked and not stored never comes back).
    # 60 s: a liveness bound; a CI run once counted 4 of 400 still out after 15 s.
    handled = await count(engine, stored)
    waiting = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(60):
            while handled + (waiting := await queue_depth(vhost_url, topology.INBOUND_QUEUE) or 0) < sent:
                await asyncio.sleep(0.2)
    assert handled < sent, "the stream was over before the signal: nothing tested"
    assert handled + waiting == sent, (handled, waiting)

    # A second worker takes the rest: every report stored and applied exactly once.
    process, _base = serve(env, "worker", answering=False)

    async def all_stored() -> bool:
        return await count(engine, stored) >= sent

    await stop_once(process, all_stored, within=180, poll=0.1)
    status, output = terminated(process)
    assert status == 0, output
    inbound = select(func.count(func.distinct(StoredMessage.message_id))).where(
        StoredMessage.kind == "act_report", StoredMessage.sender == amqp_office
    )
    assert await count(engine, inbound) == sent
    assert await count(engine, stored) == sent
    accepted = await count(
        engine, select(func.count()).select_from(Receipt).where(Receipt.accepted.is_(True))
    )
    assert await count(engine, select(func.count()).select_from(ActReport)) == accepted
    print(f"worker stopped at SIGTERM: {handled} handled before, {waiting} left queued, {sent} in all")


async def publish_reports(vhost_url: str, s: Seeded, n: int) -> None:
    host = vhost_url.split("@", 1)[1]
    connection = await aio_pika.connect(f"amqp://{s.office.code}:office-secret@{host}")
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(topology.INBOUND_EXCHANGE, ensure=False)
        for i in range(1, n + 1):
            body = report_json(s.office.code, s.mandate.ref, i)
            message = aio_pika.Message(
                body, content_type="application/json", user_id=s.office.code, message_id=f"m{i}"
            )
            await exchange.publish(message, topology.INBOUND_ROUTING_KEY)


async def queue_depth(vhost_url: str, queue: str) -> int | None:
    """Messages ready in ``queue``; None while it does not exist."""
    connection = await aio_pika.connect(vhost_url)
    async with connection:
        channel = await connection.channel()
        try:
            declared = await channel.declare_queue(queue, passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return None
        return int(declared.declaration_result.message_count or 0)


async def test_hub_serve_writes_no_secret_to_its_output(database: tuple[str, AsyncEngine]) -> None:
    """Started with known secrets, and a broker that refuses it (so its connection errors are logged
    too): neither the secret key nor the broker password appears in anything the process writes.
    Stopped while the broker is still unreachable, it stops at once: its consumer, still waiting for
    the broker, is not left to be cancelled at the end of the grace."""
    url, _engine = database
    secret, password = "K3y-" + secrets.token_hex(24), "Pw-" + secrets.token_hex(12)
    closed = _free_port()
    env = hub_env(url, HUB_SECRET_KEY=secret, HUB_AMQP_URL=f"amqp://hub:{password}@127.0.0.1:{closed}/hub")
    process, base = serve(env, "all")

    async def broker_named() -> bool:
        return "broker" in httpx.get(f"{base}/readyz", timeout=5).text

    await stop_once(process, broker_named, within=60, poll=0.2)
    status, output = terminated(process)
    assert status == 0, output
    assert "broker_unreachable" in output  # the errors were logged...
    assert secret not in output and password not in output  # ...without the secrets
    assert "worker_cancelled_at_grace" not in output and '"cancelled": 0' in output
