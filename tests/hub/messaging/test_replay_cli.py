"""``hub replay`` and ``hub dead requeue`` run as an operator runs them: a subprocess of its own,
which imports only what the command line imports. Each office message is first refused (or
dead-lettered) for a cause the agency then fixes; the command must then apply it for real (the
mandate acknowledged, the approval pending, the notice acknowledged, the invoice matched), answer
it with a new signed receipt sent to the office, and apply nothing a second time."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.app import create_app
from hub.cases.models import Case
from hub.database import create_engine, session_factory, unit_of_work
from hub.invoices.models import Invoice, InvoiceLine
from hub.mandates import service as mandates
from hub.mandates.models import Approval, HoldNotice, Mandate, MandateEvent, MandateKind
from hub.mandates.service import MandateIn
from hub.messaging.dead_letters import DeadLetter, list_dead_letters
from hub.messaging.models import OutboxEntry, Receipt, StoredMessage
from hub.messaging.service import receipt_payload
from hub.messaging.signing import ReceiptSigner, verify
from hub.offices import service as offices
from hub.offices.models import DeliveryChannel
from hub.offices.repository import OfficeRepository
from hub.settings import Settings
from tests.conftest import rabbitmqctl, sqlite_database
from tests.hub.acts.factories import bearer
from tests.hub.invoices.einvoices import SIRET, Line, ubl
from tests.hub.invoices.factories import world
from tests.hub.mandates.factories import RICH, a_case, new_code
from tests.hub.mandates.test_handlers import office_message
from tests.hub.messaging.test_amqp import publish_as_office
from tests.hub.test_cli import _free_port as free_port
from tests.hub.test_cli import hub

SECRET = "replay-cli-secret-" + "k" * 32
STAFF = "agent@agence.example"


@pytest.fixture(autouse=True)
def routing_only() -> None:
    """Overrides the messaging tests' fixture of that name: here every domain handler must run,
    in the test's process (which refuses the messages first) as in the command's."""


@pytest.fixture
async def database(tmp_path: Path) -> str:
    return await sqlite_database(tmp_path)


@pytest.fixture
def env(database: str) -> dict[str, str]:
    return {
        **os.environ,
        "HUB_DATABASE_URL": database,
        "HUB_AMQP_URL": "",
        "HUB_ENV": "development",
        "HUB_SECRET_KEY": SECRET,
    }


@pytest.fixture
async def app(database: str) -> AsyncIterator[FastAPI]:
    """The hub an office talks to; only its API (no relay): what is queued stays on the outbox."""
    app = create_app(Settings(env="test", database_url=database, amqp_url="", secret_key=SECRET, role="api"))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as c:
        yield c


def refused_pk(answer: httpx.Response, code: str) -> uuid.UUID:
    """The stored message's id, as an operator reads it from the refusal's signed receipt."""
    problem = answer.json()
    assert answer.status_code >= 400 and code in {e["code"] for e in problem["errors"]}, answer.text
    return uuid.UUID(hex=problem["receipt"]["envelope"]["message_id"].removeprefix("RCPT-"))


@dataclass
class Office:
    code: str
    key: dict[str, str]


async def an_office(app: FastAPI, **kw: Any) -> Office:
    code = new_code()
    async with unit_of_work(app.state.sessions) as session:
        await offices.add_office(session, code=code, name=f"Étude {code}", **kw)
        key = (await offices.create_key(session, code)).secret
    return Office(code, bearer(key))


async def mandate_for(session: AsyncSession, office: str, ref: str | None = None, **terms: Any) -> Mandate:
    case = await a_case(session, **RICH)
    terms = terms or {"kind": MandateKind.PER_ACT, "acts": ["SERVE_TITLE"]}
    data = MandateIn(ref=ref, case_ref=case.ref, office_code=office, **terms)
    return await mandates.create_mandate(session, data, actor=STAFF)


async def scalar(app: FastAPI, query: Any) -> Any:
    async with unit_of_work(app.state.sessions) as session:
        return await session.scalar(query)


async def rows(app: FastAPI, query: Any) -> list[Any]:
    async with unit_of_work(app.state.sessions) as session:
        return list(await session.scalars(query))


async def signed_receipt_of(app: FastAPI, message: StoredMessage) -> Receipt:
    """The receipt of ``message``, checked against the hub's public key."""
    [receipt] = await rows(app, select(Receipt).where(Receipt.message_pk == message.id))
    payload = receipt_payload(
        receipt.message_id,
        receipt.sender,
        receipt.sha256,
        receipt.received_at,
        receipt.accepted,
        [],
        receipt.invoice_id,  # an accepted fee invoice's receipt names the invoice, signed
        receipt.key_id,
    )
    assert receipt.key_id == ReceiptSigner(SECRET).key_id
    assert verify(ReceiptSigner(SECRET).public_key_b64(), payload, receipt.signature)
    return receipt


