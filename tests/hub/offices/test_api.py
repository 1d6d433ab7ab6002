"""Office keys over HTTP: checked once and kept briefly (HUB_KEY_CACHE_SECONDS), revocation honoured."""

from __future__ import annotations

import secrets

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from hub.database import unit_of_work
from hub.offices import service as offices
from hub.staff import service as staff
from hub.staff.models import Role
from tests.hub.acts.factories import bearer, office_code


async def _office_key(app: FastAPI) -> tuple[str, offices.IssuedKey]:
    async with unit_of_work(app.state.sessions) as session:
        code = office_code()
        await offices.add_office(session, code=code, name=f"Étude {code}")
        issued = await offices.create_key(session, code)
        _, admin = await staff.add_staff(session, f"ops-{secrets.token_hex(3)}@agence.example", Role.ADMIN)
    return admin, issued


async def test_a_key_is_checked_once_then_kept(app: FastAPI, client: httpx.AsyncClient) -> None:
    _, issued = await _office_key(app)
    statements: list[str] = []
    listen = event.listens_for(app.state.engine.sync_engine, "before_cursor_execute")
    listen(lambda _c, _cur, statement, *_: statements.append(statement))
    first = await client.get("/v1/me", headers=bearer(issued.secret))
    assert first.status_code == 200 and first.json()["code"] == issued.office_code
    assert any("office_api_keys" in s for s in statements)
    statements.clear()
    again = await client.get("/v1/me", headers=bearer(issued.secret))
    assert again.status_code == 200 and again.json()["code"] == issued.office_code
    assert not any("office_api_keys" in s or "FROM offices" in s for s in statements)


async def test_a_key_revoked_through_the_api_is_refused_at_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin, issued = await _office_key(app)
    assert (await client.get("/v1/me", headers=bearer(issued.secret))).status_code == 200  # now kept
    office_key = await client.post(f"/v1/keys/{issued.key_id}/revoke", headers=bearer(issued.secret))
    assert office_key.status_code == 401  # an office cannot revoke keys
    revoked = await client.post(f"/v1/keys/{issued.key_id}/revoke", headers=bearer(admin))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["key_id"] == issued.key_id and revoked.json()["office_code"] == issued.office_code
    refused = await client.get("/v1/me", headers=bearer(issued.secret))
    assert refused.status_code == 401 and refused.json()["code"] == "auth.revoked_key"
    unknown = await client.post("/v1/keys/0000000000000000/revoke", headers=bearer(admin))
    assert unknown.status_code == 404 and unknown.json()["code"] == "key.not_found"


async def test_a_key_revoked_elsewhere_is_refused_once_its_check_lapses(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """``hub keys revoke`` (another process) evicts nothing here: the cache's lifetime bounds it."""
    _, issued = await _office_key(app)
    now = [0.0]
    app.state.key_cache = offices.KeyCache(5, clock=lambda: now[0])
    assert (await client.get("/v1/me", headers=bearer(issued.secret))).status_code == 200
    async with unit_of_work(app.state.sessions) as session:
        await offices.revoke_key(session, issued.key_id)
    now[0] = 4.9
    assert (await client.get("/v1/me", headers=bearer(issued.secret))).status_code == 200  # still kept
    now[0] = 5.0
    refused = await client.get("/v1/me", headers=bearer(issued.secret))
    assert refused.status_code == 401 and refused.json()["code"] == "auth.revoked_key"


async def test_no_cache_with_zero_seconds(app: FastAPI, client: httpx.AsyncClient) -> None:
    _, issued = await _office_key(app)
    app.state.key_cache = offices.KeyCache(0)
    assert (await client.get("/v1/me", headers=bearer(issued.secret))).status_code == 200
    async with unit_of_work(app.state.sessions) as session:
        await offices.revoke_key(session, issued.key_id)
    assert (await client.get("/v1/me", headers=bearer(issued.secret))).status_code == 401
