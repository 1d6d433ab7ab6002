"""An office with its SIRET, a case, a per-act mandate and act reports, ready to be invoiced."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from hub.acts.models import ActReport
from hub.database import unit_of_work
from hub.mandates.models import Approval
from hub.messaging import service as messaging
from hub.messaging.models import StoredMessage
from hub.offices import service as offices
from hub.offices.repository import OfficeRepository
from hub.staff import service as staff
from hub.staff.models import Role
from tests.hub.acts.factories import Seeded, seed
from tests.hub.invoices.einvoices import SIRET


@dataclass
class World:
    seeded: Seeded
    key: str
    finance: str
    staff: str
    acts: dict[str, ActReport] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.seeded.office.code


async def world(app: FastAPI, *, siret: str | None = SIRET, code: str | None = None) -> World:
    """Acts A/1 (SERVE_TITLE, 8.80 disbursements), A/2 (PAYMENT_ORDER), A/3 flagged without
    approval, A/4 SUMMONS outside the per-act mandate, done under approval APR-<code> (its act
    report quotes it). The office is new, or the office ``code`` already added, given ``siret``."""
    async with unit_of_work(app.state.sessions) as session:
        if code is None:
            code = "CJ" + secrets.token_hex(4).upper()
            office = await offices.add_office(session, code=code, name=f"Étude {code}", siret=siret)
        else:
            found = await OfficeRepository(session).get_by_code(code)
            assert found is not None, code
            office, office.siret = found, siret
        s = await seed(session, office=office)
        key = (await offices.create_key(session, code)).secret
        _, finance = await staff.add_staff(session, f"finance-{code}@agence.example", Role.FINANCE)
        _, case_staff = await staff.add_staff(session, f"staff-{code}@agence.example", Role.STAFF)
        w = World(s, key, finance, case_staff)
        specs = [
            ("A/1", "SERVE_TITLE", False, 880),
            ("A/2", "PAYMENT_ORDER", False, 0),
            ("A/3", "SERVE_TITLE", True, 0),
            ("A/4", "SUMMONS", False, 0),
        ]
        for ref, act_code, flagged, disbursements in specs:
            stored = await messaging.store_inbound(
                session,
                messaging.Envelope(f"CR-{code}-{ref}", "act_report", code, "AGENCY"),
                b"{}",
                "application/json",
            )
            act = ActReport(
                id=uuid.uuid4(),
                mandate_id=s.mandate.id,
                case_id=s.case.id,
                office_id=office.id,
                message_pk=stored.id,
                act_code=act_code,
                act_date=date(2026, 2, 27),
                outcome_code="served_at_home",
                office_reference=ref,
                approval_id=f"APR-{code}" if ref == "A/4" else None,
                currency="EUR",
                emoluments_cents=1,
                disbursements_cents=disbursements,
                vat_cents=0,
                flagged=flagged,
            )
            session.add(act)
            w.acts[ref] = act
        session.add(
            Approval(
                approval_id=f"APR-{code}",
                mandate_id=s.mandate.id,
                act_code="SUMMONS",
                requested_by=code,
                decision="approved",
                decided_by="finance@agence.example",
            )
        )
    return w


def v1_invoice(w: World, number: str, lines: list[dict[str, Any]], **changes: Any) -> bytes:
    """A canonical v1 fee invoice of the world's office."""
    net = sum(int(line["net_cents"]) for line in lines)
    vat = sum(int(line["net_cents"]) * int(line["vat_rate_bp"]) // 10000 for line in lines)
    data: dict[str, Any] = {
        "envelope": {
            "message_id": f"FAC-{w.code}-{number}",
            "kind": "fee_invoice",
            "version": "1",
            "sender": w.code,
            "recipient": "AGENCY",
            "sent_at": "2026-03-31T18:00:00+02:00",
        },
        "invoice_number": number,
        "issue_date": "2026-03-31",
        "seller": {"office_code": w.code, "siret": SIRET, "name": "SCP Martin"},
        "currency": "EUR",
        "lines": lines,
        "total_net_cents": net,
        "total_vat_cents": vat,
        "total_gross_cents": net + vat,
    }
    data.update(changes)
    return json.dumps(data).encode()


async def count_messages(app: FastAPI, kind: str, recipient: str) -> int:
    async with unit_of_work(app.state.sessions) as session:
        found = await session.execute(
            select(func.count())
            .select_from(StoredMessage)
            .where(StoredMessage.kind == kind, StoredMessage.recipient == recipient)
        )
        return int(found.scalar_one())