async def replayed_and_answered(
    app: FastAPI, env: dict[str, str], pk: uuid.UUID, office: str
) -> StoredMessage:
    """``hub replay`` applies the message: a child of it is stored, accepted with a new signed
    receipt, and that receipt is queued to the office."""
    done = hub(env, "replay", str(pk))
    assert done.stdout.strip() == f"message {pk}: accepted", done.stdout + done.stderr
    replays = StoredMessage.parent_id == pk, StoredMessage.direction == "inbound"
    [child] = await rows(app, select(StoredMessage).where(*replays))
    assert child.sender == office and child.status == "validated"
    receipt = await signed_receipt_of(app, child)
    assert receipt.accepted and receipt.errors == []
    sent = await rows(
        app,
        select(StoredMessage)
        .join(OutboxEntry, OutboxEntry.message_pk == StoredMessage.id)
        .where(StoredMessage.parent_id == child.id, OutboxEntry.recipient == office),
    )
    assert [(m.kind, m.correlation_id) for m in sent] == [("receipt", child.message_id)]
    return child


async def count(app: FastAPI, model: Any, *where: Any) -> int:
    return int(await scalar(app, select(func.count()).select_from(model).where(*where)))


async def test_replay_applies_a_mandate_ack_once_its_mandate_exists(
    app: FastAPI, client: httpx.AsyncClient, env: dict[str, str]
) -> None:
    office = await an_office(app)
    ref = f"M-IMPORT-{secrets.token_hex(3).upper()}"
    ack = office_message("mandate_ack", office.code, mandate_ref=ref, accepted=True, office_reference="E-77")
    pk = refused_pk(await client.post("/v1/messages", json=ack, headers=office.key), "mandate.not_found")

    async with unit_of_work(app.state.sessions) as session:  # the agency's import arrives late
        await mandate_for(session, office.code, ref)
    await replayed_and_answered(app, env, pk, office.code)

    [mandate] = await rows(app, select(Mandate).where(Mandate.ref == ref))
    assert mandate.status == "acknowledged"
    log = await rows(
        app, select(MandateEvent).where(MandateEvent.mandate_id == mandate.id).order_by(MandateEvent.id)
    )
    assert (log[-1].from_status, log[-1].to_status, log[-1].actor) == ("issued", "acknowledged", office.code)
    assert "E-77" in (log[-1].reason or "")

    # Replayed again (the refused original or the applied copy): its first receipt, nothing applied.
    receipts, outbox = await count(app, Receipt), await count(app, OutboxEntry)
    again = hub(env, "replay", str(pk))
    assert "already applied" in again.stdout and "nothing done" in again.stdout
    assert await count(app, MandateEvent, MandateEvent.mandate_id == mandate.id) == len(log)
    assert (await count(app, Receipt), await count(app, OutboxEntry)) == (receipts, outbox)


async def test_replay_records_a_cost_request_once_its_mandate_exists(
    app: FastAPI, client: httpx.AsyncClient, env: dict[str, str]
) -> None:
    office = await an_office(app)
    ref = f"M-IMPORT-{secrets.token_hex(3).upper()}"
    asked = office_message(
        "cost_request",
        office.code,
        mandate_ref=ref,
        act_code="BANK_GARNISHMENT",
        estimated_fees_cents=12_876,
        justification="Compte identifié (FICOBA)",
    )
    pk = refused_pk(await client.post("/v1/messages", json=asked, headers=office.key), "mandate.not_found")

    async with unit_of_work(app.state.sessions) as session:
        await mandate_for(session, office.code, ref, kind=MandateKind.WHOLE_FILE, fee_budget_cents=20_000)
    child = await replayed_and_answered(app, env, pk, office.code)

    [approval] = await rows(app, select(Approval).where(Approval.request_message_id == child.message_id))
    assert approval.decision is None and approval.amount_cents == 12_876
    assert approval.requested_by == office.code and approval.act_code == "BANK_GARNISHMENT"

    for replayed in (pk, child.id):
        assert "already applied" in hub(env, "replay", str(replayed)).stdout
    assert await count(app, Approval, Approval.request_message_id == child.message_id) == 1


