"""A batch chunk is applied as its records one by one would be, its insert-only rows written with one
statement per table (``hub.kit.db.RowBuffer``)."""

from __future__ import annotations

import io
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.xml import codec
from hub.acts import batch as batches
from hub.bootstrap import inbound_processor
from hub.database import unit_of_work
from hub.kit.errors import ErrorItem
from hub.ledger.models import LedgerEntry, LedgerTransaction
from hub.messaging import service
from hub.messaging.inbound import XML, Received
from hub.messaging.models import MessageEvent, OutboxEntry, Receipt, StoredMessage
from hub.messaging.signing import ReceiptSigner, verify
from schemas import v1
from tests.hub.acts.factories import Seeded, report, seed

SIGNER = ReceiptSigner("b" * 40)


def reports(s: Seeded) -> list[v1.ActReport]:
    """Five reports: the third under an unknown mandate, the fifth a second copy of the second."""
    made = []
    for n in range(1, 6):
        data = report(s.office.code, s.mandate.ref, n, collected_cents=1_000 * n)
        if n == 3:
            data["mandate_ref"] = "M-UNKNOWN"
        if n == 5:
            data["envelope"]["message_id"] = f"CR-{s.office.code}-2"
        made.append(v1.ActReport.model_validate_json(json.dumps(data)))
    return made


@contextmanager
def inserts(engine: AsyncEngine) -> Iterator[Counter[str]]:
    counted: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO"):
            counted[statement.split()[2].strip('"')] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield counted
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def written(session: AsyncSession, s: Seeded) -> dict[str, Any]:
    """What the office's reports left in the store, without ids and times."""
    inbound = list(
        await session.scalars(
            select(StoredMessage)
            .where(
                StoredMessage.sender == s.office.code,
                StoredMessage.kind == "act_report",
                StoredMessage.direction == "inbound",
            )
            .order_by(StoredMessage.message_id, StoredMessage.created_at)
        )
    )
    pks = [m.id for m in inbound]
    events = await session.execute(
        select(MessageEvent.message_pk, MessageEvent.status)
        .where(MessageEvent.message_pk.in_(pks))
        .order_by(MessageEvent.id)
    )
    steps: dict[uuid.UUID, list[str]] = {pk: [] for pk in pks}
    for pk, status in events:
        steps[pk].append(status)
    receipts = {
        r.message_pk: r for r in await session.scalars(select(Receipt).where(Receipt.message_pk.in_(pks)))
    }
    for r in receipts.values():
        payload = service.receipt_payload(
            r.message_id, r.sender, r.sha256, r.received_at, r.accepted, [_item(e) for e in r.errors]
        )
        assert verify(SIGNER.public_key_b64(), payload, r.signature)
    sent = await session.execute(
        select(StoredMessage.kind, OutboxEntry.routing_key)
        .join(OutboxEntry, OutboxEntry.message_pk == StoredMessage.id)
        .where(StoredMessage.parent_id.in_(pks))
        .order_by(OutboxEntry.id)
    )
    postings = await session.execute(
        select(LedgerTransaction.kind, LedgerEntry.account, LedgerEntry.amount_cents)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.office_id == s.office.id)
    )
    return {
        "messages": [(m.message_id.rsplit("-", 1)[1], m.status, steps[m.id]) for m in inbound],
        "receipts": sorted((r.accepted, json.dumps(r.errors)) for r in receipts.values()),
        "sent": [(kind, key.replace(s.office.code, "OFFICE")) for kind, key in sent],
        "postings": sorted(postings.all()),
    }


def _item(e: dict[str, Any]) -> ErrorItem:
    return ErrorItem(e["path"], e["code"], e["message"], e.get("line"))


async def test_a_chunk_writes_what_its_records_one_by_one_write_in_one_insert_per_table(
    sessions: async_sessionmaker[AsyncSession], committed_engine: AsyncEngine
) -> None:
    processor = inbound_processor(SIGNER)
    async with unit_of_work(sessions) as session:
        one_by_one, batched = await seed(session), await seed(session)
    for message in reports(one_by_one):
        async with unit_of_work(sessions) as session:
            await processor.receive(session, one_by_one.office, Received(codec.encode(message), XML))

    async with unit_of_work(sessions) as session:
        batch = await batches.start_batch(session, batched.office, "0" * 64)
    stream = io.BytesIO(codec.encode_batch(reports(batched)))
    with inserts(committed_engine) as counted:
        result = await batches.run_batch(sessions, processor, batched.office, batch.id, stream)

    assert (result.accepted_count, [r["index"] for r in result.refused]) == (3, [3, 5])
    assert result.refused[1]["status"] == 409  # the second copy: answered with the first receipt
    async with unit_of_work(sessions) as session:
        alone, together = await written(session, one_by_one), await written(session, batched)
    assert together == alone
    assert [steps for _, _, steps in together["messages"]] == [
        ["received", "validated"],
        ["received", "validated"],
        ["received", "rejected"],
        ["received", "validated"],
    ]
    assert len(together["postings"]) > 3 and together["sent"][0][0] == "act_report"
    # The second copy reads the first one's receipt, so what was buffered before it is written
    # then: twice per table at most, whatever the number of records.
    for table in ("message_events", "receipts", "outbox", "ledger_entries"):
        assert 1 <= counted[table] <= 2, (table, counted)
