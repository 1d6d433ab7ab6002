"""The console's server-side sessions and one-time sign-in links. Only hashes of the secrets are
stored: a copy of the database opens no session."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.kit.db import Base, Timestamped, UtcDateTime, UuidPk
from hub.staff.models import StaffUser


class ConsoleSession(UuidPk, Timestamped, Base):
    """A signed-in browser. The cookie carries the secret; the row its SHA-256, the CSRF token its
    forms must carry, and when it was last used (idle expiry). Signing out deletes the row."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_user_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("staff_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # What the last action did, shown once on the next page (then cleared).
    flash: Mapped[str | None] = mapped_column(Text)

    staff_user: Mapped[StaffUser] = relationship(lazy="raise")


class SignInLink(UuidPk, Timestamped, Base):
    """A one-time sign-in link printed by ``hub staff add``: used once, before ``expires_at``."""

    __tablename__ = "console_sign_in_links"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_user_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("staff_users.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    staff_user: Mapped[StaffUser] = relationship(lazy="raise")
