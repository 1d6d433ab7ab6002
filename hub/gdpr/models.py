"""The record of what was done with debtors' personal data: every export and erasure, by whom and
when. It names the case by its reference and holds no personal data itself."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.kit.clock import utcnow
from hub.kit.db import Base, BigIntId, UtcDateTime


class GdprAction(enum.StrEnum):
    EXPORTED = "exported"  # everything the hub holds on the debtor, handed to staff
    ERASED = "erased"  # by a staff member (a debtor's request)
    SWEPT = "swept"  # erased by the retention sweep


class GdprEvent(Base):
    """One export or erasure of a case's personal data. Append-only."""

    __tablename__ = "gdpr_events"
    __table_args__ = (Index("ix_gdpr_events_case_ref", "case_ref"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(16))
    case_ref: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(254))  # a staff email, or "sweep"
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # Counts only (messages sealed, rows blanked...): never a name, an address or a body.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
