"""Stored answers to POSTs sent with an ``Idempotency-Key`` (per office, kept 24 h): the same key
and body get the first response again, byte for byte."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, PrimaryKeyConstraint, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hub.kit.db import Base, Timestamped, UtcDateTime


class IdempotencyRecord(Timestamped, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (PrimaryKeyConstraint("office_id", "key", name="pk_idempotency_keys"),)

    office_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("offices.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path and body
    state: Mapped[str] = mapped_column(String(12))  # in_progress | done
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
