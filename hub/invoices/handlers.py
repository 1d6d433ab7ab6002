"""The invoices module on the one inbound path (``hub.messaging.inbound``, wired by
``hub.bootstrap``): the ``fee_invoice`` use case, and the reading of EN 16931 e-invoices, which
carry no v1 envelope, into it."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from hub.invoices import intake, service
from hub.messaging.inbound import Delivery, Reading, media_type
from hub.messaging.models import StoredMessage
from hub.offices.models import Office
from schemas import v1


async def fee_invoice_received(session: AsyncSession, delivery: Delivery) -> uuid.UUID:
    """Records the invoice; refused with what reading it found (``delivery.found``) and every error
    of its own checks together. Its id goes on the receipt."""
    assert isinstance(delivery.message, v1.FeeInvoice)
    assert isinstance(delivery.stored, StoredMessage)  # applied in a savepoint: never a staged row
    invoice = await service.record_invoice(
        session, delivery.message, delivery.stored, delivery.office, delivery.found
    )
    return invoice.id


def is_einvoice_body(raw: bytes, content_type: str) -> bool:
    """Whether ``raw`` is an e-invoice: its reading (the official EN 16931 stylesheets) is CPU work,
    done in a worker thread rather than on the event loop."""
    return intake.is_einvoice(raw, media_type(content_type))


def read_einvoice(raw: bytes, content_type: str, office: Office) -> Reading | None:
    """A UBL, CII or Factur-X invoice as a ``fee_invoice`` of ``office``, with what our rules found
    wrong in it; None for anything else."""
    if not intake.is_einvoice(raw, media_type(content_type)):
        return None
    try:
        return intake.read_einvoice_message(raw, office)
    except intake.EInvoiceRefused as refused:
        return Reading(None, refused.errors)
