"""Reminders: a follow-up sent to an office about an item of the worklist, with who sent it and
when, and the office's acknowledgement."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.kit.db import Base, Timestamped, UtcDateTime, UuidPk
from hub.offices.models import Office


class Reminder(UuidPk, Timestamped, Base):
    """One ``reminder`` sent to an office about a worklist item (``topic`` and ``subject``: the
    mandate ref, case ref or invoice number it is about), to acknowledge (``reminder_ack``) by
    ``ack_due_by``; ``acknowledged_at`` is set once, by the first acknowledgement."""

    __tablename__ = "reminders"
    __table_args__ = (
        # One reminder of an item a day unless forced: a constraint decides between two staff at once.
        Index(
            "uq_reminders_item_day",
            "office_id",
            "topic",
            "subject",
            "sent_on",
            unique=True,
            postgresql_where=text("NOT forced"),
            sqlite_where=text("NOT forced"),
        ),
        # The last reminder of an item, for the worklist.
        Index("ix_reminders_item_sent_at", "office_id", "topic", "subject", "sent_at"),
    )

    message_id: Mapped[str] = mapped_column(String(64), unique=True)  # the reminder's envelope id
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("offices.id"))
    topic: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200))
    case_ref: Mapped[str | None] = mapped_column(String(64))
    mandate_ref: Mapped[str | None] = mapped_column(String(64))
    invoice_number: Mapped[str | None] = mapped_column(String(200))
    waiting_since: Mapped[date] = mapped_column(Date)
    explanation: Mapped[str] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    sent_by: Mapped[str] = mapped_column(String(254))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_on: Mapped[date] = mapped_column(Date)  # sent_at's day (UTC): the pacing of one a day
    ack_due_by: Mapped[datetime] = mapped_column(UtcDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ack_message_id: Mapped[str | None] = mapped_column(String(64))  # the office's reminder_ack
    ack_comment: Mapped[str | None] = mapped_column(Text)

    # Declared so the unit of work inserts rows in foreign-key order.
    office: Mapped[Office] = relationship(lazy="raise")
