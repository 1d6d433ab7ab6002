"""The one place the inbound path is wired: the handling of each kind of message an office may
send (its preloader and handler) and the readers of forms without a v1 envelope. Every entry point
(the HTTP routes, the AMQP consumer, batches, ``hub reports import``, ``hub replay``, ``hub dead
requeue``, ``hub bench``) gets its processor from :func:`inbound_processor`, so a message is
applied the same way whatever carried it and whichever modules the process happened to import.
See docs/pipeline.md."""

from __future__ import annotations

from hub.acts.handlers import (
    act_report_received,
    applied_act_reports,
    case_of_act_report,
    preload_act_reports,
)
from hub.gdpr.service import cases_of
from hub.invoices.handlers import fee_invoice_received, is_einvoice_body, read_einvoice
from hub.mandates.handlers import (
    case_update_acknowledged,
    cost_requested,
    hold_notice_acknowledged,
    mandate_acknowledged,
)
from hub.messaging.inbound import InboundProcessor, KindHandling
from hub.messaging.signing import ReceiptSigner
from hub.remittances.handlers import remittance_received
from hub.worklist.handlers import reminder_acknowledged

KINDS: dict[str, KindHandling] = {
    # Checked from its preload before it writes: no savepoint, a batch chunk's rows written together.
    "act_report": KindHandling(
        act_report_received,
        preload=preload_act_reports,
        savepoint=False,
        locks_first=True,
        case_of=case_of_act_report,
        applied_of=applied_act_reports,
    ),
    "mandate_ack": KindHandling(mandate_acknowledged),
    "cost_request": KindHandling(cost_requested),
    "hold_notice_ack": KindHandling(hold_notice_acknowledged),
    "case_update_ack": KindHandling(case_update_acknowledged),
    "fee_invoice": KindHandling(fee_invoice_received),
    # Checked whole before it writes; posted in a savepoint all the same, so nothing of a refusal stays.
    "remittance": KindHandling(remittance_received),
    "reminder_ack": KindHandling(reminder_acknowledged),
}
TRANSLATORS = (read_einvoice,)  # UBL 2.1, UN/CEFACT CII and Factur-X invoices, as fee_invoice


def inbound_processor(signer: ReceiptSigner) -> InboundProcessor:
    # cases_of: the case each message concerns, whose key seals it in the store (hub.gdpr).
    return InboundProcessor(
        signer, kinds=KINDS, translators=TRANSLATORS, slow_body=is_einvoice_body, cases_of=cases_of
    )