async def test_replay_records_a_hold_notice_ack_sent_to_the_wrong_route(
    app: FastAPI, client: httpx.AsyncClient, env: dict[str, str]
) -> None:
    office = await an_office(app)
    async with unit_of_work(app.state.sessions) as session:
        mandate = await mandate_for(session, office.code)
        case = await session.get(Case, mandate.case_id)
        assert case is not None
        await mandates.raise_hold(
            session, case.ref, "payment_plan_active", actor=STAFF, comment="plan agreed"
        )
    [notice] = await rows(app, select(HoldNotice).where(HoldNotice.office_id == mandate.office_id))
    ack = office_message("hold_notice_ack", office.code, notice_id=notice.message_id, mandate_ref=mandate.ref)
    answer = await client.post("/v1/act-reports", json=ack, headers=office.key)  # not its route
    pk = refused_pk(answer, "envelope.kind_not_for_route")

    child = await replayed_and_answered(app, env, pk, office.code)
    [notice] = await rows(app, select(HoldNotice).where(HoldNotice.id == notice.id))
    assert notice.acknowledged_at is not None and notice.ack_message_id == child.message_id


async def test_replay_reads_and_matches_an_einvoice_once_the_office_siret_is_registered(
    app: FastAPI, client: httpx.AsyncClient, env: dict[str, str]
) -> None:
    w = await world(app, siret=None)
    sent = await client.post(
        "/v1/invoices",
        content=ubl("F-REPLAY-1", [Line(5158, ref="A/1")]),
        headers=bearer(w.key, **{"Content-Type": "application/xml"}),
    )
    pk = refused_pk(sent, "invoice.office_siret_unregistered")

    async with unit_of_work(app.state.sessions) as session:  # no command sets it on an existing office
        office = await OfficeRepository(session).get_by_code(w.code)
        assert office is not None
        office.siret = SIRET
    child = await replayed_and_answered(app, env, pk, w.code)

    [invoice] = await rows(app, select(Invoice).where(Invoice.message_pk == child.id))
    assert invoice.number == "F-REPLAY-1" and invoice.syntax == "ubl" and invoice.state == "matched"
    lines = await rows(app, select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id))
    assert [(line.result, line.act_report_id) for line in lines] == [("matched", w.acts["A/1"].id)]


async def test_replay_and_resend_errors_are_one_line(env: dict[str, str], database: str) -> None:
    for args in (
        ("replay", str(uuid.uuid4())),
        ("replay", "not-an-id"),
        ("resend", str(uuid.uuid4())),
        ("resend", "not-an-id"),
    ):
        done = hub(env, *args, ok=False)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, done.stderr)


# hub dead requeue: the hub runs with RabbitMQ (API, relay and consumer in one process) on the
# session's virtual host; the operator's commands run while it is stopped, on the same database.


@asynccontextmanager
async def hub_with_broker(database: str, amqp: str) -> AsyncIterator[FastAPI]:
    settings = Settings(env="test", database_url=database, amqp_url=amqp, secret_key=SECRET, role="all")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with asyncio.timeout(30):
            await app.state.broker.ready()
        yield app


async def dead_letters_to_be(url: str, count: int) -> list[DeadLetter]:
    """Waits for the consumer and the relay to have put ``count`` letters in hub.dead."""
    async with asyncio.timeout(60):
        while len(letters := await list_dead_letters(url)) < count:  # noqa: ASYNC110 - polls the broker
            await asyncio.sleep(0.2)
    return letters


@pytest.fixture
def office_code(vhost: str) -> Iterator[str]:
    """An office's AMQP user, allowed to write hub.inbound and read its own queue."""
    code = new_code()
    rabbitmqctl("add_user", code, "office-secret")
    rabbitmqctl("set_permissions", "-p", vhost, code, "^$", "^hub\\.inbound$", f"^office\\.{code}$")
    yield code
    rabbitmqctl("delete_user", code)


@pytest.fixture
def broker_env(env: dict[str, str], vhost_url: str) -> dict[str, str]:
    return {**env, "HUB_AMQP_URL": vhost_url}


