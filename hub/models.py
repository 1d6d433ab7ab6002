"""Every table of the hub, imported once so the metadata is complete (Alembic, tests)."""

from hub.cases.models import Case, Creditor, Debtor
from hub.messaging.models import InboxEntry, MailboxItem, MessageEvent, OutboxEntry, Receipt, StoredMessage
from hub.offices.models import Office, OfficeApiKey
from hub.staff.models import StaffUser

__all__ = [
    "Case",
    "Creditor",
    "Debtor",
    "InboxEntry",
    "MailboxItem",
    "MessageEvent",
    "Office",
    "OfficeApiKey",
    "OutboxEntry",
    "Receipt",
    "StaffUser",
    "StoredMessage",
]
