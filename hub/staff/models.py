"""Agency staff accounts and their API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from hub.kit.db import Base, Timestamped, UtcDateTime, UuidPk


class Role(enum.StrEnum):
    STAFF = "staff"  # case handlers: cases, mandates, held acts
    FINANCE = "finance"  # invoices, reconciliation, reports
    ADMIN = "admin"  # everything, including operators' routes (replay, resend, dead letters)


class StaffUser(UuidPk, Timestamped, Base):
    __tablename__ = "staff_users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_id: Mapped[str] = mapped_column(String(24), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The console's sign-in (hub/console): an argon2id hash; NULL = no password, a sign-in link only.
    password_hash: Mapped[str | None] = mapped_column(String(256))
