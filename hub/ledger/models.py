"""The fee ledger: double-entry and append-only. A transaction's entries sum to zero per currency;
a correction is a reversing transaction. Balances are sums of entries, never a column the hub writes;
the money offices hold (``MoneyHeld``, ``MoneyCollectedDay``) is kept by the database itself, from the
entries as they are inserted."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, SmallInteger, String, Uuid, text
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


# The money offices hold: kept by a trigger on ``ledger_entries`` in the transaction that inserts
# them (migration 20261205_0035), whatever path writes them (the ORM, an act report's one statement,
# a batch chunk's COPY), so the money held and its ageing (``hub.remittances.repository
# .oldest_unremitted``) read the cases that hold money, never the whole ledger. No code writes them.
# The rows of a case are upserted by increments (never read, then written), in key order: two
# transactions posting on one case lose nothing and never deadlock on them.


class MoneyHeld(Base):
    """An office's ``collected_by_office`` balance on a case in a currency: collected there, net of
    reversals, and not remitted. A case remitted in full stays, at 0 (out of the partial index)."""

    __tablename__ = "money_held"
    __table_args__ = (
        # The cases on which an office holds money: a few, however long the history.
        Index(
            "ix_money_held_holding",
            "office_id",
            "case_id",
            "currency",
            postgresql_where=text("cents > 0"),
            sqlite_where=text("cents > 0"),
        ),
    )

    # No foreign keys: the trigger copies them from entries whose own were checked.
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    cents: Mapped[int] = mapped_column(BigInteger)


class MoneyCollectedDay(Base):
    """What an office collected on a case in a currency on one day: the ``collected_by_office``
    entries of ``collection`` transactions effective that day, and of their reversals (counted on the
    day of the collection they reverse, so a collection reversed later nets out on its own day)."""

    __tablename__ = "money_collected_days"

    # No foreign keys: the trigger copies them from entries whose own were checked.
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    collected_on: Mapped[date] = mapped_column(Date, primary_key=True)
    cents: Mapped[int] = mapped_column(BigInteger)


class LedgerOfficeMonth(Base):
    """The sum of an office's entries on one account in one currency whose transactions are effective
    in one month (``month``: its first day), kept by a trigger as entries are inserted (migration
    20261206_0038). An office's balances before a month are the sum of its months before it: a read
    of months x accounts rows, whatever the length of its history (its statement's opening balances).

    PostgreSQL spreads a month's sum over ``slot`` rows (0-15, one per transaction, picked from its
    id), so that concurrent postings of one office rarely wait on one row until the other commits;
    SQLite (one writer) keeps slot 0."""

    __tablename__ = "ledger_office_months"

    # No foreign keys: the trigger copies them from entries whose own were checked.
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    account: Mapped[str] = mapped_column(String(40), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    cents: Mapped[int] = mapped_column(BigInteger)
