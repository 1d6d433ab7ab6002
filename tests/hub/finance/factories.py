"""A small network for the finance reports: offices with cases and mandates, act reports posted to
the ledger by the real ``post_act``, invoices approved and paid by the real ``decide`` on chosen days,
a reversal and a write-off, so every kind of ledger movement is there."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import ActReport
from hub.acts.service import post_act
from hub.invoices import service as invoices
from hub.invoices.models import Invoice, InvoiceLine
from hub.ledger import service as ledger
from hub.ledger.models import LedgerTransaction
from hub.mandates.models import Mandate
from hub.messaging import service as messaging
from tests.hub.acts.factories import Seeded, seed

_numbers = itertools.count(1)


async def act(
    session: AsyncSession,
    s: Seeded,
    on: date,
    *,
    act_code: str = "SERVE_TITLE",
    emoluments: int = 5158,
    disbursements: int = 0,
    vat: int = 1032,
    collected: int = 0,
    flagged: bool = False,
    mandate: Mandate | None = None,
) -> ActReport:
    """An act report of ``s``'s office on ``on``, posted to the ledger as the hub posts it."""
    n = next(_numbers)
    code = s.office.code
    stored = await messaging.store_inbound(
        session,
        messaging.Envelope(f"CR-{code}-F{n}", "act_report", code, "AGENCY"),
        b"{}",
        "application/json",
    )
    report = ActReport(
        id=uuid.uuid4(),
        mandate_id=(mandate or s.mandate).id,
        case_id=s.case.id,
        office_id=s.office.id,
        message_pk=stored.id,
        act_code=act_code,
        act_date=on,
        outcome_code="served_at_home",
        office_reference=f"F/{n}",
        currency="EUR",
        collected_cents=collected,
        emoluments_cents=emoluments,
        disbursements_cents=disbursements,
        vat_cents=vat,
        flagged=flagged,
    )
    session.add(report)
    await session.flush()
    await post_act(session, report)
    await session.flush()
    return report


@dataclass
class LineSpec:
    net: int
    vat: int
    result: str = "matched"
    act: ActReport | None = None


async def invoice(
    session: AsyncSession, s: Seeded, issued: date, lines: list[LineSpec], *, state: str = "matched"
) -> Invoice:
    """A stored invoice of ``s``'s office issued on ``issued`` (lines with their match results)."""
    n = next(_numbers)
    code = s.office.code
    stored = await messaging.store_inbound(
        session,
        messaging.Envelope(f"FAC-{code}-{n}", "fee_invoice", code, "AGENCY"),
        b"{}",
        "application/json",
    )
    net = sum(line.net for line in lines)
    vat = sum(line.vat for line in lines)
    inv = Invoice(
        id=uuid.uuid4(),
        office_id=s.office.id,
        number=f"F-{n}",
        issue_date=issued,
        kind="invoice",
        syntax="v1",
        currency="EUR",
        total_net_cents=net,
        total_vat_cents=vat,
        total_gross_cents=net + vat,
        state=state,
        message_pk=stored.id,
    )
    session.add(inv)
    await session.flush()
    session.add_all(
        [
            InvoiceLine(
                invoice_id=inv.id,
                position=i,
                line_id=str(i),
                description="acte",
                net_cents=line.net,
                vat_rate_bp=2000,
                vat_cents=line.vat,
                result=line.result,
                findings=[] if line.result == "matched" else [{"code": line.result, "message": "x"}],
                act_report_id=line.act.id if line.act else None,
                case_id=line.act.case_id if line.act else None,
            )
            for i, line in enumerate(lines, start=1)
        ]
    )
    await session.flush()
    return inv


async def approve(session: AsyncSession, inv: Invoice, on: date) -> None:
    await invoices.decide(session, [inv.id], "approve", actor="finance@test", comment=None, today=on)
    await session.flush()


