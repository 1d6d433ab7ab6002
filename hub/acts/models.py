"""Act reports ("comptes-rendus d'actes"): what an office did under a mandate, its outcome, the
money it collected and the fees it claims."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.cases.models import Case
from hub.kit.db import Base, Cents, Currency, Timestamped, UuidPk
from hub.mandates.models import Mandate
from hub.messaging.models import StoredMessage
from hub.offices.models import Office


class ActReport(UuidPk, Timestamped, Base):
    __tablename__ = "act_reports"
    __table_args__ = (
        UniqueConstraint("office_id", "office_reference", name="uq_act_reports_office_reference"),
        # The latest acts of a case, what each cost check reads: an index walk, not a sort.
        Index("ix_act_reports_case_latest", "case_id", "act_date", "created_at"),
        # An office's acts over a period (the monthly scorecard and reconciliation): a range scan.
        Index("ix_act_reports_office_date", "office_id", "act_date"),
        # Every office's acts since a day (the worklist's pace, over its window): those alone.
        Index("ix_act_reports_act_date", "act_date"),
        # The flagged ones, listed for staff (GET /v1/act-reports/flagged): a walk of those alone.
        Index(
            "ix_act_reports_flagged_id",
            "id",
            postgresql_where=text("flagged"),
            sqlite_where=text("flagged"),
        ),
    )

    mandate_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("mandates.id"), index=True)
    # No index of their own: ix_act_reports_case_latest and ix_act_reports_office_date lead with them.
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("cases.id"))
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("offices.id"))
    message_pk: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("messages.id"))
    act_code: Mapped[str] = mapped_column(String(40))
    act_date: Mapped[date] = mapped_column(Date)
    outcome_code: Mapped[str] = mapped_column(String(40))
    office_reference: Mapped[str] = mapped_column(String(64))  # the office's act number
    approval_id: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = Currency()
    seized_cents: Mapped[int] = Cents(default=0)
    collected_cents: Mapped[int] = Cents(default=0)
    emoluments_cents: Mapped[int] = Cents(default=0)
    disbursements_cents: Mapped[int] = Cents(default=0)
    vat_cents: Mapped[int] = Cents(default=0)
    # After the fact: was the creditor's expected net negative at the time, was it approved.
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    assessment: Mapped[dict[str, object] | None] = mapped_column(JSON)
    # The hold this act broke: the office had acknowledged it, the act is coercive, and it was dated
    # before the hold was lifted (flagged ``hold_breached``, listed for staff). ``holds.id``, with no
    # foreign key: the column is added and dropped in place on SQLite (the table has triggers).
    breached_hold_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), index=True)

    # Declared so the unit of work inserts rows in foreign-key order.
    mandate: Mapped[Mandate] = relationship(lazy="raise")
    case: Mapped[Case] = relationship(lazy="raise")
    office: Mapped[Office] = relationship(lazy="raise")
    message: Mapped[StoredMessage] = relationship(lazy="raise")


@dataclass(frozen=True, slots=True)
class RecordedAct:
    """An act report just recorded, as what follows in its unit of work reads it (its postings, the
    next reports of its set, its mandate's completion): its row is written from the row buffer,
    with no ORM object."""

    id: uuid.UUID
    mandate_id: uuid.UUID
    case_id: uuid.UUID
    office_id: uuid.UUID
    act_code: str
    act_date: date
    outcome_code: str
    office_reference: str
    currency: str
    seized_cents: int
    collected_cents: int
    emoluments_cents: int
    disbursements_cents: int
    vat_cents: int
    flagged: bool


# Spread of each tally over this many rows, summed on read: concurrent reports of one act by one
# office update different rows instead of queueing on one until commit (PostgreSQL picks a slot at
# random; SQLite, one writer at a time, always slot 0).
TALLY_SLOTS = 16


class ActReportTally(Base):
    """How many act reports there are per act, office, outcome and whether money came, and the share
    of the balance they brought back (summed in basis points): what the expected recovery of an
    act is learned from (``hub.recovery.recovery_rates``). Kept by a trigger on ``act_reports`` in
    the transaction that inserts them (migrations 20261204_0014 and 0017): reading them costs the
    same at 60 reports and at 60 million."""

    __tablename__ = "act_report_tallies"

    act_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("offices.id"), primary_key=True)
    outcome_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    brought_money: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    reports: Mapped[int] = mapped_column(BigInteger)
    recovered_bp: Mapped[int] = mapped_column(BigInteger, server_default="0")
    """Sum over the reports of (money seized + collected) / (the case's balance at the time), each
    capped at 10000 basis points (the whole balance)."""


class MandateActTally(Base):
    """How many act reports each mandate has per act code (when a per-act mandate is done), kept by
    the same trigger. No slots: the reports of one mandate are recorded one after the other anyway
    (its row is locked)."""

    __tablename__ = "mandate_act_tallies"

    mandate_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("mandates.id"), primary_key=True)
    act_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    reports: Mapped[int] = mapped_column(BigInteger)
