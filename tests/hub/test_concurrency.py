"""Business rules under concurrent writers, as offices meet them: the same write sent N times at
once to a ``hub serve`` subprocess on a PostgreSQL database of its own ends exactly as the same
writes sent one after the other (the "sequential twin", played first on fresh objects), in every
round. And a keyed batch killed midway is retried with its key after a restart and applied once.

PostgreSQL only: on SQLite one writer at a time serialises everything."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.acts.models import ActReport
from hub.cases.models import Case
from hub.database import create_engine, session_factory, unit_of_work
from hub.invoices.models import Invoice
from hub.kit.clock import utcnow
from hub.ledger.models import LedgerTransaction
from hub.mandates.models import HoldNotice, Mandate, MandateEvent
from hub.offices import service as offices
from hub.staff import service as staff
from hub.staff.models import Role
from tests.conftest import postgres_database
from tests.hub.acts.factories import Seeded, bearer, renumbered_batch, report, seed
from tests.hub.cases.factories import case_body
from tests.hub.invoices.factories import v1_invoice, world
from tests.hub.mandates.factories import RICH, an_office
from tests.hub.mandates.test_handlers import office_message

pytestmark = pytest.mark.postgres

HUB = [sys.executable, "-m", "hub"]
N = 6  # writes at once
ROUNDS = 20  # bursts per rule, each on fresh objects: a race does not fire every time
FEES = 5158 + 880  # the sample act report's fees (emoluments + disbursements), excl. VAT
JSON_BODY = {"Content-Type": "application/json"}

Outcome = tuple[int, str | None]  # HTTP status, problem code


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HubServer:
    """``hub serve`` (API role) as an operator runs it, on ``database_url``."""

    def __init__(self, database_url: str, **env: str) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "HUB_DATABASE_URL": database_url,
            "HUB_AMQP_URL": "",
            "HUB_ENV": "test",
            "HUB_ROLE": "api",
            "HUB_PORT": str(self.port),
            "HUB_SECRET_KEY": "c" * 40,
            "HUB_LOG_LEVEL": "WARNING",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.TemporaryFile()  # a file, not a pipe: a full pipe would stall the server

    def start(self) -> None:
        self.process = subprocess.Popen(
            [*HUB, "serve"], env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                raise AssertionError(f"hub serve exited: {self.output()[-2000:]}")
            assert time.monotonic() < deadline, "hub serve did not answer within 60 s"
            time.sleep(0.2)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Hub:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    client: httpx.AsyncClient


@pytest.fixture(scope="module")
async def database() -> AsyncIterator[str]:
    async with postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
async def hub(database: str) -> AsyncIterator[Hub]:
    server = HubServer(database)
    server.start()
    engine = create_engine(database)
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
            yield Hub(database, engine, session_factory(engine), client)
    finally:
        await engine.dispose()
        server.stop()


async def seeded(sessions: async_sessionmaker[AsyncSession], **kind: Any) -> tuple[Seeded, str]:
    """A new office with its key, a case and a mandate issued to it."""
    budget = kind.pop("fee_budget_cents", None)
    async with unit_of_work(sessions) as session:
        s = await seed(session, **kind)
        s.mandate.fee_budget_cents = budget
        key = (await offices.create_key(session, s.office.code)).secret
    return s, key


async def office_with_mandates(hub: Hub) -> tuple[Seeded, list[Seeded], str]:
    """A new office with its key and N mandates, each on a case of its own."""
    first, key = await seeded(hub.sessions)
    async with unit_of_work(hub.sessions) as session:
        others = [await seed(session, office=first.office) for _ in range(N - 1)]
    return first, others, key


def outcome(answer: httpx.Response) -> Outcome:
    assert answer.status_code < 500, answer.text
    return answer.status_code, answer.json().get("code") if answer.status_code >= 400 else None


async def at_once(sends: list[Callable[[], Awaitable[httpx.Response]]]) -> list[Outcome]:
    return sorted((outcome(a) for a in await asyncio.gather(*(send() for send in sends))), key=str)


async def one_by_one(sends: list[Callable[[], Awaitable[httpx.Response]]]) -> list[Outcome]:
    return sorted([outcome(await send()) for send in sends], key=str)


async def count(sessions: async_sessionmaker[AsyncSession], query: Any) -> int:
    async with unit_of_work(sessions) as session:
        return int((await session.execute(query)).scalar_one())


async def same_as_sequential(
    hub: Hub,
    fresh: Callable[[], Awaitable[tuple[list[Callable[[], Awaitable[httpx.Response]]], Any]]],
    state: Callable[[Any], Awaitable[Any]],
) -> tuple[list[Outcome], Any]:
    """Plays the sends of ``fresh()`` one by one, then ROUNDS times all at once on fresh objects;
    the answers (sorted) and the ``state`` read from the database must be the sequential ones,
    which are returned."""
    sends, subject = await fresh()
    expected = (await one_by_one(sends), await state(subject))
    for round_ in range(ROUNDS):
        sends, subject = await fresh()
        got = (await at_once(sends), await state(subject))
        assert got == expected, f"round {round_ + 1}: {got} != sequential {expected}"
    return expected


def one_then(refusal: Outcome) -> list[Outcome]:
    return [(202, None)] + [refusal] * (N - 1)


def post(
    hub: Hub, path: str, body: dict[str, Any] | bytes, key: str
) -> Callable[[], Awaitable[httpx.Response]]:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return lambda: hub.client.post(path, content=content, headers=bearer(key, **JSON_BODY))


async def mandate_log(hub: Hub, mandate_id: uuid.UUID) -> list[tuple[str | None, str]]:
    async with unit_of_work(hub.sessions) as session:
        rows = await session.execute(
            select(MandateEvent.from_status, MandateEvent.to_status)
            .where(MandateEvent.mandate_id == mandate_id)
            .order_by(MandateEvent.id)
        )
        return [(a, b) for a, b in rows.all()]


async def test_reports_at_once_on_a_one_act_mandate_are_accepted_once(hub: Hub) -> None:
    """The first report completes the mandate; the others are refused as under a completed one."""

    async def fresh() -> tuple[list[Callable[[], Awaitable[httpx.Response]]], Seeded]:
        s, key = await seeded(hub.sessions, acts=["SERVE_TITLE"])
        code = s.office.code
        return [post(hub, "/v1/act-reports", report(code, s.mandate.ref, n), key) for n in range(N)], s

    async def state(s: Seeded) -> tuple[int, int, list[tuple[str | None, str]]]:
        reports = await count(
            hub.sessions,
            select(func.count()).select_from(ActReport).where(ActReport.mandate_id == s.mandate.id),
        )
        postings = await count(
            hub.sessions,
            select(func.count())
            .select_from(LedgerTransaction)
            .where(LedgerTransaction.kind == "act_fees", LedgerTransaction.office_id == s.office.id),
        )
        return reports, postings, await mandate_log(hub, s.mandate.id)

    assert await same_as_sequential(hub, fresh, state) == (
        one_then((422, "mandate.not_reportable")),
        (1, 1, [("issued", "in_progress"), ("in_progress", "completed")]),
    )


async def test_reports_at_once_beyond_a_whole_file_budget_are_flagged(hub: Hub) -> None:
    """Room for three reports' fees: the reports beyond it are flagged ``budget_overrun``."""

    async def fresh() -> tuple[list[Callable[[], Awaitable[httpx.Response]]], Seeded]:
        s, key = await seeded(hub.sessions, kind="whole_file", acts=[], fee_budget_cents=3 * FEES)
        code = s.office.code
        return [post(hub, "/v1/act-reports", report(code, s.mandate.ref, n), key) for n in range(N)], s

    async def state(s: Seeded) -> tuple[int, list[tuple[str | None, str]]]:
        async with unit_of_work(hub.sessions) as session:
            rows = await session.execute(
                select(ActReport.flagged, ActReport.assessment).where(ActReport.mandate_id == s.mandate.id)
            )
            flagged = [assessment for is_flagged, assessment in rows.all() if is_flagged]
        assert all("budget_overrun" in json.dumps(a) for a in flagged), flagged
        return len(flagged), await mandate_log(hub, s.mandate.id)

    assert await same_as_sequential(hub, fresh, state) == (
        [(202, None)] * N,
        (3, [("issued", "in_progress")]),
    )


