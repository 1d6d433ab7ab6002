"""Any v1 message: a union discriminated by ``envelope.kind``, and helpers to read one from JSON."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Discriminator, Tag, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from schemas.v1.act_report import ActReport
from schemas.v1.approvals import CostDecision, CostRequest, HoldLift, HoldNotice, HoldNoticeAck
from schemas.v1.case_updates import CaseUpdate, CaseUpdateAck
from schemas.v1.envelope import KINDS, MessageModel
from schemas.v1.errors import MAX_ERRORS, ErrorItem, error_code, error_location, json_pointer
from schemas.v1.invoice import FeeInvoice, InvoiceDispute
from schemas.v1.kinds import MESSAGE_TYPES
from schemas.v1.mandate import Mandate, MandateAck, MandateCancel
from schemas.v1.receipts import ErrorReport, Receipt
from schemas.v1.reminders import Reminder, ReminderAck
from schemas.v1.remittance import Remittance
from schemas.v1.xml_form import without_choice_tags


def _kind_of(value: Any) -> str | None:
    envelope = value.get("envelope") if isinstance(value, dict) else getattr(value, "envelope", None)
    kind = envelope.get("kind") if isinstance(envelope, dict) else getattr(envelope, "kind", None)
    return kind if isinstance(kind, str) else None


Message = Annotated[
    Annotated[Mandate, Tag("mandate")]
    | Annotated[MandateAck, Tag("mandate_ack")]
    | Annotated[ActReport, Tag("act_report")]
    | Annotated[FeeInvoice, Tag("fee_invoice")]
    | Annotated[Receipt, Tag("receipt")]
    | Annotated[ErrorReport, Tag("error_report")]
    | Annotated[HoldNotice, Tag("hold_notice")]
    | Annotated[CostRequest, Tag("cost_request")]
    | Annotated[CostDecision, Tag("cost_decision")]
    | Annotated[HoldNoticeAck, Tag("hold_notice_ack")]
    | Annotated[MandateCancel, Tag("mandate_cancel")]
    | Annotated[InvoiceDispute, Tag("invoice_dispute")]
    | Annotated[CaseUpdate, Tag("case_update")]
    | Annotated[CaseUpdateAck, Tag("case_update_ack")]
    | Annotated[Remittance, Tag("remittance")]
    | Annotated[HoldLift, Tag("hold_lift")]
    | Annotated[Reminder, Tag("reminder")]
    | Annotated[ReminderAck, Tag("reminder_ack")],
    Discriminator(
        _kind_of,
        custom_error_type="envelope.kind_unknown",
        custom_error_message="envelope.kind must be one of: " + ", ".join(KINDS),
    ),
]
"""Any message of version 1; ``envelope.kind`` says which."""

MESSAGE_ADAPTER: TypeAdapter[Message] = TypeAdapter(Message)


def parse_json(data: bytes | str) -> Message:
    """Validate a JSON message of any kind; raises ``pydantic.ValidationError`` (see ``message_errors``).

    A key given twice in one object is refused (``json.duplicate_key``): JSON parsers disagree on
    which value counts (the last, here), so the message read could differ from the bytes kept as
    evidence and from what the sender's own tools show."""
    if duplicates := duplicate_keys(data):
        raise ValidationError.from_exception_data(
            "Message",
            [
                {
                    "type": PydanticCustomError(
                        "json.duplicate_key",
                        "the key {key} is given more than once in this object; give each key once",
                        {"key": json.dumps(loc[-1], ensure_ascii=False)},
                    ),
                    "loc": loc,
                    "input": None,
                }
                for loc in duplicates[:MAX_ERRORS]
            ],
        )
    return MESSAGE_ADAPTER.validate_json(data)


class _Object(dict[str, Any]):
    """A JSON object as read, with the keys it had more than once."""

    duplicates: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    read = _Object(pairs)
    if len(read) != len(pairs):
        seen: set[str] = set()
        twice: dict[str, None] = {}
        for key, _ in pairs:
            if key in seen:
                twice[key] = None
            seen.add(key)
        read.duplicates = tuple(twice)
    return read


def duplicate_keys(data: bytes | str) -> list[tuple[str | int, ...]]:
    """Where a JSON document gives a key twice in one object: the location of each such key (an
    object's keys, an array's indexes); [] for a document without any, or that is not JSON at all
    (the validator says why)."""
    try:
        document = json.loads(data, object_pairs_hook=_object)
    except (ValueError, RecursionError):
        return []
    found: list[tuple[str | int, ...]] = []
    pending: list[tuple[Any, tuple[str | int, ...]]] = [(document, ())]
    while pending and len(found) < MAX_ERRORS:
        node, loc = pending.pop()
        if isinstance(node, _Object):
            found.extend((*loc, key) for key in node.duplicates)
            pending.extend(((value, (*loc, key)) for key, value in reversed(node.items())))
        elif isinstance(node, list):
            pending.extend(((value, (*loc, i)) for i, value in reversed(list(enumerate(node)))))
    return found


def message_errors(exc: ValidationError, kind: str | None = None) -> list[ErrorItem]:
    """The errors of ``parse_json`` (or of one kind's ``model_validate_json``, then give ``kind``) as
    ErrorItems whose paths are JSON Pointers into the message as sent."""
    items = []
    for err in exc.errors(include_url=False)[:MAX_ERRORS]:
        loc = list(err["loc"])
        err_kind = kind
        if kind is None and loc and loc[0] in MESSAGE_TYPES:
            err_kind = str(loc.pop(0))
        if err_kind in MESSAGE_TYPES:
            loc = without_choice_tags(MESSAGE_TYPES[err_kind].__name__, loc)
        path = json_pointer(error_location(loc, err.get("ctx")))
        items.append(
            ErrorItem(path=path, code=error_code(err["type"]), message=err["msg"][:500] or "invalid")
        )
    return items


def dump_json(message: MessageModel) -> bytes:
    """The JSON form of a message (UTF-8, fields in contract order, absent optionals omitted)."""
    return message.model_dump_json(exclude_none=True).encode()
