"""Posting, reversing and balances on the real engines (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import ActReport
from hub.bootstrap import inbound_processor
from hub.kit.errors import Conflict, InvalidInput, NotFound
from hub.ledger import service as ledger
from hub.ledger.models import LedgerEntry, LedgerTransaction
from hub.ledger.postings import Posting
from hub.ledger.repository import LedgerRepository
from hub.messaging.inbound import Received
from hub.messaging.signing import ReceiptSigner
from tests.hub.acts.factories import report_json, seed
from tests.hub.ledger.factories import add_creditors_with_cases, add_offices

EUR = "EUR"
MARCH_2 = date(2026, 3, 2)


def fees(emoluments: int = 5158, disbursements: int = 880, vat: int = 1032) -> list[Posting]:
    return ledger.act_fee_postings(
        emoluments_cents=emoluments, disbursements_cents=disbursements, vat_cents=vat, currency=EUR
    )


@contextmanager
def statements_seen(session: AsyncSession) -> Iterator[list[str]]:
    """Every SQL statement the session's connection runs inside the block."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = session.bind.sync_engine  # type: ignore[union-attr]
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_reversal_negates_every_entry_and_brings_balances_back(session: AsyncSession) -> None:
    [office] = await add_offices(session, 1)
    owners = await add_creditors_with_cases(session, [1])
    [case] = owners
    original = await ledger.post(
        session,
        ledger.ACT_FEES,
        fees(),
        effective_on=MARCH_2,
        source="act_report:x",
        case_id=case,
        office_id=office,
    )
    assert await ledger.balances(session, case_id=case) == {
        "fees_disbursements": {EUR: 880},
        "fees_emoluments": {EUR: 5158},
        "fees_vat": {EUR: 1032},
        "payable_to_office": {EUR: -7070},
    }
    reversal = await ledger.reverse(
        session, original.id, reason="fees reported twice", effective_on=date(2026, 3, 9)
    )
    assert (reversal.reverses_id, reversal.kind, reversal.source, reversal.reason) == (
        original.id,
        "act_fees",
        "act_report:x",
        "fees reported twice",
    )
    assert (reversal.case_id, reversal.office_id, reversal.effective_on) == (case, office, date(2026, 3, 9))
    repo = LedgerRepository(session)
    before = [
        (e.account, e.amount_cents, e.currency, e.case_id, e.office_id)
        for e in await repo.entries(original.id)
    ]
    after = [
        (e.account, e.amount_cents, e.currency, e.case_id, e.office_id)
        for e in await repo.entries(reversal.id)
    ]
    assert after == [(a, -cents, cur, c, o) for a, cents, cur, c, o in before]
    for where in ({"case_id": case}, {"office_id": office}, {"creditor_id": owners[case]}):
        assert await ledger.balances(session, **where) == {}
    # In the period of the original only, the reversal is not there yet.
    assert await ledger.balances(session, office_id=office, start=MARCH_2, end=date(2026, 3, 9)) != {}


async def test_reversing_twice_is_refused(session: AsyncSession) -> None:
    original = await ledger.post(session, ledger.ACT_FEES, fees(), effective_on=MARCH_2, source="t")
    await ledger.reverse(session, original.id, reason="wrong act", effective_on=MARCH_2)
    with pytest.raises(Conflict) as refused:
        await ledger.reverse(session, original.id, reason="again", effective_on=MARCH_2)
    assert (refused.value.status, refused.value.code) == (409, "ledger.already_reversed")
    assert await ledger.balances(session, office_id=None) == {}  # the session is still usable


async def test_reversing_a_reversal_is_refused(session: AsyncSession) -> None:
    original = await ledger.post(session, ledger.ACT_FEES, fees(), effective_on=MARCH_2, source="t")
    reversal = await ledger.reverse(session, original.id, reason="wrong act", effective_on=MARCH_2)
    with pytest.raises(Conflict) as refused:
        await ledger.reverse(session, reversal.id, reason="undo the undo", effective_on=MARCH_2)
    assert (refused.value.status, refused.value.code) == (409, "ledger.reversal_not_reversible")
    count = (await session.execute(select(func.count()).select_from(LedgerTransaction))).scalar_one()
    assert count == 2


async def test_an_unknown_transaction_is_not_found(session: AsyncSession) -> None:
    with pytest.raises(NotFound) as refused:
        await ledger.reverse(session, uuid.uuid4(), reason="x", effective_on=MARCH_2)
    assert (refused.value.status, refused.value.code) == (404, "ledger.transaction_not_found")


