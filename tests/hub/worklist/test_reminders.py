"""Reminders over HTTP as staff and offices use them: a reminder about a worklist item reaches the
office's inbox through the outbox, the office acknowledges it once (on its route or on
/v1/messages), the worklist shows it; the same item reminded twice a day is refused unless forced;
a topic the agency decides itself, an item not on the worklist, an unknown office are refused; a
reminder carries its item (looked up alone) as the worklist shows it, of every kind."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.database import unit_of_work
from hub.kit.clock import utcnow
from hub.kit.errors import InvalidInput
from hub.messaging.relay import Relay
from hub.worklist import service
from hub.worklist.models import Reminder
from hub.worklist.repository import WorklistRepository
from tests.hub.worklist.factories import (
    a_hold_notice,
    a_mandate,
    acts_on,
    an_invoice,
    an_office,
    office_key,
    staff_token,
)


def ack(code: str, reminder_id: str, **changes: Any) -> dict[str, Any]:
    envelope = {
        "message_id": f"{code}-RMA-{secrets.token_hex(4)}",
        "kind": "reminder_ack",
        "version": "1",
        "sender": code,
        "recipient": "AGENCY",
        "sent_at": "2026-11-23T10:00:00Z",
    }
    return {"envelope": envelope, "reminder_id": reminder_id, **changes}


async def reminders_of(app: FastAPI, subject: str) -> int:
    async with unit_of_work(app.state.sessions) as session:
        query = select(func.count()).select_from(Reminder).where(Reminder.subject == subject)
        return int(await session.scalar(query) or 0)


async def test_a_reminder_reaches_the_office_which_acknowledges_it_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with unit_of_work(app.state.sessions) as session:
        office = await an_office(session)
        other = await an_office(session)
        quiet = await a_mandate(session, office, status="acknowledged", issued=utcnow() - timedelta(days=40))
    auth = await staff_token(app)
    key, other_key = await office_key(app, office), await office_key(app, other)
    body = {
        "office": office.code,
        "topic": "stale_mandate",
        "mandate_ref": quiet.mandate.ref,
        "comment": "Où en est-on ?",
    }

    sent = await client.post("/v1/reminders", json=body, headers=auth)
    assert sent.status_code == 201, sent.text
    reminder = sent.json()
    assert reminder["subject"] == quiet.mandate.ref and reminder["case_ref"] == quiet.case.ref
    assert reminder["sent_by"].endswith("@agence.example") and not reminder["forced"]
    assert "HUB_WORKLIST_STALE_DAYS = 30" in reminder["explanation"]
    again = await client.post("/v1/reminders", json=body, headers=auth)
    assert again.status_code == 409 and again.json()["code"] == "reminder.already_sent_today"
    forced = await client.post("/v1/reminders", json={**body, "force": True}, headers=auth)
    assert forced.status_code == 201 and forced.json()["forced"] is True
    assert await reminders_of(app, quiet.mandate.ref) == 2

    relay = Relay(app.state.sessions)
    while await relay.run_once():
        pass
    inbox = (await client.get("/v1/inbox?limit=500", headers=key)).json()["items"]
    delivered = [i for i in inbox if i["kind"] == "reminder"]
    assert sorted(i["message_id"] for i in delivered) == sorted(
        [reminder["message_id"], forced.json()["message_id"]]
    )
    assert not [
        i
        for i in (await client.get("/v1/inbox?limit=500", headers=other_key)).json()["items"]
        if i["kind"] == "reminder"
    ]

    rid = reminder["message_id"]
    url = f"/v1/reminders/{rid}/ack"
    foreign = await client.post(url, json=ack(other.code, rid), headers=other_key)
    assert foreign.status_code == 404 and foreign.json()["errors"][0]["code"] == "reminder.not_found"
    mismatch = await client.post(url, json=ack(office.code, forced.json()["message_id"]), headers=key)
    assert mismatch.status_code == 422 and mismatch.json()["code"] == "reminder.id_mismatch"
    done = await client.post(url, json=ack(office.code, rid, comment="Acte prévu lundi."), headers=key)
    assert done.status_code == 202, done.text
    twice = await client.post("/v1/messages", json=ack(office.code, rid), headers=key)
    assert twice.status_code == 409 and twice.json()["errors"][0]["code"] == "reminder.already_acknowledged"

    # The worklist shows the last reminder (the forced one, not acknowledged yet); acknowledged after.
    def last(page: dict[str, Any]) -> dict[str, Any]:
        [item] = [i for i in page["items"] if i["mandate_ref"] == quiet.mandate.ref]
        return dict(item["last_reminder"])

    params = {"office": office.code, "kind": "stale_mandate"}
    shown = last((await client.get("/v1/worklist", params=params, headers=auth)).json())
    assert shown["message_id"] == forced.json()["message_id"] and shown["acknowledged"] is False
    fid = forced.json()["message_id"]
    assert (
        await client.post(f"/v1/reminders/{fid}/ack", json=ack(office.code, fid), headers=key)
    ).status_code == 202
    shown = last((await client.get("/v1/worklist", params=params, headers=auth)).json())
    assert shown["acknowledged"] is True and shown["acknowledged_at"] is not None


async def test_refused_reminders_send_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    async with unit_of_work(app.state.sessions) as session:
        office = await an_office(session)
        held = await a_mandate(session, office, status="held")
        busy = await a_mandate(session, office, status="acknowledged", issued=utcnow() - timedelta(days=3))
    auth = await staff_token(app)

    async def refused(body: dict[str, Any], status: int, code: str) -> None:
        answer = await client.post("/v1/reminders", json=body, headers=auth)
        assert answer.status_code == status, answer.text
        assert code in [answer.json()["code"], *(e["code"] for e in answer.json().get("errors", []))], (
            answer.text
        )

    await refused(
        {"office": office.code, "topic": "held_mandate", "mandate_ref": held.mandate.ref},
        422,
        "reminder.topic_not_for_office",
    )
    await refused(
        {"office": office.code, "topic": "stale_mandate", "mandate_ref": busy.mandate.ref},
        422,
        "reminder.not_on_worklist",
    )
    await refused({"office": office.code, "topic": "stale_mandate"}, 422, "reminder.subject_missing")
    await refused(
        {"office": "CJNOPE", "topic": "stale_mandate", "mandate_ref": busy.mandate.ref},
        404,
        "office.not_found",
    )
    await refused(
        {"office": office.code, "topic": "gossip", "mandate_ref": "M/1", "extra": 1},
        422,
        "schema.literal_error",
    )
    assert await reminders_of(app, held.mandate.ref) + await reminders_of(app, busy.mandate.ref) == 0
    key = await office_key(app, office)
    body = {"office": office.code, "topic": "stale_mandate", "mandate_ref": busy.mandate.ref}
    as_office = await client.post("/v1/reminders", json=body, headers=key)
    assert as_office.status_code == 401 and as_office.json()["code"] == "auth.not_staff_token"


async def test_the_last_reminders_of_more_items_than_a_statement_takes_parameters(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """An office's whole worklist is read to remind it (over 10,000 items for a big office): three
    parameters an item, past the 32,767 a PostgreSQL statement (and SQLite) takes at once."""
    async with unit_of_work(app.state.sessions) as session:
        office = await an_office(session)
        quiet = await a_mandate(session, office, status="acknowledged", issued=utcnow() - timedelta(days=40))
    body = {"office": office.code, "topic": "stale_mandate", "mandate_ref": quiet.mandate.ref}
    sent = await client.post("/v1/reminders", json=body, headers=await staff_token(app))
    assert sent.status_code == 201, sent.text

    keys = [(office.id, "stale_mandate", f"M-NONE-{i}") for i in range(12_000)]
    keys.insert(7_000, (office.id, "stale_mandate", quiet.mandate.ref))
    async with unit_of_work(app.state.sessions) as session:
        last = await WorklistRepository(session).last_reminders(keys)
    assert list(last) == [(office.id, "stale_mandate", quiet.mandate.ref)]
    assert last[office.id, "stale_mandate", quiet.mandate.ref].message_id == sent.json()["message_id"]


async def test_a_reminder_carries_its_item_as_the_worklist_shows_it_for_each_kind(
    session: AsyncSession,
) -> None:
    """The item looked up alone (its kind's, of its subject) is the one the office's worklist shows:
    its day, explanation and references; what is not on the worklist, or another office's, is refused."""
    office, other = await an_office(session), await an_office(session)
    await a_mandate(session, office, status="acknowledged", issued=utcnow() - timedelta(days=40))
    await a_mandate(session, office, status="issued", issued=utcnow() - timedelta(hours=80))
    noticed = await a_mandate(session, office, status="in_progress", issued=utcnow() - timedelta(days=5))
    await a_hold_notice(session, noticed, due_hours_ago=3, acknowledged=False)
    await acts_on(session, await a_mandate(session, office), 40, collected=1_500)
    recent = await a_mandate(session, office)
    await acts_on(session, recent, 10, collected=2_000)  # held, not past the deadline
    await an_invoice(session, office, "disputed")
    theirs = await a_mandate(session, other, status="acknowledged", issued=utcnow() - timedelta(days=40))
    shown, _ = await service.worklist(session, office_code=office.code, limit=100)
    items = [v.item for v in shown if v.item.remindable]
    assert {i.kind for i in items} == set(service.OFFICE_TOPICS)

    for item in items:
        data = service.ReminderIn(
            office.code,
            item.kind,
            mandate_ref=item.subject if item.kind in ("stale_mandate", "mandate_ack_overdue") else None,
            case_ref=item.subject if item.kind in ("hold_notice_ack_overdue", "unremitted") else None,
            invoice_number=item.subject if item.kind == "invoice_disputed" else None,
        )
        reminder, _ = await service.send_reminder(session, data, actor="agent@agence.example")
        sent = (reminder.waiting_since, reminder.explanation, reminder.case_ref, reminder.mandate_ref)
        assert sent == (item.since, item.explanation, item.case_ref, item.mandate_ref), item.kind
        assert reminder.invoice_number == item.invoice_number and reminder.subject == item.subject

    for data in (
        service.ReminderIn(office.code, "unremitted", case_ref=recent.case.ref),
        service.ReminderIn(office.code, "stale_mandate", mandate_ref=theirs.mandate.ref),
        service.ReminderIn(other.code, "hold_notice_ack_overdue", case_ref=noticed.case.ref),
    ):
        with pytest.raises(InvalidInput) as refused:
            await service.send_reminder(session, data, actor="agent@agence.example")
        assert refused.value.code == "reminder.not_on_worklist"
