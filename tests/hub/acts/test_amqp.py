"""Parity: the same act reports over AMQP (hub.inbound, as the office's own broker user) and over
HTTP give the same results: accepted and recorded, or refused with the same error codes."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.xml import codec
from hub.acts.models import ActReport
from hub.database import unit_of_work
from hub.messaging.models import Receipt, StoredMessage
from hub.offices import service as offices
from hub.offices.repository import OfficeRepository
from schemas import v1
from tests.hub.acts.factories import bearer, report, seed
from tests.hub.messaging.test_amqp import (  # noqa: F401 - fixtures
    Hub,
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

    cases = {
        "good": {},
        "future": {"act_date": "2099-01-01"},
        "not-allowed": {"act_code": "BANK_GARNISHMENT"},
    }
    for name, changes in cases.items():
        await publish_as_office(
            vhost_url, office_code, xml(office_code, s.mandate.ref, f"amqp-{name}", **changes)
        )
        answer = await client.post(
            "/v1/act-reports",
            content=xml(office_code, s.mandate.ref, f"http-{name}", **changes),
            headers=bearer(key, **{"Content-Type": "application/xml"}),
        )
        assert answer.status_code in (202, 422)
    query = (
        select(func.count()).select_from(Receipt).join(StoredMessage, StoredMessage.id == Receipt.message_pk)
    )
    await until_count(sessions, query.where(StoredMessage.sender == office_code), 6)

    for name in cases:
        over_amqp = await receipt_codes(sessions, office_code, f"CR-{office_code}-amqp-{name}")
        over_http = await receipt_codes(sessions, office_code, f"CR-{office_code}-http-{name}")
        assert over_amqp == over_http, name
    assert await receipt_codes(sessions, office_code, f"CR-{office_code}-amqp-good") == (True, [])
    async with sessions() as session:
        stored = await session.scalar(
            select(func.count()).select_from(ActReport).where(ActReport.office_id == s.office.id)
        )
    assert stored == 2
