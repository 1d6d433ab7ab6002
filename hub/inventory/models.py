"""The last inventory reconciliation of each office: what it listed and the differences the hub
answered. One row per office, replaced by the next inventory it posts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.kit.db import Base, UtcDateTime
from hub.offices.models import Office


class InventoryResult(Base):
    __tablename__ = "inventory_results"

    office_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("offices.id"), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    listed: Mapped[int] = mapped_column(Integer)  # lines the office listed
    differences: Mapped[int] = mapped_column(Integer)
    # The answer as sent (summary and every difference) and the office's list as received.
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    inventory: Mapped[list[dict[str, Any]]] = mapped_column(JSON)

    # Declared so the unit of work inserts rows in foreign-key order.
    office: Mapped[Office] = relationship(lazy="raise")
