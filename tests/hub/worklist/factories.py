"""Offices whose mandates, acts, approvals, hold notices and invoices put items on the worklist,
written straight to the tables (with the ledger posted as the hub posts it), dated as a test needs."""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from hub.database import unit_of_work
from hub.invoices.models import Invoice
from hub.kit.clock import utcnow
from hub.mandates.models import Approval, HoldNotice, Mandate
from hub.messaging import service as messaging
from hub.offices import service as offices
from hub.offices.models import Office
from hub.staff import service as staff
from hub.staff.models import Role
from tests.hub.acts.factories import Seeded, seed
from tests.hub.cases.factories import bearer
from tests.hub.finance.factories import act


def days_ago(n: int) -> date:
    """A day counted back from the clock's today when asked, never from the day the module was
    imported: a run that crosses midnight would count from the day before."""
    return utcnow().date() - timedelta(days=n)


async def an_office(session: AsyncSession) -> Office:
    code = "CJ" + secrets.token_hex(4).upper()
    return await offices.add_office(session, code=code, name=f"Étude {code}")


async def a_mandate(
    session: AsyncSession, office: Office, *, status: str = "in_progress", issued: datetime | None = None
) -> Seeded:
    """A case and a mandate of ``office`` in ``status``, issued at ``issued`` (200 days ago)."""
    s = await seed(session, office=office, status=status)
    s.mandate.issued_at = issued or utcnow() - timedelta(days=200)
    await session.flush()
    return s


async def acts_on(session: AsyncSession, s: Seeded, *days: int, collected: int = 0) -> None:
    """Act reports on ``s``'s mandate, ``days`` ago each."""
    for n in days:
        await act(session, s, days_ago(n), collected=collected)


async def a_hold_notice(
    session: AsyncSession, s: Seeded, *, due_hours_ago: int, acknowledged: bool
) -> HoldNotice:
    now = utcnow()
    notice = HoldNotice(
        message_id=f"HOLD-{secrets.token_hex(8)}",
        mandate_id=s.mandate.id,
        office_id=s.office.id,
        act_code="BANK_GARNISHMENT",
        situation="vulnerable",
        sent_at=now - timedelta(hours=due_hours_ago + 48),
        ack_due_by=now - timedelta(hours=due_hours_ago),
        acknowledged_at=now if acknowledged else None,
    )
    session.add(notice)
    await session.flush()
    return notice


async def a_cost_request(session: AsyncSession, mandate: Mandate, *, decided: bool) -> Approval:
    approval = Approval(
        approval_id=f"APR-{secrets.token_hex(6)}",
        mandate_id=mandate.id,
        act_code="BANK_GARNISHMENT",
        amount_cents=12_000,
        requested_by="office",
        request_message_id=f"CRQ-{secrets.token_hex(6)}",
        decision="approved" if decided else None,
    )
    session.add(approval)
    await session.flush()
    return approval


async def an_invoice(session: AsyncSession, office: Office, state: str) -> Invoice:
    number = f"F-{secrets.token_hex(4)}"
    stored = await messaging.store_inbound(
        session,
        messaging.Envelope(f"FAC-{office.code}-{number}", "fee_invoice", office.code, "AGENCY"),
        b"{}",
        "application/json",
    )
    invoice = Invoice(
        id=uuid.uuid4(),
        office_id=office.id,
        number=number,
        issue_date=days_ago(10),
        kind="invoice",
        syntax="v1",
        currency="EUR",
        total_net_cents=10_000,
        total_vat_cents=2_000,
        total_gross_cents=12_000,
        state=state,
        message_pk=stored.id,
        received_at=utcnow() - timedelta(days=10),
        dispute_sent_at=utcnow() - timedelta(days=9) if state == "disputed" else None,
    )
    session.add(invoice)
    await session.flush()
    return invoice


async def staff_token(app: FastAPI, role: Role = Role.STAFF) -> dict[str, str]:
    async with unit_of_work(app.state.sessions) as session:
        _, token = await staff.add_staff(session, f"{secrets.token_hex(4)}@agence.example", role)
    return bearer(token)


async def office_key(app: FastAPI, office: Office) -> dict[str, str]:
    async with unit_of_work(app.state.sessions) as session:
        return bearer((await offices.create_key(session, office.code)).secret)
