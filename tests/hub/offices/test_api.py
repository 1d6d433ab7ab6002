"""Office keys over HTTP: checked once and kept briefly (HUB_KEY_CACHE_SECONDS), revocation honoured."""

from __future__ import annotations

import secrets

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from hub.database import unit_of_work
from hub.offices import service as offices
from hub.offices.repository import OfficeRepository
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


async def test_an_admin_changes_an_office_and_its_keys_see_it_at_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin, issued = await _office_key(app)
    code = issued.office_code
    assert (await client.get("/v1/me", headers=bearer(issued.secret))).status_code == 200  # now kept
    async with unit_of_work(app.state.sessions) as session:
        _, finance = await staff.add_staff(
            session, f"fin-{secrets.token_hex(3)}@agence.example", Role.FINANCE
        )
    body = {"siret": "752 001 909 00015", "iban": "FR76 3000 4008 2000 0101 2340 185", "name": "Étude Neuve"}
    office_key = await client.patch(f"/v1/offices/{code}", json=body, headers=bearer(issued.secret))
    assert office_key.status_code == 401
    not_admin = await client.patch(f"/v1/offices/{code}", json=body, headers=bearer(finance))
    assert not_admin.status_code == 403
    changed = await client.patch(f"/v1/offices/{code}", json=body, headers=bearer(admin))
    assert changed.status_code == 200, changed.text
    answer = changed.json()
    assert (answer["siret"], answer["iban"], answer["name"]) == (
        "75200190900015",
        "FR7630004008200001012340185",
        "Étude Neuve",
    )
    assert answer["changed"]["iban"] == [None, "FR7630004008200001012340185"]
    me = await client.get("/v1/me", headers=bearer(issued.secret))
    assert me.json()["name"] == "Étude Neuve"  # the cached office was forgotten
    async with unit_of_work(app.state.sessions) as session:
        office = await OfficeRepository(session).get_by_code(code)
        assert office is not None
        events = await OfficeRepository(session).events(office.id)
    assert [(e.actor.startswith("ops-"), sorted(e.changes)) for e in events] == [
        (True, ["iban", "name", "siret"])
    ]

    # Staff read who changed what, a page at a time; an office key reads nothing of it.
    again = await client.patch(f"/v1/offices/{code}", json={"bic": "BNPAFRPP"}, headers=bearer(admin))
    assert again.status_code == 200
    first = await client.get(f"/v1/offices/{code}/events?limit=1", headers=bearer(finance))
    assert first.status_code == 200, first.text
    [change] = first.json()["items"]
    assert change["changes"]["iban"] == [None, "FR7630004008200001012340185"] and change["actor"].startswith(
        "ops-"
    )
    cursor = first.json()["next_after"]
    rest = await client.get(f"/v1/offices/{code}/events?limit=1&after={cursor}", headers=bearer(finance))
    assert [e["changes"] for e in rest.json()["items"]] == [{"bic": [None, "BNPAFRPP"]}]
    last = await client.get(
        f"/v1/offices/{code}/events?after={rest.json()['items'][0]['id']}", headers=bearer(admin)
    )
    assert last.json() == {"items": [], "next_after": None}
    assert (await client.get(f"/v1/offices/{code}/events", headers=bearer(issued.secret))).status_code == 401
    unknown = await client.get("/v1/offices/CJ00000/events", headers=bearer(admin))
    assert unknown.status_code == 404 and unknown.json()["code"] == "office.not_found"


async def test_a_wrong_change_lists_every_error_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin, issued = await _office_key(app)
    code = issued.office_code
    body = {"name": "Autre", "siret": "12345678901234", "iban": "FR00", "bic": "??", "departements": ["99"]}
    refused = await client.patch(f"/v1/offices/{code}", json=body, headers=bearer(admin))
    assert refused.status_code == 422
    assert [(e["path"], e["code"]) for e in refused.json()["errors"]] == [
        ("departements[0]", "office.departement_invalid"),
        ("siret", "office.siret_invalid"),
        ("iban", "office.iban_invalid"),
        ("bic", "office.bic_invalid"),
    ]
    me = await client.get("/v1/me", headers=bearer(issued.secret))
    assert me.json()["name"] == f"Étude {code}"
    unknown_field = await client.patch(f"/v1/offices/{code}", json={"colour": "red"}, headers=bearer(admin))
    assert unknown_field.status_code == 422
    unknown = await client.patch("/v1/offices/CJ00000", json={"name": "X"}, headers=bearer(admin))
    assert unknown.status_code == 404 and unknown.json()["code"] == "office.not_found"