async def test_one_reference_at_once_under_several_mandates_is_taken_once(hub: Hub) -> None:
    """An act reference is the office's, whatever the mandate: six reports reusing one under six
    mandates (whose locks never meet) take it once; the others are refused as reused, never a 500
    from the unique index."""

    async def fresh() -> tuple[list[Callable[[], Awaitable[httpx.Response]]], Seeded]:
        first, others, key = await office_with_mandates(hub)
        code = first.office.code
        sends = [
            post(hub, "/v1/act-reports", report(code, s.mandate.ref, n, office_reference=f"A/{code}"), key)
            for n, s in enumerate([first, *others])
        ]
        return sends, first

    async def state(s: Seeded) -> int:
        return await count(
            hub.sessions,
            select(func.count()).select_from(ActReport).where(ActReport.office_id == s.office.id),
        )

    assert await same_as_sequential(hub, fresh, state) == (
        one_then((422, "act_report.reference_reused")),
        1,
    )


async def test_one_reference_in_batches_at_once_under_several_mandates_is_taken_once(hub: Hub) -> None:
    """The same in batch files, whose chunks have no retry: each file's one record reuses the
    reference under a mandate of its own. Every file is answered 200, its record accepted or refused
    as reused; the unique index never fails a chunk (which answered 500 and left the batch running)."""

    async def fresh() -> tuple[list[Callable[[], Awaitable[httpx.Response]]], Seeded]:
        first, others, key = await office_with_mandates(hub)
        code, headers = first.office.code, bearer(key, **{"Content-Type": "application/xml"})
        sends = []
        for n, s in enumerate([first, *others]):
            body = renumbered_batch(code, s.mandate.ref, 1, numbered=lambda _, n=n: f"batch-{n}")
            body = body.replace(f"A/{code}/batch-{n}".encode(), f"A/{code}".encode())
            sends.append(
                lambda body=body: hub.client.post("/v1/act-reports/batch", content=body, headers=headers)
            )
        return sends, first

    async def state(s: Seeded) -> int:
        return await count(
            hub.sessions,
            select(func.count()).select_from(ActReport).where(ActReport.office_id == s.office.id),
        )

    assert await same_as_sequential(hub, fresh, state) == ([(200, None)] * N, 1)


