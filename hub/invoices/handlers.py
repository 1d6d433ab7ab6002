"""The invoices module on the one inbound path (``hub.messaging.inbound``): the ``fee_invoice``
use case, and the reading of EN 16931 e-invoices, which carry no v1 envelope, into it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.invoices import intake, service
from hub.messaging import inbound
from hub.messaging.inbound import handles
from hub.messaging.models import StoredMessage
from hub.offices.models import Office
from schemas import v1


@handles("fee_invoice")
async def fee_invoice_received(
    session: AsyncSession, message: v1.MessageModel, stored: StoredMessage, office: Office
) -> None:
    assert isinstance(message, v1.FeeInvoice)
    await service.record_invoice(session, message, stored, office)


@inbound.translates
def read_einvoice(raw: bytes, content_type: str, office: Office) -> v1.MessageModel | None:
    """A UBL, CII or Factur-X invoice as a ``fee_invoice`` of ``office``; None for anything else."""
    if not intake.is_einvoice(raw, inbound.media_type(content_type)):
        return None
    try:
        return intake.read_einvoice_message(raw, office)
    except intake.EInvoiceRefused as refused:
        raise inbound.Refused(refused.errors) from refused