@pytest.mark.rabbitmq
async def test_requeue_applies_an_unknown_senders_messages_once_its_office_is_added(
    database: str, vhost_url: str, broker_env: dict[str, str], office_code: str
) -> None:
    ref = f"M-IMPORT-{secrets.token_hex(3).upper()}"
    ack = office_message("mandate_ack", office_code, mandate_ref=ref, accepted=True, office_reference="E-9")
    asked = office_message(
        "cost_request",
        office_code,
        mandate_ref=ref,
        act_code="BANK_GARNISHMENT",
        estimated_fees_cents=9_900,
        justification="Compte identifié",
    )
    async with hub_with_broker(database, vhost_url):
        for message in (ack, asked):  # sent with its own AMQP user, before the office is registered
            await publish_as_office(
                vhost_url, office_code, json.dumps(message).encode(), content_type="application/json"
            )
        letters = await dead_letters_to_be(vhost_url, 2)
    assert {(d.sender, d.reason) for d in letters} == {(office_code, "sender.unknown")}

    hub(broker_env, "offices", "add", office_code, "--name", "Étude", "--channel", "amqp")
    engine = create_engine(database)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            await mandate_for(session, office_code, ref)
        listed = hub(broker_env, "dead", "list").stdout.splitlines()[1:]
        assert sorted(line.split("\t")[1:3] for line in listed) == [[office_code, "sender.unknown"]] * 2
        done = hub(broker_env, "dead", "requeue")
        assert (
            sorted(line.split("\t", 1)[1] for line in done.stdout.splitlines())
            == [f"{office_code}\taccepted"] * 2
        ), done.stdout + done.stderr
        assert await list_dead_letters(vhost_url) == []

        async with unit_of_work(session_factory(engine)) as session:
            mandate = await mandates.get_mandate(session, ref)
            assert mandate.status == "acknowledged"
            last = (await mandates.events(session, mandate))[-1]
            assert (last.to_status, last.actor) == ("acknowledged", office_code) and "E-9" in (
                last.reason or ""
            )
            [approval] = await session.scalars(select(Approval).where(Approval.mandate_id == mandate.id))
            assert approval.requested_by == office_code and approval.decision is None
            assert approval.request_message_id == asked["envelope"]["message_id"]
            # Stored, receipted and answered as the office whose AMQP user sent them.
            applied = list(
                await session.scalars(
                    select(StoredMessage).where(
                        StoredMessage.direction == "inbound", StoredMessage.status == "validated"
                    )
                )
            )
            assert sorted((m.kind, m.sender) for m in applied) == [
                ("cost_request", office_code),
                ("mandate_ack", office_code),
            ]
            for message in applied:
                [receipt] = await session.scalars(select(Receipt).where(Receipt.message_pk == message.id))
                assert receipt.accepted and receipt.sender == office_code
            pks = [m.id for m in applied]
            answers = await session.execute(  # a forward points at the message itself, an answer is its child
                select(StoredMessage.kind, OutboxEntry.routing_key)
                .join(OutboxEntry, OutboxEntry.message_pk == StoredMessage.id)
                .where(or_(StoredMessage.parent_id.in_(pks), StoredMessage.id.in_(pks)))
            )
            assert sorted(answers.all()) == [
                ("cost_request", "cost_request.received"),  # forwarded to the agency
                ("mandate_ack", "mandate_ack.received"),
                ("receipt", f"office.{office_code}"),  # answered to the office
                ("receipt", f"office.{office_code}"),
            ]
    finally:
        await engine.dispose()
    again = hub(broker_env, "dead", "requeue")
    assert again.stdout == "" and "0 message(s)" in again.stderr


@pytest.mark.rabbitmq
async def test_requeue_reads_an_einvoice_dead_lettered_before_the_office_siret_was_registered(
    database: str, vhost_url: str, broker_env: dict[str, str], office_code: str
) -> None:
    engine = create_engine(database)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            await offices.add_office(
                session, code=office_code, name="Étude", delivery_channel=DeliveryChannel.AMQP
            )
        w = await world(
            SimpleNamespace(state=SimpleNamespace(sessions=session_factory(engine))),
            code=office_code,
            siret=None,
        )  # type: ignore[arg-type]
        async with hub_with_broker(database, vhost_url):
            await publish_as_office(vhost_url, office_code, ubl("F-DL-1", [Line(5158, ref="A/1")]))
            [letter] = await dead_letters_to_be(vhost_url, 1)
        assert (letter.sender, letter.reason) == (office_code, "invoice.office_siret_unregistered")

        async with unit_of_work(session_factory(engine)) as session:
            office = await OfficeRepository(session).get_by_code(office_code)
            assert office is not None
            office.siret = SIRET
        done = hub(broker_env, "dead", "requeue")
        assert done.stdout.split("\t")[1:] == [office_code, "accepted\n"], done.stdout + done.stderr

        async with unit_of_work(session_factory(engine)) as session:
            [invoice] = await session.scalars(select(Invoice).where(Invoice.office_id == office.id))
            assert invoice.number == "F-DL-1" and invoice.state == "matched"
            [line] = await session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id))
            assert (line.result, line.act_report_id) == ("matched", w.acts["A/1"].id)
    finally:
        await engine.dispose()


def test_dead_letter_commands_need_a_reachable_broker(env: dict[str, str]) -> None:
    unreachable = {**env, "HUB_AMQP_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/"}
    for environment in (env, unreachable):
        for command in ("list", "requeue"):
            done = hub(environment, "dead", command, ok=False)
            lines = done.stderr.strip().splitlines()
            assert done.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "HUB_AMQP_URL" in hub(env, "dead", "requeue", ok=False).stderr
