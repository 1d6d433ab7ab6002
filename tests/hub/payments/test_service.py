"""Payment runs by the service (SQLite and PostgreSQL, each test rolled back): every approved invoice
in no run goes into one, paid to its office's account; those that cannot be paid by transfer are
left out with their reason and wait; marking a run paid pays its invoices on the ledger."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sepa import Account
from hub.invoices import service as invoices
from hub.invoices.models import InvoiceState
from hub.kit.errors import Conflict, InvalidInput, NotFound
from hub.ledger import service as ledger
from hub.ledger.postings import FEES_INVOICED, FEES_PAID, balance_of
from hub.payments import service
from tests.hub.payments.factories import (
    BIC_FR,
    IBAN_DE,
    IBAN_FR,
    approved_invoice,
    check_pain001,
    control_sum_cents,
    office_with_account,
    transfers,
)

AGENCY = Account("Agence de recouvrement", "FR7630006000011234567890189", "BNPAFRPPXXX")
TODAY = date(2026, 12, 4)
NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


async def create(session: AsyncSession, **kwargs: object) -> service.RunDetail:
    return await service.create_run(session, debtor=AGENCY, actor="finance@test", now=NOW, **kwargs)  # type: ignore[arg-type]


async def test_a_run_pays_every_approved_invoice_once_to_its_office(session: AsyncSession) -> None:
    paris = await office_with_account(session, IBAN_FR, BIC_FR)
    berlin = await office_with_account(session, IBAN_DE)  # no BIC: paid on the IBAN alone
    invoices = [
        await approved_invoice(session, paris, 5158, 1032),
        await approved_invoice(session, paris, 4084, 817),
        await approved_invoice(session, berlin, 2150, 430),
    ]
    detail = await create(session, execution_date=date(2026, 12, 7))
    run = detail.run
    assert {i.id for i, _ in detail.invoices} == {i.id for i in invoices}
    assert run.transactions == 3 and run.total_cents == 6190 + 4901 + 2580 and run.skipped == []
    assert run.execution_date == date(2026, 12, 7) and len(run.message_id) <= 35
    root = check_pain001(run.pain001)
    assert control_sum_cents(root) == run.total_cents
    assert transfers(root) == {i.id.hex: i.total_gross_cents for i in invoices}
    assert all(i.payment_run_id == run.id and i.state == InvoiceState.APPROVED for i in invoices)

    # In a run, an invoice is in no other: nothing left to pay.
    with pytest.raises(Conflict) as again:
        await create(session)
    assert again.value.code == "payment_run.nothing_to_pay" and again.value.errors == []
    # A new approved invoice goes into the next run alone.
    later = await approved_invoice(session, berlin, 100, 20)
    assert [i.id for i, _ in (await create(session)).invoices] == [later.id]


async def test_invoices_that_cannot_be_paid_by_transfer_are_left_out_with_why(session: AsyncSession) -> None:
    good = await office_with_account(session, IBAN_FR, BIC_FR)
    none = await office_with_account(session, None)
    bad_iban = await office_with_account(session, "FR1420041010050500013M02607")
    bad_bic = await office_with_account(session, IBAN_DE, "COBADE")
    paid = await approved_invoice(session, good, 5158, 1032)
    left = {
        "payment.iban_missing": await approved_invoice(session, none, 5158, 1032),
        "payment.iban_invalid": await approved_invoice(session, bad_iban, 5158, 1032),
        "payment.bic_invalid": await approved_invoice(session, bad_bic, 5158, 1032),
        "payment.nothing_to_pay": await approved_invoice(session, good, -5158, -1032),  # a credit note
        # One cent above the most one SEPA transfer carries: the bank would refuse the whole file.
        "payment.above_transfer_limit": await approved_invoice(session, good, 83_333_333_333, 16_666_666_667),
    }
    detail = await create(session)
    assert [i.id for i, _ in detail.invoices] == [paid.id] and detail.run.total_cents == 6190
    assert {s["code"]: s["invoice_id"] for s in detail.run.skipped} == {c: str(i.id) for c, i in left.items()}
    assert all(s["reason"] and s["office_code"] for s in detail.run.skipped)
    assert all(i.payment_run_id is None for i in left.values())  # they wait for the next run

    # Once the office's IBAN is right, the next run pays its invoice; nothing payable: 409 with why.
    none.office.iban = IBAN_DE
    await session.flush()
    assert [i.id for i, _ in (await create(session)).invoices] == [left["payment.iban_missing"].id]
    with pytest.raises(Conflict) as nothing:
        await create(session)
    assert sorted(e.code for e in nothing.value.errors) == [
        "payment.above_transfer_limit",
        "payment.bic_invalid",
        "payment.iban_invalid",
        "payment.nothing_to_pay",
    ]


async def test_every_reason_an_invoice_is_left_out_is_listed(session: AsyncSession) -> None:
    s = await office_with_account(session, "FR00", "COBADE")
    left = await approved_invoice(session, s, 100, 20)
    with pytest.raises(Conflict) as nothing:
        await create(session)
    assert [(e.path, e.code) for e in nothing.value.errors] == [
        (f"/invoices/{left.id}", "payment.iban_invalid"),
        (f"/invoices/{left.id}", "payment.bic_invalid"),
    ]


async def test_an_execution_date_in_the_past_is_refused(session: AsyncSession) -> None:
    await approved_invoice(session, await office_with_account(session, IBAN_FR), 100, 20)
    with pytest.raises(InvalidInput) as past:
        await create(session, execution_date=date(2026, 12, 3))
    assert past.value.code == "payment_run.execution_date_past"


async def test_marking_a_run_paid_pays_its_invoices_on_the_ledger(session: AsyncSession) -> None:
    s = await office_with_account(session, IBAN_FR, BIC_FR)
    first = await approved_invoice(session, s, 5158, 1032)
    second = await approved_invoice(session, s, 4084, 817)
    run = (await create(session)).run
    # One invoice paid on its own before the run: left as it was.
    await invoices.decide(
        session, [second.id], "paid", actor="f@test", comment=None, paid_on=TODAY, bank_reference="VIR-OWN"
    )
    with pytest.raises(InvalidInput) as incomplete:
        await service.mark_run_paid(
            session, run.id, paid_on=None, bank_reference=" ", actor="f@test", now=NOW
        )
    assert [e.code for e in incomplete.value.errors] == [
        "invoice.paid_on_required",
        "invoice.bank_reference_required",
    ]
    with pytest.raises(InvalidInput) as future:
        await service.mark_run_paid(
            session, run.id, paid_on=date(2026, 12, 5), bank_reference="VIR", actor="f@test", now=NOW
        )
    assert future.value.code == "invoice.paid_on_future"
    with pytest.raises(InvalidInput) as before:
        await service.mark_run_paid(
            session, run.id, paid_on=date(2026, 12, 3), bank_reference="VIR", actor="f@test", now=NOW
        )
    assert [e.code for e in before.value.errors] == ["payment_run.paid_before_written"]

    later = NOW + timedelta(days=3)
    detail = await service.mark_run_paid(
        session, run.id, paid_on=date(2026, 12, 7), bank_reference="VIR-LOT-1", actor="f@test", now=later
    )
    assert detail.run.paid_on == date(2026, 12, 7) and detail.run.bank_reference == "VIR-LOT-1"
    assert {i.id: (i.state, i.paid_on, i.bank_reference) for i, _ in detail.invoices} == {
        first.id: ("paid", date(2026, 12, 7), "VIR-LOT-1"),
        second.id: ("paid", TODAY, "VIR-OWN"),
    }
    balances = await ledger.balances(session, office_id=s.office.id)
    assert balance_of(balances, FEES_INVOICED) == 0 and balance_of(balances, FEES_PAID) == -(6190 + 4901)
    with pytest.raises(Conflict) as twice:
        await service.mark_run_paid(
            session, run.id, paid_on=TODAY, bank_reference="VIR-LOT-2", actor="f@test", now=NOW
        )
    assert twice.value.code == "payment_run.already_paid"


async def test_an_unknown_run_is_not_found(session: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await service.run_detail(session, uuid.uuid4())
    with pytest.raises(NotFound):
        await service.mark_run_paid(
            session, uuid.uuid4(), paid_on=TODAY, bank_reference="X", actor="f", now=NOW
        )