async def test_a_cancel_and_the_report_completing_a_mandate_at_once_end_it_once(hub: Hub) -> None:
    """Staff cancel a one-act mandate while the office reports its act: whichever comes first, the
    other is refused (cancel 409 on a completed mandate, report 422 on a cancelled one) and the
    mandate's log is one chain, never a completed mandate overwritten as cancelled."""
    async with unit_of_work(hub.sessions) as session:
        _, token = await staff.add_staff(session, f"ops-{secrets.token_hex(3)}@agence.example", Role.ADMIN)
    seen = set()
    for _ in range(ROUNDS):
        s, key = await seeded(hub.sessions, acts=["SERVE_TITLE"])
        report_sent, cancelled = await asyncio.gather(
            post(hub, "/v1/act-reports", report(s.office.code, s.mandate.ref), key)(),
            hub.client.post(
                f"/v1/mandates/{s.mandate.ref}/cancel",
                json={"reason": "the debtor paid the agency"},
                headers=bearer(token),
            ),
        )
        answers = (outcome(report_sent), outcome(cancelled))
        assert answers in {
            ((202, None), (409, "mandate.transition_forbidden")),
            ((422, "mandate.not_reportable"), (200, None)),
        }, answers
        log = await mandate_log(hub, s.mandate.id)
        assert all(before[1] == after[0] for before, after in itertools.pairwise(log)), log
        assert log[-1][1] == ("completed" if answers[0][0] == 202 else "cancelled")
        seen.add(answers[0][0])
    assert seen, "at least one round ran"


