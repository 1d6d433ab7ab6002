"""Bailiff offices ("études de commissaires de justice") and their API credentials."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.kit.db import Base, Timestamped, UtcDateTime, UuidPk


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
