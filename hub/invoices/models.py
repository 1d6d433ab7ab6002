"""Fee invoices ("factures") received from offices, their lines with the result of the three-way
match, and the log of every transition (who, why, when)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.acts.models import ActReport
from hub.cases.models import Case
from hub.kit.clock import utcnow
from hub.kit.db import Base, BigIntId, Cents, Currency, Timestamped, UtcDateTime, UuidPk
from hub.messaging.models import StoredMessage
from hub.offices.models import Office
from hub.payments.models import PaymentRun


class InvoiceState(enum.StrEnum):
    RECEIVED = "received"  # stored, not matched yet (only inside the intake transaction)
    MATCHED = "matched"  # every line matched its act and the tariff
    DISPUTED = "disputed"  # a line has a finding, or finance disputed it
    APPROVED = "approved"  # finance accepts to pay it: posted to the ledger as fees invoiced
    PAID = "paid"  # paid: posted as fees paid


class InvoiceKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT = "credit"  # a credit note, or an invoice whose total is negative: amounts stored negative


class Invoice(UuidPk, Timestamped, Base):
    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("office_id", "number", name="uq_invoices_office_number"),)

    office_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("offices.id"), index=True)
    number: Mapped[str] = mapped_column(String(200))  # BT-1, as the office wrote it
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    syntax: Mapped[str] = mapped_column(String(16))  # v1, ubl, cii, facturx_pdf
    currency: Mapped[str] = Currency()
    mandate_reference: Mapped[str | None] = mapped_column(String(64))  # BT-13
    # Signed: a credit's amounts are negative.
    total_net_cents: Mapped[int] = Cents()
    total_vat_cents: Mapped[int] = Cents()
    total_gross_cents: Mapped[int] = Cents()
    state: Mapped[str] = mapped_column(String(16), index=True)
    message_pk: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("messages.id"))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    dispute_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The payment as the bank statement shows it (required to mark an invoice paid).
    paid_on: Mapped[date | None] = mapped_column(Date)
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    # The one payment run that pays it (hub.payments), set once under the invoice's row lock.
    payment_run_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid(), ForeignKey("payment_runs.id"), index=True
    )

    # Declared so the unit of work inserts rows in foreign-key order.
    office: Mapped[Office] = relationship(lazy="raise")
    message: Mapped[StoredMessage] = relationship(lazy="raise")
    payment_run: Mapped[PaymentRun | None] = relationship(lazy="raise")


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1, 2... in the invoice's order
    line_id: Mapped[str] = mapped_column(String(200))  # BT-126, or the position
    description: Mapped[str] = mapped_column(String(500))
    net_cents: Mapped[int] = Cents()  # signed
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
    vat_cents: Mapped[int | None] = Cents(nullable=True)  # net x rate, rounded half up
    disbursement: Mapped[bool] = mapped_column(default=False)
    # The act references as invoiced (BT-128, our act id, BT-132, BT-155, BT-13).
    office_act_reference: Mapped[str | None] = mapped_column(String(200))
    hub_act_id: Mapped[str | None] = mapped_column(String(64))
    approval_id: Mapped[str | None] = mapped_column(String(200))
    act_code: Mapped[str | None] = mapped_column(String(200))
    mandate_reference: Mapped[str | None] = mapped_column(String(64))
    # The three-way match: "matched" or the first finding; every finding with its words.
    result: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    findings: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    act_report_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), ForeignKey("act_reports.id"), index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), ForeignKey("cases.id"))

    # Declared so the unit of work inserts rows in foreign-key order.
    invoice: Mapped[Invoice] = relationship(lazy="raise")
    act_report: Mapped[ActReport | None] = relationship(lazy="raise")
    case: Mapped[Case | None] = relationship(lazy="raise")


class InvoiceEvent(Base):
    """Every transition of an invoice, with who and why. Append-only."""

    __tablename__ = "invoice_events"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("invoices.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str | None] = mapped_column(Text)

    # Declared so the unit of work inserts rows in foreign-key order.
    invoice: Mapped[Invoice] = relationship(lazy="raise")