async def test_mandates_at_once_for_one_debtor_are_paced_as_one_after_the_other(hub: Hub) -> None:
    """Pacing counts the coercive acts already ordered against the debtor: six mandates for a bank
    garnishment issued at once on one case are held beyond the limit, as one after the other."""
    async with unit_of_work(hub.sessions) as session:
        _, token = await staff.add_staff(session, f"ops-{secrets.token_hex(3)}@agence.example", Role.STAFF)
        office = await an_office(session)

    async def fresh() -> tuple[list[Callable[[], Awaitable[httpx.Response]]], str]:
        case = case_body(**RICH)
        created = await hub.client.post("/v1/cases", json=case, headers=bearer(token))
        assert created.status_code == 201, created.text
        body = {
            "case_ref": case["ref"],
            "office_code": office.code,
            "kind": "per_act",
            "acts": ["BANK_GARNISHMENT"],
        }
        return [
            lambda: hub.client.post("/v1/mandates", json=body, headers=bearer(token)) for _ in range(N)
        ], str(case["ref"])

    async def state(case_ref: str) -> list[str]:
        async with unit_of_work(hub.sessions) as session:
            rows = await session.execute(
                select(Mandate.status).join(Case, Case.id == Mandate.case_id).where(Case.ref == case_ref)
            )
            return sorted(status for (status,) in rows.all())

    answers, statuses = await same_as_sequential(hub, fresh, state)
    assert answers == [(201, None)] * N and statuses.count("held") >= 1, statuses


async def test_mandate_acknowledgements_at_once_apply_once(hub: Hub) -> None:
    """One acknowledgement moves the issued mandate; the others find it no longer awaiting one."""

    async def fresh() -> tuple[list[Callable[[], Awaitable[httpx.Response]]], Seeded]:
        s, key = await seeded(hub.sessions)
        sends = []
        for _ in range(N):
            # The sequential twin's answers do not depend on which one wins: both kinds fail alike.
            ack = office_message("mandate_ack", s.office.code, mandate_ref=s.mandate.ref, accepted=True)
            sends.append(post(hub, "/v1/mandate-acks", ack, key))
        return sends, s

    async def state(s: Seeded) -> list[tuple[str | None, str]]:
        return await mandate_log(hub, s.mandate.id)

    assert await same_as_sequential(hub, fresh, state) == (
        one_then((422, "mandate.not_awaiting_ack")),
        [("issued", "acknowledged")],
    )


async def test_copies_of_one_acknowledgement_at_once_are_its_duplicates(hub: Hub) -> None:
    """The same message sent again while its first copy runs is a duplicate (409, the first receipt),
    never refused by the check the first copy changed the answer to (and so never a negative
    acknowledgement for a message that was applied)."""

    async def fresh() -> tuple[list[Callable[[], Awaitable[httpx.Response]]], Seeded]:
        s, key = await seeded(hub.sessions)
        ack = office_message("mandate_ack", s.office.code, mandate_ref=s.mandate.ref, accepted=True)
        return [post(hub, "/v1/mandate-acks", ack, key)] * N, s

    async def state(s: Seeded) -> list[tuple[str | None, str]]:
        return await mandate_log(hub, s.mandate.id)

    assert await same_as_sequential(hub, fresh, state) == (
        one_then((409, "message.duplicate")),
        [("issued", "acknowledged")],
    )


async def test_hold_notice_acknowledgements_at_once_are_recorded_once(hub: Hub) -> None:
    async def fresh() -> tuple[list[Callable[[], Awaitable[httpx.Response]]], Seeded]:
        s, key = await seeded(hub.sessions)
        notice_id = f"HOLD-{secrets.token_hex(6)}"
        async with unit_of_work(hub.sessions) as session:
            now = utcnow()
            session.add(
                HoldNotice(
                    id=uuid.uuid4(),
                    message_id=notice_id,
                    mandate_id=s.mandate.id,
                    office_id=s.office.id,
                    act_code="PAYMENT_ORDER",
                    situation="payment_plan_active",
                    sent_at=now,
                    ack_due_by=now + timedelta(hours=48),
                )
            )
        sends = []
        for _ in range(N):
            ack = office_message(
                "hold_notice_ack", s.office.code, notice_id=notice_id, mandate_ref=s.mandate.ref
            )
            sends.append(post(hub, "/v1/hold-notice-acks", ack, key))
        return sends, s

    async def state(s: Seeded) -> list[tuple[str | None, str]]:
        return await mandate_log(hub, s.mandate.id)

    assert await same_as_sequential(hub, fresh, state) == (
        one_then((409, "hold_notice.already_acknowledged")),
        [("issued", "issued")],
    )


