"""Mandates: per act ("mandat à l'acte") or for the whole file ("mandat au dossier"), their state
machine log, and the agency's approvals of acts beyond a mandate or flagged."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.cases.models import Case, CaseUpdate
from hub.kit.clock import utcnow
from hub.kit.db import Base, BigIntId, Cents, Currency, Timestamped, UtcDateTime, UuidPk
from hub.offices.models import Office


class MandateKind(enum.StrEnum):
    PER_ACT = "per_act"
    WHOLE_FILE = "whole_file"


class MandateStatus(enum.StrEnum):
    DRAFT = "draft"
    HELD = "held"  # waiting for a person's approval (flagged act or a guardrail)
    ISSUED = "issued"  # on its way to the office, through the outbox
    ACKNOWLEDGED = "acknowledged"  # accepted by the office
    REFUSED = "refused"  # refused by the office, with its reason
    IN_PROGRESS = "in_progress"  # at least one act reported
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


# At the office and not finished: the mandates that can go quiet, those of
# ``ix_mandates_working_quiet_since`` (its predicate, ``AT_THE_OFFICE``, written from them).
WORKING = (MandateStatus.ACKNOWLEDGED, MandateStatus.IN_PROGRESS)
AT_THE_OFFICE = f"status IN ({', '.join(repr(s.value) for s in WORKING)})"


class Mandate(UuidPk, Timestamped, Base):
    __tablename__ = "mandates"
    # An office's mandates issued over a period (the scorecard): a range scan.
    __table_args__ = (
        Index("ix_mandates_office_issued", "office_id", "issued_at"),
        # A status's mandates by ref (the held ones waiting for a person, a list by status): a walk
        # from the page's cursor. Also serves every query on the status alone.
        Index("ix_mandates_status_ref", "status", "ref"),
        # An office's mandates by ref (GET /v1/mandates with an office key): a walk, not a scan.
        Index("ix_mandates_office_ref", "office_id", "ref"),
        # The worklist's pages of mandates not acknowledged and of held ones, by the day they started
        # waiting: a walk of those alone.
        Index(
            "ix_mandates_issued_issued_at",
            "issued_at",
            postgresql_where=text("status = 'issued'"),
            sqlite_where=text("status = 'issued'"),
        ),
        Index(
            "ix_mandates_held_created_at",
            "created_at",
            postgresql_where=text("status = 'held'"),
            sqlite_where=text("status = 'held'"),
        ),
        # The worklist's stale mandates, by the day each went quiet (its last act's, else the UTC day
        # it was issued): a walk of those at the office alone. PostgreSQL's expression; SQLite's
        # (``date(issued_at)``, UTC text) is its migration's, 20261205_0034.
        Index(
            "ix_mandates_working_quiet_since",
            text("coalesce(last_act_on, (issued_at AT TIME ZONE 'UTC')::date)"),
            postgresql_where=text(AT_THE_OFFICE),
            sqlite_where=text(AT_THE_OFFICE),
        ),
    )

    ref: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("cases.id"), index=True)
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("offices.id"))
    kind: Mapped[str] = mapped_column(String(16))
    acts: Mapped[list[str]] = mapped_column(JSON, default=list)  # per act: the act codes ordered
    fee_budget_cents: Mapped[int | None] = Cents(nullable=True)  # whole file: the fee budget
    currency: Mapped[str] = Currency()
    status: Mapped[str] = mapped_column(String(16), default=MandateStatus.DRAFT.value)
    approval_id: Mapped[str | None] = mapped_column(String(64))
    instructions: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    # The assessment (cost flag, guardrails) at issue time, with its explanation, as shown to staff.
    assessment: Mapped[dict[str, object] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(254))
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Issued or acknowledged with no act reported by then: expired by the sweep.
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    # The date of the last act reported on it (None: none yet), kept by the database on every insert
    # into ``act_reports`` (the trigger ``act_reports_last_act``, 20261205_0034): never written here.
    last_act_on: Mapped[date | None] = mapped_column(Date)

    # Declared so the unit of work inserts rows in foreign-key order.
    case: Mapped[Case] = relationship(lazy="raise")
    office: Mapped[Office] = relationship(lazy="raise")


class MandateEvent(Base):
    """Every transition of a mandate, with who and why. Append-only."""

    __tablename__ = "mandate_events"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    mandate_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("mandates.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str | None] = mapped_column(Text)

    # Declared so the unit of work inserts rows in foreign-key order.
    mandate: Mapped[Mandate] = relationship(lazy="raise")


class Approval(UuidPk, Timestamped, Base):
    """The agency's decision on an act that needed one (flagged, held, beyond mandate or budget),
    requested by staff or by an office's cost request. ``approval_id`` travels with the act."""

    __tablename__ = "approvals"
    __table_args__ = (
        # The cost requests waiting for staff (GET /v1/approvals), by approval id: those alone.
        Index(
            "ix_approvals_pending_id",
            "approval_id",
            postgresql_where=text("decision IS NULL AND request_message_id IS NOT NULL"),
            sqlite_where=text("decision IS NULL AND request_message_id IS NOT NULL"),
        ),
        # The same by the day they were asked (the worklist's pages).
        Index(
            "ix_approvals_pending_created_at",
            "created_at",
            postgresql_where=text("decision IS NULL AND request_message_id IS NOT NULL"),
            sqlite_where=text("decision IS NULL AND request_message_id IS NOT NULL"),
        ),
    )

    approval_id: Mapped[str] = mapped_column(String(64), unique=True)
    mandate_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("mandates.id"), index=True)
    act_code: Mapped[str] = mapped_column(String(40))
    amount_cents: Mapped[int | None] = Cents(nullable=True)  # the cost approved, when one was asked
    requested_by: Mapped[str] = mapped_column(String(254))  # an office code or a staff email
    request_message_id: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[str | None] = mapped_column(String(16))  # approved | refused; NULL = pending
    decided_by: Mapped[str | None] = mapped_column(String(254))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # An office's cost request: why it asks, what it expects the act to bring back, and the hub's own
    # assessment of the act then (cost, expected recovery, the creditor's net, the reasons), as staff
    # read them to decide. NULL on staff approvals and on requests recorded before they were kept.
    justification: Mapped[str | None] = mapped_column(Text)
    expected_recovery_cents: Mapped[int | None] = mapped_column(BigInteger)
    assessment: Mapped[dict[str, object] | None] = mapped_column(JSON)

    # Declared so the unit of work inserts rows in foreign-key order.
    mandate: Mapped[Mandate] = relationship(lazy="raise")


