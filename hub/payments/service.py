"""Payment runs: every invoice approved for payment and in no run yet, grouped into one SEPA credit
transfer file for the agency's bank (``adapters.sepa``), one transfer per invoice to its office's
account; then the run marked paid at once when the bank has paid it. Takes a session, never commits.

An invoice that cannot be paid by transfer is left out of the run with its reason (its office has no
IBAN or an invalid one, an invalid BIC; a credit note or a zero total; a currency other than EUR) and
waits for the next run; the run never fails for it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sepa import (
    MAX_TRANSFER_CENTS,
    Account,
    CreditTransfer,
    PaymentFile,
    amount_text,
    check_account,
    pain001,
)
from hub.invoices import service as invoices
from hub.invoices.models import Invoice, InvoiceState
from hub.kit.clock import utcnow
from hub.kit.errors import MAX_ERRORS, Conflict, ErrorItem, InvalidInput, NotFound
from hub.offices.models import Office
from hub.payments.models import PaymentRun
from hub.payments.repository import PaymentRepository
from hub.settings import Settings

SEPA_CURRENCY = "EUR"
DECISION_CHUNK = 500  # invoices per call of invoices.decide (which takes at most 1,000 at once)


@dataclass(frozen=True)
class RunDetail:
    run: PaymentRun
    invoices: list[tuple[Invoice, str]]  # the invoices it pays, with their office's code


def agency_account(settings: Settings) -> Account:
    """The debtor of every payment file: the agency's account (HUB_AGENCY_NAME/IBAN/BIC)."""
    return Account(settings.agency_name, settings.agency_iban, settings.agency_bic)


def run_not_found(run_id: object) -> NotFound:
    return NotFound(f"no payment run {run_id}", code="payment_run.not_found")


def _skip(invoice: Invoice, office: Office, code: str, reason: str) -> dict[str, str]:
    return {
        "invoice_id": str(invoice.id),
        "number": invoice.number,
        "office_code": office.code,
        "code": code,
        "reason": reason,
    }


def why_not_payable(invoice: Invoice, office: Office) -> list[tuple[str, str]]:
    """What stops paying ``invoice`` by SEPA transfer to ``office``, as ``(code, reason)``."""
    problems = []
    if invoice.currency != SEPA_CURRENCY:
        problems.append(
            ("payment.currency_not_eur", f"SEPA pays in EUR; the invoice is in {invoice.currency}")
        )
    if invoice.total_gross_cents <= 0:
        problems.append(
            (
                "payment.nothing_to_pay",
                f"its total is {invoice.total_gross_cents} cents: a credit note is set off, not paid",
            )
        )
    if invoice.total_gross_cents > MAX_TRANSFER_CENTS:
        problems.append(
            (
                "payment.above_transfer_limit",
                f"its total is {amount_text(invoice.total_gross_cents)} EUR, above the most one SEPA "
                f"transfer carries ({amount_text(MAX_TRANSFER_CENTS)} EUR): pay it by another means",
            )
        )
    for code, reason in check_account(office.iban, office.bic):
        problems.append(
            (code, f"office {office.code}: {reason}; register it (hub offices update {office.code} --iban)")
        )
    return problems