async def test_a_reversal_needs_a_reason_and_a_date_not_before_the_original(session: AsyncSession) -> None:
    original = await ledger.post(session, ledger.ACT_FEES, fees(), effective_on=MARCH_2, source="t")
    with pytest.raises(InvalidInput) as refused:
        await ledger.reverse(session, original.id, reason="  ", effective_on=date(2026, 3, 1))
    assert refused.value.status == 422
    assert [e.code for e in refused.value.errors] == [
        "ledger.reason_required",
        "ledger.reversal_before_original",
    ]
    count = (await session.execute(select(func.count()).select_from(LedgerEntry))).scalar_one()
    assert count == 3 + 1


async def test_an_unbalanced_transaction_writes_nothing(session: AsyncSession) -> None:
    with pytest.raises(ledger.UnbalancedTransaction), statements_seen(session) as seen:
        await ledger.post(
            session, ledger.REMITTANCE, [Posting("remitted_to_agency", 1)], effective_on=MARCH_2, source="t"
        )
    assert seen == []


async def test_the_code_never_updates_or_deletes_the_ledger(session: AsyncSession) -> None:
    """On SQLite nothing would stop it, so the code must never try (PostgreSQL's trigger refuses)."""
    [office] = await add_offices(session, 1)
    with statements_seen(session) as seen:
        first = await ledger.post(
            session, ledger.ACT_FEES, fees(), effective_on=MARCH_2, source="a", office_id=office
        )
        await ledger.post(
            session,
            ledger.INVOICE,
            ledger.invoice_postings(invoiced_cents=7070, currency=EUR),
            effective_on=MARCH_2,
            source="invoice:1",
            office_id=office,
        )
        await ledger.reverse(session, first.id, reason="wrong", effective_on=MARCH_2)
        with pytest.raises(Conflict):
            await ledger.reverse(session, first.id, reason="again", effective_on=MARCH_2)
        await ledger.statement(session, office, date(2026, 1, 1), date(2027, 1, 1))
    written = [s.split(None, 1)[0].upper() for s in seen if "ledger_" in s]
    assert "INSERT" in written
    assert not {"UPDATE", "DELETE"} & set(written), seen


async def test_balances_per_case_office_creditor_and_period_from_the_entries(session: AsyncSession) -> None:
    offices = await add_offices(session, 2)
    owners = await add_creditors_with_cases(session, [2, 1])
    case_a1, case_a2, case_b = owners
    creditor_a, creditor_b = owners[case_a1], owners[case_b]

    async def post(kind: str, lines: list[Posting], on: date, case: uuid.UUID, office: uuid.UUID) -> None:
        await ledger.post(session, kind, lines, effective_on=on, source="t", case_id=case, office_id=office)

    await post(ledger.ACT_FEES, fees(), date(2026, 1, 31), case_a1, offices[0])
    await post(ledger.ACT_FEES, fees(2042, 0, 408), date(2026, 2, 1), case_a2, offices[0])
    await post(
        ledger.COLLECTION,
        ledger.collection_postings(collected_cents=9_000, currency="CHF"),
        date(2026, 2, 28),
        case_b,
        offices[1],
    )
    await post(
        ledger.REMITTANCE,
        ledger.remittance_postings(remitted_cents=4_000, currency="CHF"),
        date(2026, 3, 1),
        case_b,
        offices[1],
    )

    assert await ledger.balances(session, creditor_id=creditor_a) == {
        "fees_disbursements": {EUR: 880},
        "fees_emoluments": {EUR: 5158 + 2042},
        "fees_vat": {EUR: 1032 + 408},
        "payable_to_office": {EUR: -(7070 + 2450)},
    }
    assert await ledger.balances(session, creditor_id=creditor_b) == {
        "case_collections": {"CHF": -9_000},
        "collected_by_office": {"CHF": 5_000},
        "remitted_to_agency": {"CHF": 4_000},
    }
    assert await ledger.balances(session, office_id=offices[0]) == await ledger.balances(
        session, creditor_id=creditor_a
    )
    feb = {"start": date(2026, 2, 1), "end": date(2026, 3, 1)}  # [from, to): 31 Jan and 1 Mar out
    assert await ledger.balances(session, case_id=case_a2, **feb) == {
        "fees_emoluments": {EUR: 2042},
        "fees_vat": {EUR: 408},
        "payable_to_office": {EUR: -2450},
    }
    assert await ledger.balances(session, case_id=case_a1, **feb) == {}
    assert await ledger.balances(session, office_id=offices[1], **feb) == {
        "case_collections": {"CHF": -9_000},
        "collected_by_office": {"CHF": 9_000},
    }
    assert await ledger.balances(session, creditor_id=creditor_a, office_id=offices[1]) == {}
    repo = LedgerRepository(session)
    held = await repo.balance("collected_by_office", currency="CHF", office_id=offices[1])
    assert held == 5_000 and type(held) is int
    for balances in [await ledger.balances(session, creditor_id=c) for c in (creditor_a, creditor_b)]:
        assert all(type(cents) is int for per in balances.values() for cents in per.values())


