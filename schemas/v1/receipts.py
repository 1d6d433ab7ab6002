"""Receipt (signed acknowledgement of what was received) and error report (negative acknowledgement)."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from schemas.v1.common import MessageId, Sha256Hex, Timestamp, rule_error
from schemas.v1.envelope import MessageModel
from schemas.v1.errors import MAX_ERRORS, ErrorItem

Base64Signature = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{4,684}={0,2}$")]


class Receipt(MessageModel):
    """Hub -> sender: the message ``message_id`` was received (bytes hashed), accepted or refused.

    ``signature`` is an Ed25519 signature (base64) by the hub's key (``GET /v1/receipts/public-key``)
    over the canonical JSON (sorted keys, no spaces, UTF-8) of ``{"message_id", "sender" (the original
    sender: this receipt's recipient), "sha256", "received_at", "accepted", "errors"}``.
    """

    KIND = "receipt"

    message_id: MessageId
    """The ``message_id`` of the message received."""
    sha256: Sha256Hex
    """SHA-256 of the exact bytes received (HTTP body or AMQP payload)."""
    received_at: Timestamp
    accepted: bool
    errors: list[ErrorItem] = Field(default_factory=list, max_length=MAX_ERRORS)
    """Every error found (at most 100) when refused; empty when accepted."""
    signature: Base64Signature
    signature_alg: Literal["Ed25519"]

    @model_validator(mode="after")
    def _errors_match_verdict(self) -> Self:
        if self.accepted and self.errors:
            raise rule_error("receipt.errors_on_accepted", "an accepted message has no errors", at="errors")
        if not self.accepted and not self.errors:
            raise rule_error("receipt.errors_required", "a refusal lists its errors", at="errors")
        return self


class ErrorReport(MessageModel):
    """Negative acknowledgement: the message ``message_id`` is refused, for every reason listed."""

    KIND = "error_report"

    message_id: MessageId
    """The ``message_id`` of the refused message (``unknown`` when it could not be read)."""
    sha256: Sha256Hex | None = None
    """SHA-256 of the bytes refused, when known."""
    errors: list[ErrorItem] = Field(min_length=1, max_length=MAX_ERRORS)
