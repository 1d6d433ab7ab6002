"""Creditors, debtors and cases ("dossiers") with their claim amounts and title."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from hub.kit.clock import utcnow
from hub.kit.db import Base, BigIntId, Cents, Currency, Timestamped, UtcDateTime, UuidPk


class DebtorKind(enum.StrEnum):
    PERSON = "person"
    COMPANY = "company"


class ClaimKind(enum.StrEnum):
    CONSUMER = "consumer"
    COMMERCIAL = "commercial"
    WAGE = "wage"
    MAINTENANCE = "maintenance"


class Creditor(UuidPk, Timestamped, Base):
    """The agency's client ("donneur d'ordre"): a bank, telecom, utility, landlord."""

    __tablename__ = "creditors"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    siren: Mapped[str | None] = mapped_column(String(9))
    # The creditor deducts the VAT it pays (most banks cannot): VAT on costs it bears is no cost then.
    reclaims_vat: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Debtor(UuidPk, Timestamped, Base):
    __tablename__ = "debtors"

    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    departement: Mapped[str | None] = mapped_column(String(3), index=True)


class Case(UuidPk, Timestamped, Base):
    __tablename__ = "cases"

    ref: Mapped[str] = mapped_column(String(64), unique=True)
    creditor_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("creditors.id"), index=True)
    debtor_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("debtors.id"), index=True)
    claim_kind: Mapped[str] = mapped_column(String(16))
    principal_cents: Mapped[int] = Cents()
    interest_cents: Mapped[int] = Cents(default=0)
    costs_cents: Mapped[int] = Cents(default=0)
    paid_cents: Mapped[int] = Cents(default=0)
    currency: Mapped[str] = Currency()
    # Enforceable title ("titre exécutoire"), when the case has one.
    title_kind: Mapped[str | None] = mapped_column(String(32))
    title_issued_on: Mapped[date | None] = mapped_column(Date)
    title_served_on: Mapped[date | None] = mapped_column(Date)
    # Start of the claim (first unpaid instalment), for limitation when there is no title.
    claim_started_on: Mapped[date | None] = mapped_column(Date)

    # Solvency evidence. Unknown is NULL, never zero: 0 means "known, and nothing there".
    bank_balance_cents: Mapped[int | None] = mapped_column(BigInteger)  # known balance of a known account
    monthly_net_income_cents: Mapped[int | None] = mapped_column(BigInteger)
    dependents: Mapped[int | None] = mapped_column(Integer)
    seizable_goods_value_cents: Mapped[int | None] = mapped_column(BigInteger)
    address_known: Mapped[bool | None] = mapped_column(Boolean)
    last_no_goods_report_on: Mapped[date | None] = mapped_column(Date)  # last "PV de carence"
    vulnerable: Mapped[bool | None] = mapped_column(Boolean)
    payment_plan_active: Mapped[bool | None] = mapped_column(Boolean)
    disputed: Mapped[bool | None] = mapped_column(Boolean)
    insolvency_proceedings: Mapped[bool | None] = mapped_column(Boolean)
    insolvency_kind: Mapped[str | None] = mapped_column(String(32))  # hub.recovery.facts.InsolvencyKind
    # Evidence has a date: a balance seen a year ago is weak evidence (NULL: date unknown).
    bank_balance_seen_on: Mapped[date | None] = mapped_column(Date)
    pending_debits_cents: Mapped[int | None] = mapped_column(BigInteger)
    income_seen_on: Mapped[date | None] = mapped_column(Date)
    goods_valued_on: Mapped[date | None] = mapped_column(Date)
    vehicle_value_cents: Mapped[int | None] = mapped_column(BigInteger)
    vehicle_valued_on: Mapped[date | None] = mapped_column(Date)
    # Recorded by case updates (``debtor_deceased``, ``limitation_reached``): both end the case's acts.
    debtor_deceased: Mapped[bool | None] = mapped_column(Boolean)
    limitation_reached_on: Mapped[date | None] = mapped_column(Date)
    # The day the case ended (balance paid off, debtor deceased, claim lapsed: ``updates.closes_case``);
    # the debtor's personal data is erased once the retention period after it has passed (hub.gdpr).
    closed_on: Mapped[date | None] = mapped_column(Date, index=True)

    # Read with the case in the same SELECT (a correlated subquery), so the rules know it without a
    # query more on the act report's path.
    creditor_reclaims_vat: Mapped[bool] = column_property(
        select(Creditor.reclaims_vat)
        .where(Creditor.id == creditor_id)
        .correlate_except(Creditor)
        .scalar_subquery()
    )

    creditor: Mapped[Creditor] = relationship()
    debtor: Mapped[Debtor] = relationship()

    @property
    def outstanding_cents(self) -> int:
        """Principal + interest + recoverable costs - payments received."""
        return self.principal_cents + self.interest_cents + self.costs_cents - self.paid_cents


class CaseUpdate(Base):
    """What the agency learned about a case after it was opened (a payment, an address, a dispute...),
    who recorded it and when, and the balance once it was applied. Append-only: a later update
    corrects an earlier one (``dispute_closed`` after ``dispute_opened``)."""

    __tablename__ = "case_updates"
    # A retry of the same update (the staff system's ``reference``) is refused, never applied twice.
    __table_args__ = (UniqueConstraint("case_id", "reference"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)  # the list's cursor
    update_id: Mapped[str] = mapped_column(String(64), unique=True)  # its public id, "UPD-..."
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("cases.id"), index=True)
    reference: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(32))  # schemas.v1.CaseUpdateKind
    effective_on: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int | None] = Cents(nullable=True)  # payment_received
    currency: Mapped[str] = Currency()
    received_on: Mapped[date | None] = mapped_column(Date)  # payment_received
    address: Mapped[dict[str, str | None] | None] = mapped_column(JSON)  # address_changed
    insolvency_kind: Mapped[str | None] = mapped_column(String(32))  # insolvency_declared, when known
    comment: Mapped[str | None] = mapped_column(Text)
    outstanding_cents: Mapped[int] = Cents()  # the balance once applied
    recorded_by: Mapped[str] = mapped_column(String(254))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    # Declared so the unit of work inserts rows in foreign-key order.
    case: Mapped[Case] = relationship(lazy="raise")
