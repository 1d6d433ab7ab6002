"""The fee ledger: double-entry and append-only. A transaction's entries sum to zero per currency;
a correction is a reversing transaction. Balances are sums of entries, never a stored column."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.cases.models import Case
from hub.kit.clock import utcnow
from hub.kit.db import Base, BigIntId, Cents, Currency, UtcDateTime, UuidPk
from hub.offices.models import Office


class LedgerTransaction(UuidPk, Base):
    __tablename__ = "ledger_transactions"
    # An office's transactions over a period (statements, scorecards): a range scan.
    __table_args__ = (
        Index("ix_ledger_transactions_office_date", "office_id", "effective_on"),
        # Every office's transactions over a period: the accounting journal (hub finance journal).
        Index("ix_ledger_transactions_effective_on", "effective_on"),
    )

    kind: Mapped[str] = mapped_column(String(32))  # hub.ledger.postings.KINDS; a reversal keeps it
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), ForeignKey("cases.id"), index=True)
    office_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), ForeignKey("offices.id"))
    effective_on: Mapped[date] = mapped_column(Date)
    # What caused it, e.g. "act_report:<id>"; a reversal keeps the source of what it cancels.
    source: Mapped[str] = mapped_column(String(100))
    # The transaction this one cancels. Unique: two concurrent reversals of one transaction cannot
    # both commit (the second fails on the index, not on a check that both passed).
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid(), ForeignKey("ledger_transactions.id"), unique=True, index=True
    )
    reason: Mapped[str | None] = mapped_column(String(500))  # why a reversal or a write-off was made
    # The staff member (email) who posted it by hand or reversed it; None for the hub's own postings.
    recorded_by: Mapped[str | None] = mapped_column(String(254))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    # Declared so the unit of work inserts rows in foreign-key order.
    case: Mapped[Case | None] = relationship(lazy="raise")
    office: Mapped[Office | None] = relationship(lazy="raise")


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_entries_account", "account", "case_id", "office_id"),
        # A case's balances (sums per account and currency) read from the index alone on PostgreSQL:
        # no heap visit per entry once the append-only table is vacuumed (docs/scale.md).
        Index("ix_ledger_entries_case_balance", "case_id", "account", "currency", "amount_cents"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    transaction_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("ledger_transactions.id"), index=True
    )
    account: Mapped[str] = mapped_column(String(40))  # fees_emoluments, fees_vat, collected_by_office...
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), ForeignKey("cases.id"))
    office_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), ForeignKey("offices.id"), index=True)
    amount_cents: Mapped[int] = Cents()  # signed: debit positive, credit negative
    currency: Mapped[str] = Currency()

    # Declared so the unit of work inserts rows in foreign-key order.
    transaction: Mapped[LedgerTransaction] = relationship(lazy="raise")