class Hold(UuidPk, Timestamped, Base):
    """A hold raised on a case for a debtor's situation (vulnerable, payment plan, dispute,
    insolvency, limitation) after mandates were issued on it: the offices working on the case are
    sent one ``hold_notice`` each, and a ``hold_lift`` once staff lift it. Active while
    ``lifted_at`` is NULL."""

    __tablename__ = "holds"

    hold_id: Mapped[str] = mapped_column(String(64), unique=True)  # HLD-..., on the wire
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("cases.id"), index=True)
    situation: Mapped[str] = mapped_column(String(32))  # vulnerable, payment_plan_active...
    comment: Mapped[str] = mapped_column(Text)
    raised_by: Mapped[str] = mapped_column(String(254))  # a staff email, or "case_update:<id>"
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime())
    lifted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lifted_by: Mapped[str | None] = mapped_column(String(254))
    lift_comment: Mapped[str | None] = mapped_column(Text)

    # Declared so the unit of work inserts rows in foreign-key order.
    case: Mapped[Case] = relationship(lazy="raise")


class HoldNotice(UuidPk, Timestamped, Base):
    """A hold notice sent to an office working on a held case, one per office and hold, listing its
    mandates on the case with their acts (``mandates``); the office must acknowledge it
    (``hold_notice_ack``) by ``ack_due_by``; ``acknowledged_at`` is set once, by the first
    acknowledgement. ``lift_message_id``: the ``hold_lift`` that told the office the hold ended.
    Notices sent before holds were records (one per act) have no hold, one mandate and one act."""

    __tablename__ = "hold_notices"
    __table_args__ = (
        # The notices not acknowledged, by deadline (the overdue ones: the worklist, the staff's list):
        # those alone, not every notice acknowledged since the first hold.
        Index(
            "ix_hold_notices_unacknowledged_ack_due_by",
            "ack_due_by",
            postgresql_where=text("acknowledged_at IS NULL"),
            sqlite_where=text("acknowledged_at IS NULL"),
        ),
    )

    message_id: Mapped[str] = mapped_column(String(64), unique=True)  # the notice's envelope id
    hold_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), ForeignKey("holds.id"), index=True)
    # [{"mandate_ref": ..., "act_codes": [...]}]; NULL on the notices of before (one per act)
    mandates: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)
    mandate_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), ForeignKey("mandates.id"), index=True)
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("offices.id"), index=True)
    act_code: Mapped[str | None] = mapped_column(String(40))
    situation: Mapped[str] = mapped_column(String(32))  # payment_plan_active, disputed...
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ack_due_by: Mapped[datetime] = mapped_column(UtcDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ack_message_id: Mapped[str | None] = mapped_column(String(64))  # the office's hold_notice_ack
    lift_message_id: Mapped[str | None] = mapped_column(String(64))  # the hold_lift sent to it

    # Declared so the unit of work inserts rows in foreign-key order.
    hold: Mapped[Hold | None] = relationship(lazy="raise")
    mandate: Mapped[Mandate | None] = relationship(lazy="raise")
    office: Mapped[Office] = relationship(lazy="raise")

    @property
    def mandate_refs(self) -> list[str]:
        return [str(m["mandate_ref"]) for m in self.mandates or []]


class CaseUpdateNotice(UuidPk, Timestamped, Base):
    """A case update sent to an office holding a live mandate on the case, one per office, which the
    office must acknowledge (``case_update_ack``) by ``ack_due_by``; ``acknowledged_at`` is set once,
    by the first acknowledgement."""

    __tablename__ = "case_update_notices"

    message_id: Mapped[str] = mapped_column(String(64), unique=True)  # the case_update's envelope id
    update_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("case_updates.id"), index=True)
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("offices.id"), index=True)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ack_due_by: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ack_message_id: Mapped[str | None] = mapped_column(String(64))  # the office's case_update_ack

    # Declared so the unit of work inserts rows in foreign-key order.
    update: Mapped[CaseUpdate] = relationship(lazy="raise")
    office: Mapped[Office] = relationship(lazy="raise")