async def test_an_office_statement_per_kind_and_act_equals_its_entries(session: AsyncSession) -> None:
    s = await seed(session)
    processor = inbound_processor(ReceiptSigner("r" * 40))
    sent = [
        report_json(s.office.code, s.mandate.ref, n=1, collected_cents=20_000),
        report_json(
            s.office.code,
            s.mandate.ref,
            n=2,
            act_code="PAYMENT_ORDER",
            act_date="2026-03-05",
            fees={"emoluments_cents": 2042, "disbursements_cents": 0, "vat_cents": 408},
        ),
    ]
    for raw in sent:
        outcome = await processor.receive(session, s.office, Received(raw, "application/json"))
        assert outcome.accepted, outcome.receipt.errors
    office, case = s.office.id, s.case.id
    await ledger.post(
        session,
        ledger.REMITTANCE,
        ledger.remittance_postings(remitted_cents=15_000, currency=EUR),
        effective_on=date(2026, 3, 10),
        source="remittance:R1",
        case_id=case,
        office_id=office,
    )
    repo = LedgerRepository(session)
    [payment_order] = {
        e.transaction_id for e in await repo.entries_of(await _source_of(session, "PAYMENT_ORDER"))
    }
    await ledger.reverse(session, payment_order, reason="act not performed", effective_on=date(2026, 3, 20))

    march = await ledger.statement(session, office, date(2026, 3, 1), date(2026, 4, 1))
    assert march.opening == {  # the service of the title, 27 February, with its collection
        "case_collections": {EUR: -20_000},
        "collected_by_office": {EUR: 20_000},
        "fees_disbursements": {EUR: 880},
        "fees_emoluments": {EUR: 5158},
        "fees_vat": {EUR: 1032},
        "payable_to_office": {EUR: -7070},
    }
    assert march.by_act() == {}  # the payment order and its reversal, both in March
    assert march.by_kind() == {
        "remittance": {"collected_by_office": {EUR: -15_000}, "remitted_to_agency": {EUR: 15_000}}
    }
    assert march.closing() == await ledger.balances(session, office_id=office, end=date(2026, 4, 1))

    year = await ledger.statement(session, office, date(2026, 1, 1), date(2027, 1, 1))
    assert year.opening == {}
    assert year.by_act() == {
        "SERVE_TITLE": {
            "case_collections": {EUR: -20_000},
            "collected_by_office": {EUR: 20_000},
            "fees_disbursements": {EUR: 880},
            "fees_emoluments": {EUR: 5158},
            "fees_vat": {EUR: 1032},
            "payable_to_office": {EUR: -7070},
        }
    }
    assert year.movements() == await ledger.balances(session, office_id=office)
    raw_sums = (
        await session.execute(
            select(LedgerEntry.account, func.sum(LedgerEntry.amount_cents))
            .where(LedgerEntry.office_id == office)
            .group_by(LedgerEntry.account)
        )
    ).all()
    assert {account: {EUR: int(total)} for account, total in raw_sums if total} == year.movements()

    only_payment_order = await ledger.statement(session, office, date(2026, 3, 5), date(2026, 3, 6))
    assert only_payment_order.by_act() == {
        "PAYMENT_ORDER": {
            "fees_emoluments": {EUR: 2042},
            "fees_vat": {EUR: 408},
            "payable_to_office": {EUR: -2450},
        }
    }


async def _source_of(session: AsyncSession, act_code: str) -> str:
    act_id = (await session.execute(select(ActReport.id).where(ActReport.act_code == act_code))).scalar_one()
    return f"act_report:{act_id}"
