"""Payment runs on PostgreSQL for real, in a database of their own (so "every approved invoice" is
this test's): two runs created at once never share an invoice, and end to end over the API the
run's pain.001 validates against the official XSD with a control sum equal to the approved invoices'."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sepa import Account
from hub.app import create_app
from hub.database import create_engine, session_factory, unit_of_work
from hub.invoices.models import Invoice
from hub.kit.clock import utcnow
from hub.kit.errors import Conflict
from hub.ledger import service as ledger
from hub.ledger.postings import FEES_PAID, balance_of
from hub.payments import service
from hub.settings import Settings
from hub.staff import service as staff
from hub.staff.models import Role
from tests.conftest import postgres_database
from tests.hub.acts.factories import Seeded, bearer
from tests.hub.payments.factories import (
    BIC_DE,
    IBAN_DE,
    IBAN_FR,
    approved_invoice,
    check_pain001,
    control_sum_cents,
    office_with_account,
    transfers,
)

pytestmark = pytest.mark.postgres
AGENCY = Account("Agence de recouvrement", "FR7630006000011234567890189", "BNPAFRPPXXX")
ROUNDS = 12


@pytest.fixture(scope="module")
async def own_database() -> AsyncIterator[str]:
    async with postgres_database() as url:
        yield url


@pytest.fixture
async def engine(own_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(own_database)
    yield engine
    await engine.dispose()


async def _offices(sessions: async_sessionmaker[AsyncSession]) -> list[Seeded]:
    async with unit_of_work(sessions) as session:
        return [
            await office_with_account(session, IBAN_FR),
            await office_with_account(session, IBAN_DE, BIC_DE),
        ]


async def _create(sessions: async_sessionmaker[AsyncSession]) -> service.RunDetail | None:
    try:
        async with unit_of_work(sessions) as session:
            return await service.create_run(session, debtor=AGENCY, actor="finance@test")
    except Conflict as exc:
        assert exc.code == "payment_run.nothing_to_pay"
        return None


async def test_two_runs_created_at_once_never_share_an_invoice(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    offices = await _offices(sessions)
    for n in range(ROUNDS):
        async with unit_of_work(sessions) as session:
            approved = {
                (await approved_invoice(session, offices[i % 2], 1000 + n, 200 + i)).id for i in range(6)
            }
        runs = [r for r in await asyncio.gather(_create(sessions), _create(sessions)) if r is not None]
        assert runs, "one of the two runs pays the invoices"
        taken = [invoice.id for run in runs for invoice, _ in run.invoices]
        assert sorted(taken) == sorted(approved), f"round {n}: every invoice in exactly one run"
        async with unit_of_work(sessions) as session:
            stored = (await session.execute(select(Invoice).where(Invoice.id.in_(approved)))).scalars().all()
            by_run = {run.run.id: {i.id for i, _ in run.invoices} for run in runs}
            assert all(i.id in by_run[i.payment_run_id] for i in stored)  # type: ignore[index]
        for run in runs:
            root = check_pain001(run.run.pain001)
            assert control_sum_cents(root) == run.run.total_cents == sum(transfers(root).values())


async def test_approved_invoices_to_a_paid_run_end_to_end_over_the_api(own_database: str) -> None:
    settings = Settings(env="test", database_url=own_database, amqp_url="", secret_key="t" * 40, role="api")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with unit_of_work(app.state.sessions) as session:
            s = await office_with_account(session, IBAN_FR)
            amounts = [
                (await approved_invoice(session, s, 5158 + n, 1032)).total_gross_cents for n in range(5)
            ]
            _, token = await staff.add_staff(session, "finance-e2e@agence.example", Role.FINANCE)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
        ) as client:
            finance = bearer(token)
            # Whatever the other test left approved and unpaid is in no run: this run takes only ours.
            created = await client.post("/v1/payment-runs", headers=finance)
            assert created.status_code == 201, created.text
            run = created.json()
            file = await client.get(f"/v1/payment-runs/{run['id']}/pain001", headers=finance)
            root = check_pain001(file.content)
            assert control_sum_cents(root) == run["total_cents"] == sum(amounts)
            assert sorted(transfers(root).values()) == sorted(amounts)
            # Paid the day the file was written or after: read once it is written, not at import,
            # so a run that crosses midnight does not date the payment the day before.
            paid_on = utcnow().date().isoformat()
            paid = await client.post(
                f"/v1/payment-runs/{run['id']}/paid",
                json={"paid_on": paid_on, "bank_reference": "VIR-E2E"},
                headers=finance,
            )
            assert paid.status_code == 200, paid.text
        async with unit_of_work(app.state.sessions) as session:
            balances = await ledger.balances(session, office_id=s.office.id)
            assert balance_of(balances, FEES_PAID) == -sum(amounts)
