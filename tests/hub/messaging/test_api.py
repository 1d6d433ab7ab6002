"""The message store over HTTP: an office sees only its own messages; staff see all; only admins resend."""

from __future__ import annotations

import secrets
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from hub.database import unit_of_work
from hub.kit.clock import utcnow
from hub.messaging import service
from hub.messaging.models import StoredMessage
from hub.messaging.relay import Relay
from hub.messaging.service import Envelope
from hub.offices import service as offices
from hub.staff import service as staff
from hub.staff.models import Role


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_offices_see_only_their_messages_staff_see_all(app: FastAPI, client: httpx.AsyncClient) -> None:
    a, b = ("CJ" + secrets.token_hex(4).upper() for _ in range(2))
    async with unit_of_work(app.state.sessions) as session:
        for code in (a, b):
            await offices.add_office(session, code=code, name="Étude")
        key_a = (await offices.create_key(session, a)).secret
        key_b = (await offices.create_key(session, b)).secret
        _, staff_token = await staff.add_staff(session, f"{a.lower()}@agence.example", Role.STAFF)
        sent = await service.store_inbound(
            session,
            Envelope(f"CR-{a}", "act_report", a, "AGENCY", correlation_id=a),
            b"<r/>",
            "application/xml",
        )
        await service.issue_receipt(session, app.state.signer, sent, accepted=True)
        await service.enqueue_outbound(
            session,
            Envelope(f"MND-{b}", "mandate", "AGENCY", b, correlation_id=a),
            b"<m/>",
            "application/xml",
            exchange="hub.outbound",
            routing_key=f"office.{b}",
        )

    mine = (await client.get("/v1/messages", params={"correlation_id": a}, headers=bearer(key_a))).json()
    assert [m["message_id"] for m in mine["items"]] == [f"CR-{a}"] and mine["next_after"] is None
    all_ = (
        await client.get("/v1/messages", params={"correlation_id": a}, headers=bearer(staff_token))
    ).json()
    assert sorted(m["message_id"] for m in all_["items"]) == [f"CR-{a}", f"MND-{b}"]

    by_own_id = await client.get(f"/v1/messages/CR-{a}", headers=bearer(key_a))
    assert by_own_id.status_code == 200
    detail = by_own_id.json()
    assert [s["status"] for s in detail["lifecycle"]] == ["received"]
    assert detail["receipt"]["accepted"] is True and detail["receipt"]["signature_alg"] == "Ed25519"

    assert (await client.get(f"/v1/messages/{sent.id}", headers=bearer(key_b))).status_code == 404
    assert (await client.get(f"/v1/messages/CR-{a}", headers=bearer(key_b))).status_code == 404
    assert (await client.get(f"/v1/messages/{sent.id}", headers=bearer(staff_token))).status_code == 200


async def test_resend_needs_an_admin_and_puts_the_message_back(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    code = "CJ" + secrets.token_hex(4).upper()
    async with unit_of_work(app.state.sessions) as session:
        await offices.add_office(session, code=code, name="Étude")
        key = (await offices.create_key(session, code)).secret
        _, clerk = await staff.add_staff(session, f"clerk-{code.lower()}@agence.example", Role.STAFF)
        _, admin = await staff.add_staff(session, f"admin-{code.lower()}@agence.example", Role.ADMIN)
        entry = await service.enqueue_outbound(
            session,
            Envelope(f"MND-{code}", "mandate", "AGENCY", code),
            b"<m/>",
            "application/xml",
            exchange="hub.outbound",
            routing_key=f"office.{code}",
        )
    relay = Relay(app.state.sessions)
    while await relay.run_once():
        pass
    [item] = (await client.get("/v1/inbox", headers=bearer(key))).json()["items"]
    assert (await client.post(f"/v1/inbox/{item['id']}/ack", headers=bearer(key))).status_code == 200
    assert (await client.get("/v1/inbox", headers=bearer(key))).json()["items"] == []

    url = f"/v1/messages/{entry.message_pk}/resend"
    assert (await client.post(url, headers=bearer(key))).status_code == 401  # an office key
    forbidden = await client.post(url, headers=bearer(clerk))
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "auth.role_forbidden"
    assert (await client.post(url, headers=bearer(admin))).status_code == 202
    while await relay.run_once():
        pass
    # Back under a new id, past the last id the office read (ADR 0023), and acknowledged by it.
    after = {"after": item["id"]}
    [again] = (await client.get("/v1/inbox", headers=bearer(key), params=after)).json()["items"]
    assert again["message_id"] == f"MND-{code}" and again["id"] > item["id"]
    assert (await client.post(f"/v1/inbox/{again['id']}/ack", headers=bearer(key))).status_code == 200
    assert (await client.get("/v1/inbox", headers=bearer(key))).json()["items"] == []


async def test_staff_tokens_are_refused_on_office_routes(app: FastAPI, client: httpx.AsyncClient) -> None:
    async with unit_of_work(app.state.sessions) as session:
        _, token = await staff.add_staff(session, f"x{secrets.token_hex(3)}@agence.example", Role.ADMIN)
    response = await client.get("/v1/inbox", headers=bearer(token))
    assert response.status_code == 401 and response.json()["code"] == "auth.not_office_key"


async def test_the_message_log_is_read_a_page_at_a_time_in_the_order_stored(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Seven messages, four stored at the same instant: every page follows the last, none twice,
    none skipped, oldest first (ties in id order); an office's own walk the same way."""
    code = "CJ" + secrets.token_hex(4).upper()
    async with unit_of_work(app.state.sessions) as session:
        await offices.add_office(session, code=code, name="Étude")
        key = (await offices.create_key(session, code)).secret
        _, staff_token = await staff.add_staff(session, f"{code.lower()}@agence.example", Role.STAFF)
        for n in range(7):
            await service.store_inbound(
                session,
                Envelope(f"LOG-{code}-{n}", "act_report", code, "AGENCY", correlation_id=code),
                b"<r/>",
                "application/xml",
            )
    async with unit_of_work(app.state.sessions) as session:
        at = utcnow() - timedelta(hours=1)
        await session.execute(
            update(StoredMessage)
            .where(StoredMessage.message_id.in_([f"LOG-{code}-{n}" for n in range(4)]))
            .values(created_at=at)
        )

    for auth in (bearer(staff_token), bearer(key)):
        pages, after = [], None
        while True:
            params = {"correlation_id": code, "limit": 2, **({"after": after} if after else {})}
            answer = await client.get("/v1/messages", params=params, headers=auth)
            assert answer.status_code == 200, answer.text
            pages.append(answer.json()["items"])
            after = answer.json()["next_after"]
            if after is None:
                break
            assert after == pages[-1][-1]["id"]
        assert [len(p) for p in pages] == [2, 2, 2, 1]
        read = [m for page in pages for m in page]
        assert sorted(m["message_id"] for m in read) == [f"LOG-{code}-{n}" for n in range(7)]
        assert {m["message_id"] for m in read[:4]} == {f"LOG-{code}-{n}" for n in range(4)}
        tied = [m["id"] for m in read[:4]]
        assert tied == sorted(tied)
        assert [m["created_at"] for m in read] == sorted(m["created_at"] for m in read)
