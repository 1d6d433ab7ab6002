"""Every statement an act report sends is SQLAlchemy's cached statement once the same kind of report
has been handled: nothing on the office's path is compiled again per message (a statement without a
cache key, such as a multi-row VALUES, costs about 1 ms of CPU to compile each time)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.engine import default

from hub.database import unit_of_work
from hub.offices import service as offices
from tests.hub.acts.factories import bearer, report_json, seed


async def test_an_act_reports_statements_are_all_cached_from_the_second_of_its_kind(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Two reports of a new case each (its first message: the case's key given, its mandate's first
    act): every statement of the second is a cache hit, on either engine."""
    async with unit_of_work(app.state.sessions) as session:
        first = await seed(session, kind="whole_file", acts=[], status="acknowledged")
        second = await seed(session, kind="whole_file", acts=[], status="acknowledged", office=first.office)
        key = (await offices.create_key(session, first.office.code)).secret
    headers = bearer(key, **{"Content-Type": "application/json"})
    sent: list[tuple[object, str]] = []

    def cached(_c: object, _cur: object, statement: str, _p: object, context: Any, _m: bool) -> None:
        if context is not None and context.compiled is not None:  # not a driver-level BEGIN
            sent.append((context.cache_hit, statement.split("\n")[0][:120]))

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", cached)
    try:
        for n, seeded in enumerate((first, second), 1):
            sent.clear()
            body = report_json(seeded.office.code, seeded.mandate.ref, n)
            answer = await client.post("/v1/act-reports", content=body, headers=headers)
            assert answer.status_code == 202, answer.text
    finally:
        event.remove(engine, "before_cursor_execute", cached)
    assert sent, "no statement seen"
    assert [s for hit, s in sent if hit is not default.CACHE_HIT] == []
