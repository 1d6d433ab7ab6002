"""An office with cases on which its act reports recorded money collected (posted to the ledger as
the hub posts it), its API key and staff tokens; remittance messages as an office sends them."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from hub.database import unit_of_work
from hub.offices import service as offices
from hub.offices.models import Office
from hub.offices.repository import OfficeRepository
from hub.staff import service as staff
from hub.staff.models import Role
from schemas.v1 import SAMPLES_DIR
from tests.hub.acts.factories import Seeded, seed
from tests.hub.finance.factories import act

SAMPLE: dict[str, Any] = json.loads((SAMPLES_DIR / "valid" / "remittance.json").read_text(encoding="utf-8"))


@dataclass
class Collecting:
    office: Office
    cases: list[Seeded]  # one per amount collected, in order

    @property
    def code(self) -> str:
        return self.office.code

    def ref(self, i: int) -> str:
        return self.cases[i].case.ref


async def collecting(
    session: AsyncSession, collected: list[int], *, on: date = date(2026, 3, 2), office: Office | None = None
) -> Collecting:
    """An office (``office`` or a new one) with one case per amount of ``collected``, each with an act
    report on ``on`` that collected that amount."""
    if office is None:
        code = "CJ" + secrets.token_hex(4).upper()
        office = await offices.add_office(session, code=code, name=f"Étude {code}")
    cases = []
    for cents in collected:
        s = await seed(session, office=office)
        await act(session, s, on, collected=cents)
        cases.append(s)
    return Collecting(office, cases)


@dataclass
class World:
    a: Collecting
    b: Collecting  # another office
    key: str  # a's API key
    b_key: str
    finance: str
    staff: str


async def world(app: FastAPI, collected: list[int], *, code: str | None = None) -> World:
    """Office A (new, or the office ``code`` already added) collected ``collected`` on as many cases;
    office B collected 10.00 on one case of its own."""
    async with unit_of_work(app.state.sessions) as session:
        office = None
        if code is not None:
            office = await OfficeRepository(session).get_by_code(code)
        a = await collecting(session, collected, office=office)
        b = await collecting(session, [1000])
        key = (await offices.create_key(session, a.code)).secret
        b_key = (await offices.create_key(session, b.code)).secret
        _, finance = await staff.add_staff(session, f"finance-{a.code}@agence.example", Role.FINANCE)
        _, case_staff = await staff.add_staff(session, f"staff-{a.code}@agence.example", Role.STAFF)
    return World(a, b, key, b_key, finance, case_staff)


def remittance(
    sender: str, lines: list[tuple[str, int]], *, n: str | None = None, bank_reference: str | None = None
) -> dict[str, Any]:
    """The sample remittance from ``sender`` with ``lines`` (case ref, cents)."""
    n = n or secrets.token_hex(4)
    return {
        **SAMPLE,
        "envelope": {**SAMPLE["envelope"], "sender": sender, "message_id": f"REM-{sender}-{n}"},
        "bank_reference": bank_reference or f"VIR-{sender}-{n}",
        "lines": [{"case_ref": ref, "amount_cents": cents} for ref, cents in lines],
    }


def encoded(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()
