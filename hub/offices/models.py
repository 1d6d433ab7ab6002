"""Bailiff offices ("études de commissaires de justice") and their API credentials."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.kit.clock import utcnow
from hub.kit.db import Base, BigIntId, Timestamped, UtcDateTime, UuidPk


class DeliveryChannel(enum.StrEnum):
    """How outbound messages reach the office."""

    AMQP = "amqp"  # the office consumes its own quorum queue office.<code>
    WEBHOOK = "webhook"  # signed HTTP push (Standard Webhooks)
    PULL = "pull"  # the office polls GET /v1/inbox


class Office(UuidPk, Timestamped, Base):
    __tablename__ = "offices"

    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Territory: the départements the office covers, e.g. ["75", "92", "93"].
    departements: Mapped[list[str]] = mapped_column(JSON, default=list)
    delivery_channel: Mapped[str] = mapped_column(String(16), default=DeliveryChannel.PULL.value)
    codec: Mapped[str] = mapped_column(String(32), default="canonical-xml-v1")
    siret: Mapped[str | None] = mapped_column(String(14))
    # Where the agency pays the office's fees (a SEPA credit transfer needs both).
    iban: Mapped[str | None] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    # Signing secrets, sealed with hub.kit.crypto.SecretBox; newest first. Two while rotating.
    webhook_secrets: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # Set when the endpoint answered 410 Gone: no more pushes until the office is set up again.
    webhook_disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    keys: Mapped[list[OfficeApiKey]] = relationship(back_populates="office")


class OfficeApiKey(UuidPk, Timestamped, Base):
    """An office credential. Only the SHA-256 of the key is stored; ``key_id`` is its public part."""

    __tablename__ = "office_api_keys"

    key_id: Mapped[str] = mapped_column(String(24), unique=True)
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("offices.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    office: Mapped[Office] = relationship(back_populates="keys")


class OfficeEvent(Base):
    """Every change staff made to an office's details, with who and when: each field changed with
    its value before and after (``{"iban": [old, new]}``). Append-only."""

    __tablename__ = "office_events"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("offices.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))
    changes: Mapped[dict[str, list[object]]] = mapped_column(JSON)

    # Declared so the unit of work inserts rows in foreign-key order.
    office: Mapped[Office] = relationship(lazy="raise")
