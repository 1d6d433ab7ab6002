"""Version 1 of the wire contracts between the agency's hub and the bailiff offices.

Every message is a pydantic model with an ``envelope`` first; ``Message`` is any of them, told apart
by ``envelope.kind``. Amounts are integer cents. The XML form is described by ``schemas/xsd/v1/edi.xsd``
(namespace ``urn:agency-hub:edi:v1``), the JSON form by ``schemas/json/v1/<kind>.json``.
"""

from __future__ import annotations

from pathlib import Path

from schemas.v1.act_report import ActReport, FeesClaimed
from schemas.v1.approvals import (
    CostDecision,
    CostRequest,
    Decision,
    HeldMandate,
    HoldLift,
    HoldNotice,
    HoldNoticeAck,
    HoldReason,
    HoldSituation,
)
from schemas.v1.case_updates import (
    CaseUpdate,
    CaseUpdateAck,
    CaseUpdateKind,
    InsolvencyProceedings,
    PaymentReceived,
)
from schemas.v1.common import (
    MAX_CENTS,
    ActCode,
    Cents,
    Currency,
    LongText,
    MessageId,
    PartyCode,
    PositiveCents,
    ReasonCode,
    Reference,
    Sha256Hex,
    SignedCents,
    Siret,
    Text,
    Timestamp,
    WireModel,
)
from schemas.v1.envelope import AGENCY, KINDS, Envelope, MessageKind, MessageModel
from schemas.v1.errors import MAX_ERRORS, ErrorItem, error_items, json_pointer
from schemas.v1.invoice import DisputedLine, FeeInvoice, InvoiceDispute, InvoiceLine, LineFinding, Seller
from schemas.v1.kinds import MESSAGE_TYPES
from schemas.v1.mandate import (
    Address,
    CancelCause,
    Claim,
    Debtor,
    DebtorKind,
    Mandate,
    MandateAck,
    MandateCancel,
    MandateTerms,
    PerActTerms,
    Priority,
    RefusalReason,
    Title,
    TitleKind,
    WholeFileTerms,
)
from schemas.v1.message import MESSAGE_ADAPTER, Message, dump_json, message_errors, parse_json
from schemas.v1.outcomes import OutcomeCode
from schemas.v1.receipts import SIGNED_ALONE, SIGNED_BY_CHUNK, ErrorReport, ProofStep, Receipt, ReceiptProof
from schemas.v1.reminders import Reminder, ReminderAck, ReminderTopic
from schemas.v1.remittance import BankReference, Remittance, RemittanceLine

VERSION = "1"
PACKAGE_DIR = Path(__file__).resolve().parent.parent
"""The ``schemas`` folder: ``xsd/v1``, ``json/v1``, ``samples/v1``, ``asyncapi.yaml``, ``README.md``."""
XSD_DIR = PACKAGE_DIR / "xsd" / "v1"
JSON_SCHEMA_DIR = PACKAGE_DIR / "json" / "v1"
SAMPLES_DIR = PACKAGE_DIR / "samples" / "v1"
ASYNCAPI_PATH = PACKAGE_DIR / "asyncapi.yaml"

__all__ = [
    "AGENCY",
    "ASYNCAPI_PATH",
    "JSON_SCHEMA_DIR",
    "KINDS",
    "MAX_CENTS",
    "MAX_ERRORS",
    "MESSAGE_ADAPTER",
    "MESSAGE_TYPES",
    "PACKAGE_DIR",
    "SAMPLES_DIR",
    "SIGNED_ALONE",
    "SIGNED_BY_CHUNK",
    "VERSION",
    "XSD_DIR",
    "ActCode",
    "ActReport",
    "Address",
    "BankReference",
    "CancelCause",
    "CaseUpdate",
    "CaseUpdateAck",
    "CaseUpdateKind",
    "Cents",
    "Claim",
    "CostDecision",
    "CostRequest",
    "Currency",
    "Debtor",
    "DebtorKind",
    "Decision",
    "DisputedLine",
    "Envelope",
    "ErrorItem",
    "ErrorReport",
    "FeeInvoice",
    "FeesClaimed",
    "HeldMandate",
    "HoldLift",
    "HoldNotice",
    "HoldNoticeAck",
    "HoldReason",
    "HoldSituation",
    "InsolvencyProceedings",
    "InvoiceDispute",
    "InvoiceLine",
    "LineFinding",
    "LongText",
    "Mandate",
    "MandateAck",
    "MandateCancel",
    "MandateTerms",
    "Message",
    "MessageId",
    "MessageKind",
    "MessageModel",
    "OutcomeCode",
    "PartyCode",
    "PaymentReceived",
    "PerActTerms",
    "PositiveCents",
    "Priority",
    "ProofStep",
    "ReasonCode",
    "Receipt",
    "ReceiptProof",
    "Reference",
    "RefusalReason",
    "Reminder",
    "ReminderAck",
    "ReminderTopic",
    "Remittance",
    "RemittanceLine",
    "Seller",
    "Sha256Hex",
    "SignedCents",
    "Siret",
    "Text",
    "Timestamp",
    "Title",
    "TitleKind",
    "WholeFileTerms",
    "WireModel",
    "dump_json",
    "error_items",
    "json_pointer",
    "message_errors",
    "parse_json",
]
