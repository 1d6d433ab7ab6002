"""One path for every office message: syntax, sender = credential, duplicates, meaning, receipts."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.bootstrap import inbound_processor
from hub.kit.errors import ErrorItem, InvalidInput
from hub.messaging.inbound import Delivery, InboundProcessor, KindHandling, Received
from hub.messaging.models import OutboxEntry, StoredMessage
from hub.messaging.repository import MessageRepository
from hub.messaging.service import receipt_payload
from hub.messaging.signing import ReceiptSigner, verify
from hub.offices import service as offices
from hub.offices.models import Office
from schemas.v1 import SAMPLES_DIR

SIGNER = ReceiptSigner("r" * 40)
ACT_REPORT_XML = (SAMPLES_DIR / "valid" / "act_report.xml").read_bytes()
ACT_REPORT_JSON = (SAMPLES_DIR / "valid" / "act_report.json").read_bytes()


@pytest.fixture
async def office(session: AsyncSession) -> Office:
    return await offices.add_office(session, code="CJ75001", name="SCP Martin & Associés")


async def outbox(session: AsyncSession) -> list[tuple[str, str, str]]:
    rows = await session.execute(
        select(StoredMessage.kind, OutboxEntry.recipient, OutboxEntry.exchange)
        .join(OutboxEntry, OutboxEntry.message_pk == StoredMessage.id)
        .order_by(OutboxEntry.id)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "content_type"), [(ACT_REPORT_XML, "application/xml"), (ACT_REPORT_JSON, "application/json")]
)
async def test_an_accepted_message_is_stored_receipted_and_routed_to_the_agency(
    session: AsyncSession, office: Office, raw: bytes, content_type: str
) -> None:
    outcome = await inbound_processor(SIGNER).receive(session, office, Received(raw, content_type))
    assert outcome.accepted and not outcome.duplicate
    assert outcome.message.body == raw and outcome.message.status == "validated"
    assert await outbox(session) == [("act_report", "AGENCY", "hub.agency")]
    receipt = outcome.receipt
    payload = receipt_payload(
        receipt.message_id,
        receipt.sender,
        receipt.sha256,
        receipt.received_at,
        True,
        [],
        key_id=SIGNER.key_id,
    )
    assert verify(SIGNER.public_key_b64(), payload, receipt.signature)


async def test_a_second_copy_gets_the_first_receipt_and_no_second_effect(
    session: AsyncSession, office: Office
) -> None:
    processor = inbound_processor(SIGNER)
    first = await processor.receive(session, office, Received(ACT_REPORT_XML, "application/xml"))
    again = await processor.receive(session, office, Received(ACT_REPORT_XML, "application/xml"))
    assert again.duplicate and again.receipt.id == first.receipt.id
    assert len(await outbox(session)) == 1


async def test_syntax_errors_refuse_with_every_error_and_a_negative_ack(
    session: AsyncSession, office: Office
) -> None:
    bad = (SAMPLES_DIR / "invalid" / "act_report_several_errors.xml").read_bytes()
    outcome = await inbound_processor(SIGNER).receive(session, office, Received(bad, "application/xml"))
    assert not outcome.accepted
    assert len(outcome.receipt.errors) > 1
    assert outcome.message.status == "rejected"
    assert await outbox(session) == [("error_report", "CJ75001", "hub.outbound")]
    nack = (await MessageRepository(session).find(kind="error_report"))[0]
    assert b"<errorReport" in nack.body and outcome.message.sha256.encode() in nack.body


async def test_a_sender_other_than_the_credential_is_refused(session: AsyncSession, office: Office) -> None:
    forged = json.loads(ACT_REPORT_JSON)
    forged["envelope"]["sender"] = "CJ13001"
    outcome = await inbound_processor(SIGNER).receive(
        session, office, Received(json.dumps(forged).encode(), "application/json")
    )
    assert not outcome.accepted
    assert [e["code"] for e in outcome.receipt.errors] == ["envelope.sender_mismatch"]
    assert outcome.message.sender == "CJ75001"  # stored under the credential, never the forged name


async def test_kinds_offices_may_not_send_are_refused(session: AsyncSession, office: Office) -> None:
    mandate = (SAMPLES_DIR / "valid" / "mandate_per_act.xml").read_bytes()
    outcome = await inbound_processor(SIGNER).receive(session, office, Received(mandate, "application/xml"))
    codes = {e["code"] for e in outcome.receipt.errors}
    assert "envelope.kind_not_accepted" in codes


async def test_unsupported_content_type(session: AsyncSession, office: Office) -> None:
    outcome = await inbound_processor(SIGNER).receive(session, office, Received(b"a,b", "text/csv"))
    assert [e["code"] for e in outcome.receipt.errors] == ["content_type.unsupported"]


async def refuse(session: AsyncSession, delivery: Delivery) -> None:
    await offices.add_office(session, code="CJWRITTEN", name="written by the handler")  # must not survive
    raise InvalidInput("meaning", errors=[ErrorItem("/mandate_ref", "mandate.unknown", "no such mandate")])


async def test_a_refusal_in_meaning_leaves_nothing_half_written(
    session: AsyncSession, office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    processor = InboundProcessor(SIGNER, kinds={"act_report": KindHandling(refuse)})  # with a savepoint
    outcome = await processor.receive(session, office, Received(ACT_REPORT_XML, "application/xml"))
    assert not outcome.accepted
    assert [e["code"] for e in outcome.receipt.errors] == ["mandate.unknown"]
    assert [o.code for o in await offices.list_offices(session)] == ["CJ75001"]
    assert await outbox(session) == [("error_report", "CJ75001", "hub.outbound")]
    # Refused, so not applied: a corrected copy under the same id is taken.
    del processor.kinds["act_report"]
    retry = await processor.receive(session, office, Received(ACT_REPORT_XML, "application/xml"))
    assert retry.accepted and not retry.duplicate


async def test_amqp_senders_get_the_receipt_as_a_message(session: AsyncSession, office: Office) -> None:
    await inbound_processor(SIGNER).receive(
        session, office, Received(ACT_REPORT_XML, "application/xml"), reply_receipt=True
    )
    assert await outbox(session) == [
        ("act_report", "AGENCY", "hub.agency"),
        ("receipt", "CJ75001", "hub.outbound"),
    ]
