"""The demo data (``hub demo``) is valid, loaded through the use cases a user's calls go through:
every demo case answers mandates and assessments (the first one's title kind ``injunction`` made
each a 500). A stored case the rules cannot read is a named 422, never a 500."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from stdnum import bic, iban
from stdnum.fr import siret

from hub import demo
from hub.app import create_app
from hub.cases.models import Case
from hub.database import unit_of_work
from hub.kit.errors import InvalidInput
from hub.offices import service as offices
from hub.settings import Settings
from hub.staff import service as staff
from hub.staff.models import Role
from tests.hub.cases.factories import bearer, case_body
from tests.hub.test_cli import hub

DEMO_REFS = ["D-2026-0001", "D-2026-0002", "D-2026-0003"]


@dataclass
class DemoHub:
    app: FastAPI
    client: httpx.AsyncClient
    auth: dict[str, str]


@pytest.fixture
async def demo_hub(tmp_path: Path) -> AsyncIterator[DemoHub]:
    """A hub whose database `hub migrate` and `hub demo` made (subprocesses, as a user runs them)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    env = {"HUB_DATABASE_URL": url, "HUB_AMQP_URL": "", "HUB_ENV": "development"}
    hub({**os.environ, **env}, "migrate")
    assert "3 case(s) added" in hub({**os.environ, **env}, "demo").stdout
    app = create_app(Settings(env="test", database_url=url, amqp_url="", secret_key="t" * 40, role="api"))
    async with app.router.lifespan_context(app):
        async with unit_of_work(app.state.sessions) as session:
            _, token = await staff.add_staff(session, f"{secrets.token_hex(4)}@agence.example", Role.STAFF)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            yield DemoHub(app, client, bearer(token))


async def test_every_demo_case_answers_mandates_and_assessments(demo_hub: DemoHub) -> None:
    client, auth = demo_hub.client, demo_hub.auth
    for ref in DEMO_REFS:
        for act_code in ("SERVE_TITLE", "PAYMENT_ORDER", "BANK_GARNISHMENT"):
            assessed = await client.post(
                "/v1/acts/assess", json={"case_ref": ref, "act_code": act_code}, headers=auth
            )
            assert assessed.status_code == 200, (ref, act_code, assessed.text)
        issued = await client.post(
            "/v1/mandates",
            json={"case_ref": ref, "kind": "per_act", "acts": ["PAYMENT_ORDER"]},
            headers=auth,
        )
        # Issued or held (201), or refused by a legal block (422: D-2026-0002 has no title).
        assert issued.status_code in (201, 422), (ref, issued.text)
        if issued.status_code == 422:
            assert (ref, issued.json()["code"]) == ("D-2026-0002", "mandate.refused_by_guardrails")
        whole = await client.post(
            "/v1/mandates",
            json={"case_ref": ref, "kind": "whole_file", "fee_budget_cents": 50_000},
            headers=auth,
        )
        assert whole.status_code in (201, 422), (ref, whole.text)
        if whole.status_code == 422:
            assert (ref, whole.json()["code"]) == ("D-2026-0002", "mandate.refused_by_guardrails")


async def test_a_stored_case_the_rules_cannot_read_is_a_named_error(demo_hub: DemoHub) -> None:
    client, auth = demo_hub.client, demo_hub.auth
    body = case_body()
    assert (await client.post("/v1/cases", json=body, headers=auth)).status_code == 201
    async with unit_of_work(demo_hub.app.state.sessions) as session:  # written around the use case
        await session.execute(update(Case).where(Case.ref == body["ref"]).values(title_kind="injunction"))
    for route, request in (
        ("/v1/acts/assess", {"case_ref": body["ref"], "act_code": "SERVE_TITLE"}),
        ("/v1/mandates", {"case_ref": body["ref"], "kind": "per_act", "acts": ["SERVE_TITLE"]}),
    ):
        answer = await client.post(route, json=request, headers=auth)
        assert answer.status_code == 422, (route, answer.text)
        [error] = answer.json()["errors"]
        assert (error["path"], error["code"]) == ("title.kind", "case.value_unknown")
        assert "'injunction'" in error["message"] and "payment_order" in error["message"]


async def test_invalid_demo_data_cannot_load(demo_hub: DemoHub, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = {**demo.DEMO_CASES[0], "ref": "D-2026-9999"}
    bad["title"] = {**bad["title"], "kind": "injunction"}
    monkeypatch.setattr(demo, "DEMO_CASES", [bad])
    with pytest.raises(InvalidInput) as refused:
        async with unit_of_work(demo_hub.app.state.sessions) as session:
            await demo.load_demo(session)
    assert [e.path for e in refused.value.errors] == ["title.kind"]


async def test_the_demo_offices_can_invoice_and_be_paid(demo_hub: DemoHub) -> None:
    """Each demo office carries a valid SIRET (without one its invoices are refused) and bank details."""
    async with unit_of_work(demo_hub.app.state.sessions) as session:
        stored = {o.code: o for o in await offices.list_offices(session)}
    for office in demo.DEMO_OFFICES:
        found = stored[office.code]
        assert found.siret == office.siret and siret.is_valid(found.siret)
        assert found.iban == office.iban and iban.is_valid(found.iban)
        assert found.bic == office.bic and bic.is_valid(found.bic)
