"""An office with cases on which its act reports recorded money collected (posted to the ledger as
the hub posts it), its API key and staff tokens; remittance messages as an office sends them; the
ageing of the money held worked out from the ledger's own entries, what the database's is held to."""

from __future__ import annotations

import json
import secrets
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.cases.models import Case
from hub.database import unit_of_work
from hub.ledger.models import LedgerEntry, LedgerTransaction
from hub.ledger.postings import COLLECTED_BY_OFFICE, COLLECTION, exact_cents
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


def oldest_unremitted(movements: Iterable[tuple[str, date, int]]) -> tuple[int, date | None]:
    """The ageing rule restated on one case's ``collected_by_office`` movements of one office and
    currency, (transaction kind, effective day, cents): (cents held, day of the oldest collection not
    remitted, None when nothing is held). Walking the days of money collected from the newest back,
    the first from which they cover what is held, else the oldest."""
    rows = list(movements)
    held = sum(cents for _, _, cents in rows)
    if held <= 0:
        return held, None
    collected: dict[date, int] = defaultdict(int)
    for kind, day, cents in rows:
        if kind == COLLECTION:  # a reversed collection nets out on its own day
            collected[day] += cents
    days = sorted((day for day, cents in collected.items() if cents > 0), reverse=True)
    covered = 0
    for day in days:
        covered += collected[day]
        if covered >= held:
            return held, day
    return held, days[-1] if days else None


async def aged_from_the_ledger(
    session: AsyncSession, offices: Collection[uuid.UUID]
) -> dict[tuple[str, str, str], tuple[int, date]]:
    """(office code, case ref, currency) -> (cents held, oldest day not remitted) of each case on
    which one of ``offices`` holds money, from every entry of the ledger (a reversal on the day of
    the transaction it reverses), aged by ``oldest_unremitted``."""
    reversed_ = aliased(LedgerTransaction)
    day = func.coalesce(reversed_.effective_on, LedgerTransaction.effective_on)
    rows = await session.execute(
        select(Office.code, Case.ref, LedgerEntry.currency, LedgerTransaction.kind, day)
        .add_columns(LedgerEntry.amount_cents)
        .select_from(LedgerEntry)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .outerjoin(reversed_, reversed_.id == LedgerTransaction.reverses_id)
        .join(Office, Office.id == LedgerEntry.office_id)
        .join(Case, Case.id == LedgerEntry.case_id)
        .where(LedgerEntry.account == COLLECTED_BY_OFFICE, LedgerEntry.office_id.in_(list(offices)))
    )
    per_case: dict[tuple[str, str, str], list[tuple[str, date, int]]] = defaultdict(list)
    for code, ref, currency, kind, on, cents in rows.all():
        per_case[(code, ref, currency)].append((kind, on, exact_cents(cents)))
    aged = {key: oldest_unremitted(movements) for key, movements in per_case.items()}
    return {key: (held, on) for key, (held, on) in aged.items() if held > 0 and on is not None}
