from __future__ import annotations

import hashlib

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.errors import ErrorItem
from hub.messaging import service
from hub.messaging.repository import MessageRepository
from hub.messaging.service import Envelope
from hub.messaging.signing import ReceiptSigner, verify

ACT_REPORT = Envelope(message_id="CR-2026-000123", kind="act_report", sender="CJ75001", recipient="AGENCY")


async def test_inbound_message_is_kept_raw_with_its_hash_and_lifecycle(session: AsyncSession) -> None:
    raw = b"<actReport>...</actReport>"
    message = await service.store_inbound(session, ACT_REPORT, raw, "application/xml")
    await service.mark_applied(session, message)

    repo = MessageRepository(session)
    stored = await repo.get(message.id)
    assert stored is not None and stored.body == raw
    assert stored.sha256 == hashlib.sha256(raw).hexdigest()
    assert [e.status for e in await repo.events(message.id)] == ["received", "validated"]
    assert stored.status == "validated"


async def test_a_second_copy_is_recognised_and_cannot_be_applied_twice(session: AsyncSession) -> None:
    first = await service.store_inbound(session, ACT_REPORT, b"one", "application/xml")
    assert await service.already_applied(session, "CJ75001", ACT_REPORT.message_id) is None
    await service.mark_applied(session, first)

    found = await service.already_applied(session, "CJ75001", ACT_REPORT.message_id)
    assert found is not None and found.id == first.id
    # Another office may reuse the same message id: scoped by sender.
    assert await service.already_applied(session, "CJ69001", ACT_REPORT.message_id) is None

    second = await service.store_inbound(session, ACT_REPORT, b"one", "application/xml")
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await service.mark_applied(session, second)


async def test_query_by_correlation_party_kind_and_parent(session: AsyncSession) -> None:
    batch = await service.store_inbound(
        session, Envelope("BATCH-1", "act_report_batch", "CJ75001", "AGENCY"), b"<batch/>", "application/xml"
    )
    for n in range(3):
        child = Envelope(f"CR-{n}", "act_report", "CJ75001", "AGENCY", correlation_id="M-42")
        await service.store_inbound(session, child, b"<r/>", "application/xml", parent_id=batch.id)
    await service.store_inbound(
        session, Envelope("X", "act_report", "CJ69001", "AGENCY"), b"", "application/xml"
    )

    repo = MessageRepository(session)
    assert [m.message_id for m in await repo.children(batch.id)] == ["CR-0", "CR-1", "CR-2"]
    assert len(await repo.find(correlation_id="M-42")) == 3
    assert len(await repo.find(party="CJ75001", kind="act_report")) == 3
    assert len(await repo.find(party="CJ69001")) == 1
    assert len(await repo.find(status="received", party="CJ75001")) == 4


async def test_receipts_are_signed_and_verifiable_with_the_public_key(session: AsyncSession) -> None:
    signer = ReceiptSigner("s" * 40)
    message = await service.store_inbound(session, ACT_REPORT, b"<bad/>", "application/xml")
    errors = [ErrorItem("actReport/actDate", "act.date_in_future", "the act date is after today")]
    receipt = await service.issue_receipt(session, signer, message, accepted=False, errors=errors)

    payload = service.receipt_payload(
        receipt.message_id,
        receipt.sender,
        receipt.sha256,
        receipt.received_at,
        receipt.accepted,
        errors,
        key_id=signer.key_id,
    )
    assert receipt.key_id == signer.key_id
    assert verify(signer.public_key_b64(), payload, receipt.signature)
    assert not verify(signer.public_key_b64(), {**payload, "accepted": True}, receipt.signature)
    assert not verify(ReceiptSigner("other" * 10).public_key_b64(), payload, receipt.signature)
    assert message.status == "rejected"


async def test_enqueue_outbound_writes_message_and_outbox_row_together(session: AsyncSession) -> None:
    envelope = Envelope("MND-1", "mandate", "AGENCY", "CJ75001", correlation_id="D-2026-0001")
    entry = await service.enqueue_outbound(
        session,
        envelope,
        b"<mandate/>",
        "application/xml",
        exchange="hub.outbound",
        routing_key="office.CJ75001",
    )
    await session.flush()  # staged: the outbox row gets its id when written
    assert entry.id is not None and entry.status == "pending"
    message = await MessageRepository(session).get(entry.message_pk)
    assert message is not None and message.direction == "outbound" and message.status == "routed"
