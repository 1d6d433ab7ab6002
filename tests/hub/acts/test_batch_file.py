"""The batch file as a whole on ``POST /v1/act-reports/batch``: a file whose root is not
``actReportBatch`` is refused (it answered 200 with 0 records: a silent skip), and a file that
stops being readable midway says where, what was read and what was not, in a status a client
cannot take for success (it answered 200)."""

from __future__ import annotations

import io

import httpx
import pytest
from fastapi import FastAPI

from adapters.xml import codec
from hub.database import unit_of_work
from hub.offices import service as offices
from schemas.v1 import SAMPLES_DIR
from tests.hub.acts.factories import Seeded, batch_reports, bearer, seed
from tests.hub.acts.test_api import reports_of

XML = {"Content-Type": "application/xml"}


@pytest.fixture
async def seeded(app: FastAPI) -> tuple[Seeded, str]:
    async with unit_of_work(app.state.sessions) as session:
        s = await seed(session)
        key = (await offices.create_key(session, s.office.code)).secret
    return s, key


def batch_file(s: Seeded, count: int) -> bytes:
    sink = io.BytesIO()
    codec.write_batch(batch_reports(s.office.code, s.mandate.ref, count), sink)
    return sink.getvalue()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<?xml version='1.0'?><inventory><item>1</item></inventory>", id="any-xml"),
        pytest.param(b'<actReportBatch xmlns="urn:other"><actReport/></actReportBatch>', id="other-ns"),
        pytest.param((SAMPLES_DIR / "valid" / "act_report.xml").read_bytes(), id="one-act-report"),
    ],
)
async def test_a_file_whose_root_is_not_the_batch_root_is_refused_with_the_reason(
    app: FastAPI, client: httpx.AsyncClient, seeded: tuple[Seeded, str], body: bytes
) -> None:
    s, key = seeded
    answer = await client.post("/v1/act-reports/batch", content=body, headers=bearer(key, **XML))
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["code"] == "xml.unexpected_root"
    [error] = problem["errors"]
    assert error["code"] == "xml.unexpected_root" and error["line"] >= 1
    assert "actReportBatch (namespace urn:agency-hub:edi:v1)" in error["message"]
    assert await reports_of(app, s) == 0


async def test_a_file_broken_midway_says_where_it_stopped_and_is_never_a_success(
    app: FastAPI, client: httpx.AsyncClient, seeded: tuple[Seeded, str]
) -> None:
    s, key = seeded
    whole = batch_file(s, 12)
    # The 8th record is cut by a stray '<': the 7 before it are read, nothing from it on.
    eighth = whole.index(b"<actReport ", whole.index(b"CR-" + s.office.code.encode() + b"-7<"))
    broken_line = whole[:eighth].count(b"\n") + 1
    broken = whole[:eighth] + b"<<actReport " + whole[eighth + len(b"<actReport ") :]

    answer = await client.post("/v1/act-reports/batch", content=broken, headers=bearer(key, **XML))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    result = answer.json()
    assert (result["code"], result["file_status"]) == ("batch.incomplete", "incomplete")
    assert (result["accepted_count"], result["refused_count"]) == (7, 0)
    assert result["stopped_at"]["record"] == 8 and result["stopped_at"]["line"] == broken_line
    assert result["errors"] and result["errors"] == result["file_errors"]
    assert "record 8" in result["detail"] and f"line {broken_line}" in result["detail"]
    assert await reports_of(app, s) == 7
    stored = await client.get(f"/v1/batches/{result['batch_id']}", headers=bearer(key))
    assert stored.status_code == 200 and stored.json()["file_status"] == "incomplete"

    # The file fixed and sent whole again: the 7 already read come back as duplicates.
    again = await client.post("/v1/act-reports/batch", content=whole, headers=bearer(key, **XML))
    assert again.status_code == 200, again.text
    assert (again.json()["file_status"], again.json()["stopped_at"]) == ("complete", None)
    assert (again.json()["accepted_count"], again.json()["refused_count"]) == (5, 7)
    assert await reports_of(app, s) == 12
    stored = await client.get(f"/v1/batches/{again.json()['batch_id']}", headers=bearer(key))
    assert stored.json()["file_status"] == "complete"
