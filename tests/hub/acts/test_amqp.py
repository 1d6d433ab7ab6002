"""Parity: the same act reports over AMQP (hub.inbound, as the office's own broker user) and over
HTTP give the same results: accepted and recorded, or refused with the same errors, and the same
receipt (the HTTP answer's, and the one sent back on the office's queue over AMQP)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from aio_pika.abc import AbstractIncomingMessage
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.amqp import topology
from adapters.xml import codec
from hub.acts.models import ActReport
from hub.database import unit_of_work
from hub.messaging.models import Receipt, StoredMessage
from hub.offices import service as offices
from hub.offices.repository import OfficeRepository
from schemas import v1
from tests.conftest import eventually
from tests.hub.acts.factories import bearer, report, seed
from tests.hub.messaging.test_amqp import (  # noqa: F401 - fixtures
    Hub,
    collect,
    committed_database_url,
    committed_engine,
    hub,
    office_code,
    publish_as_office,
    until_count,
)

pytestmark = pytest.mark.rabbitmq


def xml(office: str, mandate_ref: str, n: str, **changes: str) -> bytes:
    return codec.encode(
        v1.ActReport.model_validate_json(json.dumps(report(office, mandate_ref, n, **changes)))
    )


async def receipt_codes(
    sessions: async_sessionmaker[AsyncSession], sender: str, message_id: str
) -> tuple[bool, list[str]]:
    async with sessions() as session:
        found = (
            await session.execute(
                select(Receipt.accepted, Receipt.errors)
                .join(StoredMessage, StoredMessage.id == Receipt.message_pk)
                .where(StoredMessage.sender == sender, StoredMessage.message_id == message_id)
            )
        ).one()
        return bool(found[0]), [e["code"] for e in found[1]]


async def test_the_same_reports_over_amqp_and_http_give_the_same_results(
    hub: Hub,  # noqa: F811
    vhost_url: str,
    office_code: str,  # noqa: F811
    sessions: async_sessionmaker[AsyncSession],
    app: FastAPI,
    client: httpx.AsyncClient,
) -> None:
    async with unit_of_work(sessions) as session:
        office = await OfficeRepository(session).get_by_code(office_code)
        assert office is not None
        s = await seed(session, office=office)
        key = (await offices.create_key(session, office_code)).secret

    to_office: list[AbstractIncomingMessage] = []
    listener = await collect(vhost_url, topology.office_queue(office_code), to_office)
    cases: dict[str, dict[str, Any]] = {
        "good": {},
        "future": {"act_date": "2099-01-01"},
        "not-allowed": {"act_code": "BANK_GARNISHMENT"},
        "unknown-mandate": {"mandate_ref": "M-NOBODY"},
        "json": {},
    }
    answers = {}
    for name, changes in cases.items():

        def body(channel: str, name: str = name, changes: dict[str, Any] = changes) -> bytes:
            if name == "json":
                return json.dumps(report(office_code, s.mandate.ref, f"{channel}-{name}")).encode()
            other = {k: v for k, v in changes.items() if k != "mandate_ref"}
            return xml(office_code, changes.get("mandate_ref", s.mandate.ref), f"{channel}-{name}", **other)

        content_type = "application/json" if name == "json" else "application/xml"
        await publish_as_office(vhost_url, office_code, body("amqp"), content_type=content_type)
        answers[name] = await client.post(
            "/v1/act-reports", content=body("http"), headers=bearer(key, **{"Content-Type": content_type})
        )
    assert {name: a.status_code for name, a in answers.items()} == {
        "good": 202,
        "future": 422,
        "not-allowed": 422,
        "unknown-mandate": 404,
        "json": 202,
    }
    query = (
        select(func.count()).select_from(Receipt).join(StoredMessage, StoredMessage.id == Receipt.message_pk)
    )
    await until_count(sessions, query.where(StoredMessage.sender == office_code), 2 * len(cases))

    for name in cases:
        over_amqp = await receipt_codes(sessions, office_code, f"CR-{office_code}-amqp-{name}")
        over_http = await receipt_codes(sessions, office_code, f"CR-{office_code}-http-{name}")
        assert over_amqp == over_http, name
    assert await receipt_codes(sessions, office_code, f"CR-{office_code}-amqp-good") == (True, [])

    # The receipts the office gets back: over HTTP the answer, over AMQP a message on its queue.
    await hub.drain()
    await eventually(lambda: len(receipts_of(to_office)) == len(cases))
    sent_back = receipts_of(to_office)
    for name, answer in answers.items():
        over_http = answer.json() if answer.status_code == 202 else answer.json()["receipt"]
        over_amqp = sent_back[f"CR-{office_code}-amqp-{name}"]
        assert over_http["message_id"] == f"CR-{office_code}-http-{name}"
        assert comparable(over_amqp) == comparable(over_http), name
    await listener.close()
    async with sessions() as session:
        stored = await session.scalar(
            select(func.count()).select_from(ActReport).where(ActReport.office_id == s.office.id)
        )
    assert stored == 4  # good and json, over each channel


def receipts_of(delivered: list[AbstractIncomingMessage]) -> dict[str, dict[str, Any]]:
    """The receipts among what reached the office's queue, by the message id they answer."""
    found = {}
    for message in delivered:
        decoded = codec.decode(message.body)
        if isinstance(decoded, v1.Receipt):
            found[decoded.message_id] = decoded.model_dump(mode="json")
    return found


def comparable(receipt: dict[str, Any]) -> dict[str, Any]:
    """A receipt without what differs between two messages by nature (ids, hash, time, signature)."""
    return {
        "kind": receipt["envelope"]["kind"],
        "recipient": receipt["envelope"]["recipient"],
        "accepted": receipt["accepted"],
        "errors": [(e["path"], e["code"], e["message"].replace("amqp-", "http-")) for e in receipt["errors"]],
    }
