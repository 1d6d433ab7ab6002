"""Erasure of a debtor's personal data, on SQLite and PostgreSQL, with ``hub gdpr`` run as an
operator runs it (a subprocess): before, the case's stored messages are sealed at rest and read back
whole, and the export holds the debtor; after, no column of any table and no raw body yields the
debtor's name or address, every receipt of the case still verifies with the published key, and
the messages answer 410 ``message.erased`` (raw content, replay, resend)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import JSON, LargeBinary, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.database import unit_of_work
from hub.gdpr import service as gdpr
from hub.gdpr.models import GdprEvent
from hub.gdpr.sweeper import sweep_all
from hub.kit.clock import utcnow
from hub.kit.db import Base
from hub.mandates import service as mandates
from hub.mandates.models import MandateKind
from hub.mandates.service import MandateIn
from hub.messaging.models import Receipt, StoredMessage
from hub.messaging.service import receipt_verifies
from hub.offices import service as offices
from hub.offices.repository import OfficeRepository
from hub.settings import Settings
from hub.staff import service as staff
from hub.staff.models import Role
from hub.worklist.models import Reminder
from tests.hub.acts.factories import bearer
from tests.hub.mandates.factories import RICH, a_case, new_code
from tests.hub.mandates.test_handlers import office_message

HUB = [sys.executable, "-m", "hub"]


def hub(settings: Settings, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_SECRET_KEY": settings.secret_key,
        "HUB_AMQP_URL": "",
        "HUB_ENV": "development",
    }
    result = subprocess.run([*HUB, *args], env=env, capture_output=True, text=True, timeout=120)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


class World:
    def __init__(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client
        tag = secrets.token_hex(4)
        self.name = f"Zoé Gdprtest-{tag}"
        self.street = f"7 impasse Secrète {tag}"

    async def build(self) -> None:
        async with unit_of_work(self.app.state.sessions) as session:
            self.office = new_code()
            await offices.add_office(session, code=self.office, name=f"Étude {self.office}")
            self.key = bearer((await offices.create_key(session, self.office)).secret)
            self.admin_email = f"{secrets.token_hex(4)}@agence.example"
            _, token = await staff.add_staff(session, self.admin_email, Role.ADMIN)
            self.admin = bearer(token)
            address = {"line1": self.street, "postcode": "75011", "city": "Paris", "departement": "75"}
            case = await a_case(
                session, debtor={"kind": "person", "name": self.name, "address": address}, **RICH
            )
            self.case_ref, self.case_id = case.ref, case.id
            terms: dict[str, Any] = {"kind": MandateKind.PER_ACT, "acts": ["SERVE_TITLE"]}
            mandate = await mandates.create_mandate(
                session,
                MandateIn(
                    case_ref=case.ref, office_code=self.office, instructions=f"ask {self.name}", **terms
                ),
                actor=self.admin_email,
            )
            assert mandate.status == "issued", mandate.status
            self.mandate_ref = mandate.ref
            # A reminder about the case whose texts name the debtor (staff's comment, the answer).
            now = utcnow()
            office_id = (await OfficeRepository(session).get_by_code(self.office)).id  # type: ignore[union-attr]
            session.add(
                Reminder(
                    message_id=f"RMD-{secrets.token_hex(8)}", office_id=office_id,
                    topic="mandate_ack_overdue", subject=mandate.ref,
                    case_ref=case.ref, mandate_ref=mandate.ref,
                    waiting_since=now.date(), explanation="not acknowledged", comment=f"call {self.name}",
                    sent_by=self.admin_email, sent_at=now, sent_on=now.date(), ack_due_by=now,
                    ack_comment=f"{self.name} moved",
                )
            )  # fmt: skip
        # The office refuses it, naming the debtor in its free text: an inbound message of the case.
        ack = office_message(
            "mandate_ack",
            self.office,
            mandate_ref=self.mandate_ref,
            accepted=False,
            reason="other",
            reason_text=f"{self.name} is known to us already",
        )
        answer = await self.client.post("/v1/messages", json=ack, headers=self.key)
        assert answer.status_code == 202, answer.text

    async def messages(self) -> list[StoredMessage]:
        async with unit_of_work(self.app.state.sessions) as session:
            query = select(StoredMessage).where(StoredMessage.case_id == self.case_id)
            return list(await session.scalars(query.order_by(StoredMessage.created_at)))

    async def receipts(self) -> list[Receipt]:
        pks = [m.id for m in await self.messages()]
        async with unit_of_work(self.app.state.sessions) as session:
            return list(await session.scalars(select(Receipt).where(Receipt.message_pk.in_(pks))))

    async def found_anywhere(self) -> list[str]:
        """Every (table.column) of any table whose text, bytes or JSON holds the name or the street."""
        needles = [self.name, self.street]
        found = []
        async with unit_of_work(self.app.state.sessions) as session:
            for table in Base.metadata.sorted_tables:
                columns = [c for c in table.columns if isinstance(c.type, String | Text | LargeBinary | JSON)]
                if not columns:
                    continue
                for row in (await session.execute(select(*columns))).all():
                    for column, value in zip(columns, row, strict=True):
                        if value is None:
                            continue
                        if isinstance(value, bytes):
                            text = value.decode("utf-8", "replace")
                        elif isinstance(value, str):
                            text = value
                        else:
                            text = json.dumps(value, ensure_ascii=False)
                        if any(n in text for n in needles):
                            found.append(f"{table.name}.{column.name}")
        return sorted(set(found))


async def test_erase_leaves_no_name_anywhere_and_every_receipt_verifies(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    world = World(app, client)
    await world.build()
    stored = await world.messages()
    kinds = {(m.direction, m.kind) for m in stored}
    assert {("outbound", "mandate"), ("inbound", "mandate_ack")} <= kinds, kinds

    # Sealed at rest: no raw body of the case holds the name, yet each reads back whole.
    assert all(m.sealed and world.name.encode() not in m.body for m in stored)
    mandate = next(m for m in stored if m.kind == "mandate")
    ack = next(m for m in stored if m.kind == "mandate_ack")
    raw = await client.get(f"/v1/messages/{mandate.id}/raw", headers=world.admin)
    assert raw.status_code == 200 and world.name in raw.text
    own = await client.get(f"/v1/messages/{ack.message_id}/raw", headers=world.key)
    assert own.status_code == 200 and world.name in own.text

    # The export, before: the debtor, the case's messages opened.
    out = tmp_path / "export.json"
    hub(settings, "gdpr", "export", world.case_ref, "--by", world.admin_email, "--out", str(out))
    document = json.loads(out.read_text())
    assert document["debtor"]["name"] == world.name
    assert world.name in document["mandates"][0]["instructions"]
    bodies = [m["body"].get("text", "") for m in document["messages"]]
    assert sum(world.name in b for b in bodies) >= 2
    assert all(m["receipt"]["verifies"] for m in document["messages"] if m["receipt"] is not None)

    erased = hub(settings, "gdpr", "erase", world.case_ref, "--by", world.admin_email)
    assert f"case {world.case_ref} erased" in erased.stdout
    assert world.name not in erased.stdout + erased.stderr

    assert await world.found_anywhere() == []

    # Every receipt of the case still verifies with the published key, on the hash kept.
    public_key = (await client.get("/v1/receipts/public-key")).json()["public_key_base64"]
    receipts = await world.receipts()
    assert receipts, "an inbound message of the case has its receipt"
    hashes = {m.id: m.sha256 for m in stored}
    for receipt in receipts:
        assert receipt.sha256 == hashes[receipt.message_pk]
        assert receipt_verifies(public_key, receipt)

    # Its messages are gone: raw content, replay and resend answer 410 message.erased.
    for m in stored:
        gone = await client.get(f"/v1/messages/{m.id}/raw", headers=world.admin)
        assert (gone.status_code, gone.json()["code"]) == (410, "message.erased")
        detail = await client.get(f"/v1/messages/{m.id}", headers=world.admin)
        assert detail.status_code == 200  # the metadata and the receipt stay
    replay = await client.post(f"/v1/messages/{ack.id}/replay", headers=world.admin)
    assert (replay.status_code, replay.json()["code"]) == (410, "message.erased")
    resend = await client.post(f"/v1/messages/{mandate.id}/resend", headers=world.admin)
    assert (resend.status_code, resend.json()["code"]) == (410, "message.erased")

    # The export, after: refused, saying why.
    again = hub(settings, "gdpr", "export", world.case_ref, "--by", world.admin_email, ok=False)
    assert again.returncode == 1 and "erased" in again.stderr
    # Both were recorded, with who: no personal data in the record.
    async with unit_of_work(app.state.sessions) as session:
        events = list(await session.scalars(select(GdprEvent).where(GdprEvent.case_ref == world.case_ref)))
    assert [(e.action, e.actor) for e in events] == [
        ("exported", world.admin_email),
        ("erased", world.admin_email),
    ]


async def _closed_case(session: AsyncSession, closed_on: date | None) -> str:
    case = await a_case(session)
    case.closed_on = closed_on
    await session.flush()
    return case.ref


async def test_the_sweep_erases_only_cases_past_retention(app: FastAPI) -> None:
    today = date.today()
    past = today - gdpr.retention() - timedelta(days=1)
    async with unit_of_work(app.state.sessions) as session:
        old = await _closed_case(session, past)
        recent = await _closed_case(session, today - timedelta(days=30))
        open_case = await _closed_case(session, None)
    swept = await sweep_all(app.state.sessions)
    assert old in swept and recent not in swept and open_case not in swept
    async with unit_of_work(app.state.sessions) as session:
        from hub.cases.repository import CaseRepository

        names = {
            ref: (await CaseRepository(session).get_with_parties(ref)).debtor.name
            for ref in (old, recent, open_case)
        }
        events = list(
            await session.scalars(select(GdprEvent).where(GdprEvent.case_ref.in_([old, recent, open_case])))
        )
    assert names[old] == gdpr.ERASED
    assert names[recent] != gdpr.ERASED and names[open_case] != gdpr.ERASED
    assert [(e.case_ref, e.action, e.actor) for e in events] == [(old, "swept", "sweep")]
    assert old not in await sweep_all(app.state.sessions)  # erased once
