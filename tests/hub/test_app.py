"""The HTTP edge: health, readiness, problem+json everywhere, body limit, office authentication."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from hub.app import create_app
from hub.database import session_factory, unit_of_work
from hub.offices import service as offices
from hub.settings import Settings

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "errors"}


async def test_healthz_answers_while_the_process_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_database_up_and_embedded_broker(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "up", "broker": "embedded"}


async def test_readyz_is_503_with_the_reason_when_the_database_is_unreachable() -> None:
    settings = Settings(
        env="test", database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", secret_key="t" * 40
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as client,
    ):
        response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert body["code"] == "not_ready"
    assert "database unreachable" in body["detail"]


async def test_unknown_route_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) == PROBLEM_KEYS
    assert body["status"] == 404 and body["code"] == "not_found"


async def test_openapi_and_docs_are_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/healthz" in spec["paths"] and "/v1/me" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200


@pytest.fixture
async def small_limit_app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings.model_copy(update={"max_body_bytes": 2048}))

    @app.post("/echo-length")
    async def echo_length(body: dict[str, str]) -> dict[str, int]:
        return {"length": len(body.get("x", ""))}

    async with app.router.lifespan_context(app):
        yield app


async def test_body_over_the_limit_is_413_before_parsing(small_limit_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=small_limit_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        ok = await client.post("/echo-length", json={"x": "a" * 100})
        too_big = await client.post("/echo-length", json={"x": "a" * 5000})
    assert ok.status_code == 200 and ok.json() == {"length": 100}
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "payload_too_large"


async def test_chunked_body_over_the_limit_is_413(small_limit_app: FastAPI) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"x": "'
        for _ in range(10):
            yield b"a" * 500
        yield b'"}'

    transport = httpx.ASGITransport(app=small_limit_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        response = await client.post(
            "/echo-length", content=chunks(), headers={"content-type": "application/json"}
        )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_office_routes_need_a_valid_key(client: httpx.AsyncClient, app: FastAPI) -> None:
    async with unit_of_work(app.state.sessions) as session:
        code = f"CJT{__import__('secrets').token_hex(3).upper()}"
        await offices.add_office(session, code=code, name="Étude Test", departements=["75"])
        issued = await offices.create_key(session, code)

    missing = await client.get("/v1/me")
    assert missing.status_code == 401 and missing.json()["code"] == "auth.missing_key"
    forged = await client.get("/v1/me", headers={"Authorization": f"Bearer {issued.secret[:-2]}xx"})
    assert forged.status_code == 401 and forged.json()["code"] == "auth.invalid_key"

    good = await client.get("/v1/me", headers={"Authorization": f"Bearer {issued.secret}"})
    assert good.status_code == 200
    assert good.json()["code"] == code

    async with unit_of_work(session_factory(app.state.engine)) as session:
        await offices.revoke_key(session, issued.key_id)
    revoked = await client.get("/v1/me", headers={"Authorization": f"Bearer {issued.secret}"})
    assert revoked.status_code == 401 and revoked.json()["code"] == "auth.revoked_key"
