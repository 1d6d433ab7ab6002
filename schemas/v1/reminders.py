"""Reminders: the agency follows up with an office on something of its own that is waiting.

- Reminder (agency -> office): what the agency is waiting for from the office (an act on a mandate
  gone quiet, an acknowledgement past its deadline, money collected and not remitted, a corrected
  invoice), since when, in one sentence, with the case handler's own words; to acknowledge by
  ``ack_due_by``.
- Reminder acknowledgement (office -> agency): the office has read the reminder.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import model_validator

from schemas.v1.common import MessageId, Reference, Text, Timestamp, rule_error
from schemas.v1.envelope import MessageModel


class ReminderTopic(StrEnum):
    """What the agency is waiting for:

    - ``stale_mandate``: no act reported on the mandate for longer than your usual pace;
    - ``mandate_ack_overdue``: the mandate is not accepted or refused (``mandate_ack``) by its deadline;
    - ``hold_notice_ack_overdue``: a hold notice is not acknowledged (``hold_notice_ack``) by its deadline;
    - ``unremitted``: money collected on the case is not remitted past the agency's deadline;
    - ``invoice_disputed``: a disputed invoice waits for your credit note or corrected invoice.
    """

    STALE_MANDATE = "stale_mandate"
    MANDATE_ACK_OVERDUE = "mandate_ack_overdue"
    HOLD_NOTICE_ACK_OVERDUE = "hold_notice_ack_overdue"
    UNREMITTED = "unremitted"
    INVOICE_DISPUTED = "invoice_disputed"


class Reminder(MessageModel):
    """Agency -> office: the agency is waiting for something from you (``topic``) since
    ``waiting_since``; acknowledge this reminder (``reminder_ack`` quoting its ``message_id``) by
    ``ack_due_by``."""

    KIND = "reminder"

    topic: ReminderTopic
    case_ref: Reference | None = None
    mandate_ref: Reference | None = None
    invoice_number: Text | None = None
    """The office's invoice number (BT-1), for ``invoice_disputed``."""
    waiting_since: date
    """The day the agency started waiting."""
    explanation: Text
    """What the agency is waiting for, in one sentence."""
    comment: Text | None = None
    """The case handler's own words."""
    ack_due_by: Timestamp

    @model_validator(mode="after")
    def _names_what_it_is_about(self) -> Self:
        if self.case_ref is None and self.mandate_ref is None and self.invoice_number is None:
            raise rule_error(
                "reminder.subject_missing",
                "a reminder names its case, its mandate or its invoice",
                at="case_ref",
            )
        return self


class ReminderAck(MessageModel):
    """Office -> agency: the office has read a reminder."""

    KIND = "reminder_ack"

    reminder_id: MessageId
    """The ``message_id`` of the reminder acknowledged (also the envelope's ``correlation_id``)."""
    comment: Text | None = None
    """What the office is doing about it (e.g. the act is booked for next week)."""
