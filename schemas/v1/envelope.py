"""The envelope every message carries first: who sends what to whom, when, under which id."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self, get_args

from pydantic import ConfigDict, model_validator

from schemas.v1.common import MessageId, PartyCode, Timestamp, WireModel, rule_error

MessageKind = Literal[
    "mandate",
    "mandate_ack",
    "act_report",
    "fee_invoice",
    "receipt",
    "error_report",
    "hold_notice",
    "cost_request",
    "cost_decision",
    "hold_notice_ack",
    "mandate_cancel",
    "invoice_dispute",
    "case_update",
    "case_update_ack",
    "remittance",
    "hold_lift",
    "reminder",
    "reminder_ack",
]
"""Every kind of message of version 1."""

KINDS: tuple[MessageKind, ...] = get_args(MessageKind)

AGENCY = "AGENCY"
"""The party code of the agency, and of the hub acting for it."""


class Envelope(WireModel):
    """Routing and identity of a message: the same for every kind, in JSON and in XML."""

    message_id: MessageId
    """Chosen by the sender, unique among its messages; a message sent twice with the same id is
    recognised as a duplicate and answered with the first receipt."""
    kind: MessageKind
    """What the body is; in XML it must agree with the root element."""
    version: Literal["1"]
    """Version of the wire contract: ``"1"``."""
    sender: PartyCode
    """``AGENCY`` or the office code; must match the sender's credential."""
    recipient: PartyCode
    """``AGENCY`` or the office code."""
    sent_at: Timestamp
    """When the sender built the message, with its UTC offset."""
    correlation_id: MessageId | None = None
    """The ``message_id`` this message answers, when it answers one (e.g. a cost decision answers
    a cost request)."""


def _pin_envelope_kind(schema: dict[str, Any], cls: type[Any]) -> None:
    # The JSON Schema of one message kind accepts only its own kind in the envelope.
    kind = getattr(cls, "KIND", None)
    if kind is not None:
        envelope = schema["properties"]["envelope"]
        schema["properties"]["envelope"] = {
            "allOf": [envelope, {"properties": {"kind": {"const": kind}}, "required": ["kind"]}]
        }


class MessageModel(WireModel):
    """Base of every message: the envelope first, then the body of its kind."""

    model_config = ConfigDict(json_schema_extra=_pin_envelope_kind)

    KIND: ClassVar[MessageKind]

    envelope: Envelope

    @model_validator(mode="after")
    def _kind_matches(self) -> Self:
        if self.envelope.kind != self.KIND:
            raise rule_error(
                "envelope.kind_mismatch",
                "the envelope says kind {found} but the message is a {expected}; make them agree",
                at="envelope.kind",
                found=self.envelope.kind,
                expected=self.KIND,
            )
        return self
