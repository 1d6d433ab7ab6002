"""Remittances ("reversements"): bank transfers by which an office hands over to the agency money it
collected from debtors, each line posted to the fee ledger (``remittance`` transactions). A row here
is what the office sent, accepted whole; the money itself lives in the ledger."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.cases.models import Case
from hub.kit.clock import utcnow
from hub.kit.db import Base, BigIntId, Cents, Currency, UtcDateTime, UuidPk
from hub.ledger.models import LedgerTransaction
from hub.messaging.models import StoredMessage
from hub.offices.models import Office


class Remittance(UuidPk, Base):
    __tablename__ = "remittances"
    # One transfer is remitted once: a second remittance quoting the same bank reference is refused,
    # and of two sent at once only one commits.
    __table_args__ = (
        UniqueConstraint("office_id", "bank_reference", name="uq_remittances_office_bank_reference"),
    )

    office_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("offices.id"), index=True)
    message_pk: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("messages.id"))
    message_id: Mapped[str] = mapped_column(String(64))  # the envelope's, as the office chose it
    bank_reference: Mapped[str] = mapped_column(String(35))
    value_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = Currency()
    total_cents: Mapped[int] = Cents()
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    # Declared so the unit of work inserts rows in foreign-key order.
    office: Mapped[Office] = relationship(lazy="raise")
    message: Mapped[StoredMessage] = relationship(lazy="raise")


class RemittanceLine(Base):
    __tablename__ = "remittance_lines"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    remittance_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("remittances.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 0-based, as /lines/<position> in the message
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("cases.id"), index=True)
    amount_cents: Mapped[int] = Cents()
    # The ledger transaction that posted the line (remitted_to_agency / collected_by_office).
    transaction_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("ledger_transactions.id"))

    remittance: Mapped[Remittance] = relationship(lazy="raise")
    case: Mapped[Case] = relationship(lazy="raise")
    transaction: Mapped[LedgerTransaction] = relationship(lazy="raise")
