"""Traces: a request gives a server span (FastAPI) and the spans of its SQL (SQLAlchemy), children
of it, exported to the exporter given (here in memory, in production OTLP)."""

from __future__ import annotations

from pathlib import Path

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from hub.app import create_app
from hub.database import unit_of_work
from hub.settings import Settings
from hub.staff import service as staff
from hub.staff.models import Role
from tests.conftest import sqlite_database


async def test_a_request_gives_a_server_span_and_its_database_spans(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    settings = Settings(env="test", database_url=await sqlite_database(tmp_path), secret_key="t" * 40)
    app = create_app(settings, span_exporter=exporter)
    async with app.router.lifespan_context(app):
        async with unit_of_work(app.state.sessions) as session:
            _, token = await staff.add_staff(session, "ops@agence.example", Role.STAFF)
        exporter.clear()  # the relay's polling and the setup above
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
        ) as client:
            answer = await client.get("/v1/cases/CASE-NOPE", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 404
        spans = exporter.get_finished_spans()
    [server] = [s for s in spans if s.kind == SpanKind.SERVER]
    assert server.attributes is not None and server.attributes["http.route"] == "/v1/cases/{ref}"
    in_request = [s for s in spans if s.context.trace_id == server.context.trace_id]
    database = [s for s in in_request if s.kind == SpanKind.CLIENT and "SELECT" in s.name.upper()]
    assert database, [(s.name, s.kind) for s in spans]
