"""Every table of the hub, imported once so the metadata is complete (Alembic, tests)."""

from hub.acts.models import ActReport, ActReportTally, MandateActTally
from hub.cases.models import Case, CaseUpdate, Creditor, Debtor
from hub.console.models import ConsoleSession, SignInLink
from hub.gdpr.models import GdprEvent
from hub.inventory.models import InventoryResult
from hub.invoices.models import Invoice, InvoiceEvent, InvoiceLine
from hub.kit.idempotency import IdempotencyRecord
from hub.ledger.models import LedgerEntry, LedgerOfficeMonth, LedgerTransaction, MoneyCollectedDay, MoneyHeld
from hub.mandates.models import Approval, CaseUpdateNotice, Hold, HoldNotice, Mandate, MandateEvent
from hub.messaging.models import (
    CaseKey,
    InboxEntry,
    MailboxItem,
    MessageEvent,
    OutboxEntry,
    Receipt,
    StoredMessage,
)
from hub.offices.models import Office, OfficeApiKey, OfficeEvent
from hub.payments.models import PaymentRun
from hub.remittances.models import Remittance, RemittanceLine
from hub.staff.models import StaffUser
from hub.worklist.models import Reminder

__all__ = [
    "ActReport",
    "ActReportTally",
    "Approval",
    "Case",
    "CaseKey",
    "CaseUpdate",
    "CaseUpdateNotice",
    "ConsoleSession",
    "Creditor",
    "Debtor",
    "GdprEvent",
    "Hold",
    "HoldNotice",
    "IdempotencyRecord",
    "InboxEntry",
    "InventoryResult",
    "Invoice",
    "InvoiceEvent",
    "InvoiceLine",
    "LedgerEntry",
    "LedgerOfficeMonth",
    "LedgerTransaction",
    "MailboxItem",
    "Mandate",
    "MandateActTally",
    "MandateEvent",
    "MessageEvent",
    "MoneyCollectedDay",
    "MoneyHeld",
    "Office",
    "OfficeApiKey",
    "OfficeEvent",
    "OutboxEntry",
    "PaymentRun",
    "Receipt",
    "Reminder",
    "Remittance",
    "RemittanceLine",
    "SignInLink",
    "StaffUser",
    "StoredMessage",
]