async def test_invoices_at_once_for_one_act_bill_it_once(hub: Hub) -> None:
    """One invoice matches; the others bill the act twice and are disputed, never all matched."""
    app = SimpleNamespace(state=SimpleNamespace(sessions=hub.sessions))

    async def fresh() -> tuple[list[Callable[[], Awaitable[httpx.Response]]], uuid.UUID]:
        w = await world(app)  # type: ignore[arg-type]
        line = {
            "office_act_reference": "A/1",
            "description": "Signification",
            "net_cents": 5158,
            "vat_rate_bp": 2000,
            "act_code": "SERVE_TITLE",
        }
        sends = [post(hub, "/v1/invoices", v1_invoice(w, f"F-{n}", [line]), w.key) for n in range(N)]
        return sends, w.seeded.office.id

    async def state(office_id: uuid.UUID) -> Counter[str]:
        async with unit_of_work(hub.sessions) as session:
            states = await session.scalars(select(Invoice.state).where(Invoice.office_id == office_id))
            return Counter(states)

    assert await same_as_sequential(hub, fresh, state) == (
        [(202, None)] * N,
        Counter({"matched": 1, "disputed": N - 1}),
    )


async def test_a_keyed_batch_killed_midway_is_retried_with_its_key_and_applied_once(
    database: str,
) -> None:
    """The server dies (SIGKILL) with some chunks of the batch committed; after a restart the client
    retries as documented (409 ``idempotency.in_progress``: retry later) until its key's lease has
    run out, and the batch then completes: every record is stored once, and the key replays it."""
    total = 4000
    good = total - total // 100  # every 100th record is refused (renumbered_batch)
    server = HubServer(database, HUB_IDEMPOTENCY_LEASE_SECONDS="2")
    engine = create_engine(database)
    sessions = session_factory(engine)
    s, key = await seeded(sessions)
    body = renumbered_batch(s.office.code, s.mandate.ref, total, numbered=str)
    headers = bearer(key, **{"Content-Type": "application/xml", "Idempotency-Key": "batch-1"})
    stored = select(func.count()).select_from(ActReport).where(ActReport.mandate_id == s.mandate.id)
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
            sending = asyncio.create_task(client.post("/v1/act-reports/batch", content=body, headers=headers))
            deadline = time.monotonic() + 60
            while (done := await count(sessions, stored)) == 0:
                assert time.monotonic() < deadline and not sending.done(), "no chunk was committed"
                await asyncio.sleep(0.02)
            server.kill()
            with pytest.raises(httpx.TransportError):
                await sending
        assert 0 < done < good, done  # killed midway: part of the file is stored
        server = HubServer(database, HUB_IDEMPOTENCY_LEASE_SECONDS="2")
        server.start()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
            deadline = time.monotonic() + 20
            while True:
                retried = await client.post("/v1/act-reports/batch", content=body, headers=headers)
                if retried.status_code != 409:
                    break
                assert retried.json()["code"] == "idempotency.in_progress", retried.text
                assert time.monotonic() < deadline, "the key of the killed batch stays in progress"
                await asyncio.sleep(float(retried.headers.get("retry-after", "1")))
            assert retried.status_code == 200, retried.text
            again = await client.post("/v1/act-reports/batch", content=body, headers=headers)
        assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
        assert again.content == retried.content
        result = retried.json()
        assert result["accepted_count"] + result["refused_count"] == total
        assert await count(sessions, stored) == good  # every record once: none lost, none twice
    finally:
        server.stop()
        await engine.dispose()