async def create_run(
    session: AsyncSession,
    *,
    debtor: Account,
    actor: str,
    execution_date: date | None = None,
    now: datetime | None = None,
) -> RunDetail:
    """A run of every payable invoice approved and in no run yet, with its pain.001 file. Nothing to
    pay (none approved, or every one left out) refuses with 409 and, for each invoice left out, why."""
    created_at = now or utcnow()
    on = created_at.date()
    execute_on = execution_date or on
    if execute_on < on:
        raise InvalidInput(
            "the execution date is past",
            code="payment_run.execution_date_past",
            errors=[
                ErrorItem(
                    "/execution_date",
                    "payment_run.execution_date_past",
                    f"{execute_on.isoformat()} is before today ({on.isoformat()}); a bank executes on a "
                    "day to come",
                )
            ],
        )
    repo = PaymentRepository(session)
    run_id = uuid.uuid4()
    paying: list[tuple[Invoice, Office]] = []
    skipped: list[dict[str, str]] = []
    for invoice, office in await repo.payable_for_update():
        problems = why_not_payable(invoice, office)
        if problems:
            skipped.extend(_skip(invoice, office, code, reason) for code, reason in problems)
        else:
            paying.append((invoice, office))
    if not paying:
        raise Conflict(
            "no invoice to pay: none approved and in no run yet"
            if not skipped
            else f"no invoice to pay: the {len(skipped)} approved invoice(s) cannot be paid by transfer",
            code="payment_run.nothing_to_pay",
            errors=[
                ErrorItem(f"/invoices/{s['invoice_id']}", s["code"], f"invoice {s['number']}: {s['reason']}")
                for s in skipped[:MAX_ERRORS]
            ],
        )
    paying.sort(key=lambda pair: (pair[1].code, pair[0].number))
    message_id = f"PR-{run_id.hex}"  # 35 characters, the most GrpHdr/MsgId takes
    document = pain001(
        PaymentFile(
            message_id=message_id,
            created_at=created_at,
            execution_date=execute_on,
            debtor=debtor,
            currency=SEPA_CURRENCY,
            transfers=[
                CreditTransfer(
                    end_to_end_id=invoice.id.hex,
                    amount_cents=invoice.total_gross_cents,
                    creditor=Account(office.name, office.iban or "", office.bic),
                    remittance=invoice.number,
                )
                for invoice, office in paying
            ],
        )
    )
    run = PaymentRun(
        id=run_id,
        created_at=created_at,
        created_by=actor,
        message_id=message_id,
        execution_date=execute_on,
        currency=SEPA_CURRENCY,
        transactions=len(paying),
        total_cents=sum(invoice.total_gross_cents for invoice, _ in paying),
        skipped=skipped,
        pain001=document,
    )
    await repo.add(run)
    for invoice, _ in paying:
        invoice.payment_run_id = run.id
    await session.flush()
    return RunDetail(run, [(invoice, office.code) for invoice, office in paying])


async def run_detail(session: AsyncSession, run_id: uuid.UUID) -> RunDetail:
    repo = PaymentRepository(session)
    run = await repo.get(run_id)
    if run is None:
        raise run_not_found(run_id)
    return RunDetail(run, await repo.invoices_of(run.id))


async def list_runs(session: AsyncSession, *, after: uuid.UUID | None, limit: int) -> list[PaymentRun]:
    return await PaymentRepository(session).page(after=after, limit=limit)


async def mark_run_paid(
    session: AsyncSession,
    run_id: uuid.UUID,
    *,
    paid_on: date | None,
    bank_reference: str | None,
    actor: str,
    now: datetime | None = None,
) -> RunDetail:
    """The bank paid the run's file: every invoice of the run still approved is marked paid on
    ``paid_on`` with ``bank_reference`` (posted to the ledger as fees paid); one already marked paid
    on its own is left as it is. A run is marked paid once (409 after), never on a day before its
    file was written (422 ``payment_run.paid_before_written``)."""
    on = (now or utcnow()).date()
    invoices.check_payment(paid_on, bank_reference, today=on)
    assert paid_on is not None and bank_reference is not None
    repo = PaymentRepository(session)
    run = await repo.get(run_id, for_update=True)
    if run is None:
        raise run_not_found(run_id)
    if run.paid_on is not None:
        raise Conflict(
            f"payment run {run_id} was already marked paid on {run.paid_on.isoformat()} "
            f"({run.bank_reference})",
            code="payment_run.already_paid",
        )
    written_on = run.created_at.date()
    if paid_on < written_on:
        message = (
            f"{paid_on.isoformat()} is before the run's file was written ({written_on.isoformat()}): "
            "give the day on the bank statement"
        )
        raise InvalidInput(
            f"payment run {run_id} cannot have been paid on {paid_on.isoformat()}",
            errors=[ErrorItem("/paid_on", "payment_run.paid_before_written", message)],
        )
    unpaid = [i.id for i, _ in await repo.invoices_of(run.id) if i.state == InvoiceState.APPROVED.value]
    for start in range(0, len(unpaid), DECISION_CHUNK):
        await invoices.decide(
            session,
            unpaid[start : start + DECISION_CHUNK],
            "paid",
            actor=actor,
            comment=f"payment run {run.message_id}",
            today=on,
            paid_on=paid_on,
            bank_reference=bank_reference,
        )
    run.paid_on = paid_on
    run.bank_reference = bank_reference.strip()
    await session.flush()
    return RunDetail(run, await repo.invoices_of(run.id))
