"""The hostile XML corpus sent to both POST routes of act reports: a 4xx every time, no act stored,
no outbound connection and no file read. The corpus is the parser tests' own, pointed at their
watch: a TCP listener that counts connections and a named pipe that tells whether it was opened
(the entities name them), so a fetch by any layer, Python or libxml2, would show."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from hub.acts.models import ActReport
from hub.database import unit_of_work
from hub.offices import service as offices
from tests.adapters.xml.test_hardened import (  # noqa: F401 - fixtures
    EXPECTED,
    SECRET,
    Watch,
    corpus,
    watch,
)
from tests.hub.acts.factories import bearer, seed


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Records (and refuses) any outbound connection made while the documents are handled."""
    attempts: list[Any] = []
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in (
            "127.0.0.1",
            "::1",
            "localhost",
        ):
            attempts.append(address)
            raise OSError("outbound connection refused by the test")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_hostile_documents_get_a_4xx_on_both_routes_and_store_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    name: str,
    corpus: dict[str, bytes],  # noqa: F811
    watch: Watch,  # noqa: F811
    no_network: list[Any],
) -> None:
    async with unit_of_work(app.state.sessions) as session:
        s = await seed(session)
        key = (await offices.create_key(session, s.office.code)).secret
    headers = bearer(key, **{"Content-Type": "application/xml"})
    for route in ("/v1/act-reports", "/v1/act-reports/batch"):
        answer = await client.post(route, content=corpus[name], headers=headers)
        assert 400 <= answer.status_code < 500, (route, answer.status_code, answer.text[:300])
        assert SECRET.decode() not in answer.text
        watch.assert_untouched()
    async with unit_of_work(app.state.sessions) as session:
        stored = await session.scalar(
            select(func.count()).select_from(ActReport).where(ActReport.office_id == s.office.id)
        )
    assert stored == 0
    assert no_network == []