async def pay(session: AsyncSession, inv: Invoice, on: date) -> None:
    await invoices.decide(
        session,
        [inv.id],
        "paid",
        actor="finance@test",
        comment=None,
        today=on,
        paid_on=on,
        bank_reference=f"VIR-{inv.number}",
    )
    await session.flush()


@dataclass
class Network:
    offices: list[Seeded]
    acts: list[ActReport] = field(default_factory=list)


async def network(session: AsyncSession) -> Network:
    """Three offices, acts on both sides of the period boundaries (1 Feb, 1 Mar, 1 Apr 2026), money
    collected, invoices approved and paid on boundary days, a reversed act and a write-off."""
    offices = [await seed(session) for _ in range(3)]
    net = Network(offices)
    a, b, c = offices
    days = [
        date(2026, 1, 31),
        date(2026, 2, 1),
        date(2026, 2, 15),
        date(2026, 2, 28),
        date(2026, 3, 1),
        date(2026, 3, 31),
    ]
    for i, day in enumerate(days):
        net.acts.append(await act(session, a, day, collected=1000 * i, emoluments=5158 + i, vat=1032 + i))
        net.acts.append(
            await act(
                session,
                b,
                day,
                act_code="PAYMENT_ORDER",
                emoluments=4084,
                vat=817,
                disbursements=880 * (i % 2),
            )
        )
    net.acts.append(
        await act(
            session, a, date(2026, 2, 10), act_code="PAYMENT_ORDER", emoluments=4084, vat=817, flagged=True
        )
    )
    net.acts.append(await act(session, c, date(2026, 3, 1), collected=25_000))
    # A correction: an act of A reversed in March (dated on the reversal day, same act code).
    wrong = await act(session, a, date(2026, 2, 20), emoluments=9999, vat=2000)
    net.acts.append(wrong)
    (txn,) = (
        (
            await session.execute(
                select(LedgerTransaction).where(LedgerTransaction.source == f"act_report:{wrong.id}")
            )
        )
        .scalars()
        .all()
    )
    await ledger.reverse(session, txn.id, reason="emolument keyed twice", effective_on=date(2026, 3, 1))
    # A write-off on A's case in February: moves the fee accounts, not what the office claimed.
    await ledger.post(
        session,
        ledger.WRITE_OFF,
        ledger.write_off_postings(
            emoluments_cents=3000, disbursements_cents=0, vat_cents=600, currency="EUR"
        ),
        effective_on=date(2026, 2, 27),
        source="write_off:test",
        case_id=a.case.id,
        office_id=a.office.id,
    )
    # A remittance by C in March.
    await ledger.post(
        session,
        ledger.REMITTANCE,
        ledger.remittance_postings(remitted_cents=20_000, currency="EUR"),
        effective_on=date(2026, 3, 31),
        source="remittance:test",
        case_id=c.case.id,
        office_id=c.office.id,
    )
    a_acts = [x for x in net.acts if x.office_id == a.office.id]
    first = await invoice(
        session,
        a,
        date(2026, 2, 28),
        [
            LineSpec(5158, 1032, act=a_acts[0]),
            LineSpec(5159, 1032, act=a_acts[1]),
            LineSpec(700, 140, "above_tariff"),
        ],
        state="disputed",
    )
    await approve(session, first, date(2026, 3, 1))
    await pay(session, first, date(2026, 3, 31))
    second = await invoice(
        session, a, date(2026, 3, 1), [LineSpec(5160, 1032, act=a_acts[2]), LineSpec(100, 20, "act_unknown")]
    )
    await approve(session, second, date(2026, 4, 1))
    b_acts = [x for x in net.acts if x.office_id == b.office.id]
    third = await invoice(
        session,
        b,
        date(2026, 2, 1),
        [LineSpec(4084, 817, act=b_acts[0]), LineSpec(4084, 817, "billed_twice")],
    )
    await approve(session, third, date(2026, 2, 1))
    await pay(session, third, date(2026, 4, 1))
    return net
