"""The model of each v1 message kind, in the order of ``MessageKind``: what the union of
``schemas.v1.message`` and the XML layout of ``schemas.v1.xml_form`` are both built from."""

from __future__ import annotations

from schemas.v1.act_report import ActReport
from schemas.v1.approvals import CostDecision, CostRequest, HoldLift, HoldNotice, HoldNoticeAck
from schemas.v1.case_updates import CaseUpdate, CaseUpdateAck
from schemas.v1.envelope import KINDS, MessageKind, MessageModel
from schemas.v1.invoice import FeeInvoice, InvoiceDispute
from schemas.v1.mandate import Mandate, MandateAck, MandateCancel
from schemas.v1.receipts import ErrorReport, Receipt
from schemas.v1.reminders import Reminder, ReminderAck
from schemas.v1.remittance import Remittance

MESSAGE_TYPES: dict[MessageKind, type[MessageModel]] = {
    cls.KIND: cls
    for cls in (
        Mandate,
        MandateAck,
        ActReport,
        FeeInvoice,
        Receipt,
        ErrorReport,
        HoldNotice,
        CostRequest,
        CostDecision,
        HoldNoticeAck,
        MandateCancel,
        InvoiceDispute,
        CaseUpdate,
        CaseUpdateAck,
        Remittance,
        HoldLift,
        Reminder,
        ReminderAck,
    )
}
"""The model of each message kind."""

assert tuple(MESSAGE_TYPES) == KINDS, "every kind has exactly one model, in the order of MessageKind"
