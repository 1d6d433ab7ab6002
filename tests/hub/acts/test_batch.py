"""A batch chunk is applied as its records one by one would be, its insert-only rows written with one
statement per table (``hub.kit.db.RowBuffer``)."""

from __future__ import annotations

import io
import json
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, or_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.xml import codec
from adapters.xml.hardened import iterparse_records
from hub.acts import batch as batches
from hub.acts import service as acts_service
from hub.acts.models import ActReport
from hub.bootstrap import inbound_processor
from hub.database import create_engine, due_for_analysis, session_factory, unit_of_work
from hub.kit import db
from hub.ledger.models import LedgerEntry, LedgerTransaction
from hub.messaging import service
from hub.messaging.inbound import XML, Received
from hub.messaging.models import BatchReceipt, MessageEvent, OutboxEntry, Receipt, StoredMessage
from hub.messaging.outbound import receipt_message
from hub.messaging.signing import BATCH_ALGORITHM, ReceiptSigner, verify
from hub.recovery.recovery_rates import RecoveryRates, prior_rates
from schemas import v1
from schemas.v1.xml_form import BATCH_RECORD, BATCH_ROOT, NAMESPACE
from tests.conftest import database_like
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
        assert service.receipt_verifies(SIGNER.public_key_b64(), r)
    sent = await session.execute(  # forwards point at the inbound message, error reports are its children
        select(StoredMessage.kind, OutboxEntry.routing_key)
        .join(OutboxEntry, OutboxEntry.message_pk == StoredMessage.id)
        .where(or_(StoredMessage.parent_id.in_(pks), StoredMessage.id.in_(pks)))
        .order_by(OutboxEntry.id)
    )
    postings = await session.execute(
        select(LedgerTransaction.kind, LedgerEntry.account, LedgerEntry.amount_cents)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.office_id == s.office.id)
    )
    acts = await session.execute(
        select(ActReport.office_reference, ActReport.flagged, ActReport.assessment)
        .where(ActReport.office_id == s.office.id)
        .order_by(ActReport.office_reference)
    )
    return {
        # The after-the-fact assessment, byte for byte, with the office's code made neutral.
        "acts": [
            (
                ref.split("/")[-1],
                flagged,
                json.dumps(assessment, sort_keys=True).replace(s.office.code, "OFFICE"),
            )
            for ref, flagged, assessment in acts
        ],
        "messages": [(m.message_id.rsplit("-", 1)[1], m.status) for m in inbound],
        "steps": [steps[m.id] for m in inbound],
        "receipts": sorted((r.accepted, json.dumps(r.errors)) for r in receipts.values()),
        "sent": [(kind, key.replace(s.office.code, "OFFICE")) for kind, key in sent],
        "postings": sorted(postings.all()),
    }


async def test_a_chunk_writes_what_its_records_one_by_one_write_in_one_insert_per_table(
    sessions: async_sessionmaker[AsyncSession], committed_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What is learned from stored reports differs between the two ways by design (one report sees
    # the ones before it; a chunk learns once, before its first record): held at the priors here,
    # so the rows each way writes can be compared.
    async def priors(_session: AsyncSession) -> RecoveryRates:
        return prior_rates()

    monkeypatch.setattr(acts_service, "recent_learned_rates", priors)
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
    assert {**together, "steps": None} == {**alone, "steps": None}
    assert alone["steps"] == [
        ["received", "validated"],
        ["received", "validated"],
        ["received", "rejected"],
        ["received", "validated"],
    ]
    # A batch record's received and validated steps are folded into its status (same transaction).
    assert together["steps"] == [[], [], ["rejected"], []]
    assert len(together["postings"]) > 3 and together["sent"][0][0] == "act_report"
    assert len(together["acts"]) == 3 and all(a[2] != "null" for a in together["acts"])
    # The second copy reads the first one's receipt, so what was buffered before it is written
    # then: twice per table at most, whatever the number of records. (PostgreSQL writes a table's
    # rows with COPY from ``hub.kit.db.COPY_FROM_ROWS`` rows on, which no INSERT shows; these are fewer.)
    for table in ("message_events", "receipts", "outbox", "ledger_entries"):
        assert 1 <= counted[table] <= 2, (table, counted)


def generated_reports(s: Seeded, mandate_refs: list[str], count: int, seed_value: int) -> list[v1.ActReport]:
    """``count`` reports over the mandates, each one of a few acts drawn first (act, day, outcome,
    money seized), so a chunk reports the same act on a case again and again, and now and then one
    that changes what the cost check reads (a garnishment that caught nothing, a PV de carence, an
    earlier day)."""
    draw = random.Random(seed_value)
    shapes = [
        {
            "act_code": draw.choice(
                ["SERVE_TITLE", "BANK_GARNISHMENT", "GARNISHMENT_NOTICE", "SEIZURE_SALE"]
            ),
            "act_date": draw.choice(["2026-02-02", "2026-02-20", "2026-03-01"]),
            "outcome_code": draw.choice(["served_at_home", "garnishment_empty", "no_seizable_goods"]),
            "seized_cents": draw.choice([0, 12_000]),
        }
        for _ in range(4)
    ]
    return [
        v1.ActReport.model_validate_json(
            json.dumps(report(s.office.code, draw.choice(mandate_refs), n, **draw.choice(shapes)))
        )
        for n in range(1, count + 1)
    ]


@pytest.mark.parametrize("seed_value", [2, 3, 4])
async def test_a_generated_chunk_is_assessed_as_its_records_one_by_one(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch, seed_value: int
) -> None:
    """A chunk's cost check remembers its verdicts per case as the rules read it
    (``hub.recovery.plausibility.Assessor``); a record sent alone has its verdict worked out. Every
    act's assessment, flag and postings are the same either way."""

    async def priors(_session: AsyncSession) -> RecoveryRates:  # as above: learned alike both ways
        return prior_rates()

    monkeypatch.setattr(acts_service, "recent_learned_rates", priors)
    processor = inbound_processor(SIGNER)
    ways = []
    async with unit_of_work(sessions) as session:
        for _ in range(2):
            first = await seed(session, kind="whole_file", acts=[])
            other = await seed(session, kind="whole_file", acts=[], office=first.office)
            ways.append((first, [first.mandate.ref, other.mandate.ref]))
    (one_by_one, alone_refs), (batched, batched_refs) = ways
    for message in generated_reports(one_by_one, alone_refs, 40, seed_value):
        async with unit_of_work(sessions) as session:
            await processor.receive(session, one_by_one.office, Received(codec.encode(message), XML))
    async with unit_of_work(sessions) as session:
        batch = await batches.start_batch(session, batched.office, "0" * 64)
    stream = io.BytesIO(codec.encode_batch(generated_reports(batched, batched_refs, 40, seed_value)))
    # PostgreSQL: every table of the chunk by COPY (its assessments as ``StoredAssessment.encoded``
    # gives them), where each record sent alone was written by INSERT.
    monkeypatch.setattr(db, "COPY_FROM_ROWS", 1)
    result = await batches.run_batch(sessions, processor, batched.office, batch.id, stream)

    assert result.accepted_count == 40
    async with unit_of_work(sessions) as session:
        alone, together = await written(session, one_by_one), await written(session, batched)
    assert together["acts"] == alone["acts"]
    assert together["postings"] == alone["postings"] and together["receipts"] == alone["receipts"]
    # More verdicts than the four acts drawn: what an act finds on file changed some of them.
    assert len({assessment for _ref, _flagged, assessment in alone["acts"]}) > 4


async def batch_file(
    sessions: async_sessionmaker[AsyncSession], count: int
) -> tuple[Seeded, StoredMessage, list[v1.ActReport], io.BytesIO]:
    """A seeded office and mandate, a batch started for it, ``count`` act reports and their file."""
    async with unit_of_work(sessions) as session:
        s = await seed(session)
        batch = await batches.start_batch(session, s.office, "0" * 64)
    made = [
        v1.ActReport.model_validate_json(json.dumps(report(s.office.code, s.mandate.ref, n)))
        for n in range(1, count + 1)
    ]
    return s, batch, made, io.BytesIO(codec.encode_batch(made))


async def test_a_chunk_is_signed_once_and_each_record_receipt_verifies_alone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    processor = inbound_processor(SIGNER)
    s, batch, made, stream = await batch_file(sessions, 7)
    result = await batches.run_batch(sessions, processor, s.office, batch.id, stream, chunk=4)
    assert result.accepted_count == 7

    key = SIGNER.public_key_b64()
    async with unit_of_work(sessions) as session:
        signed = list(await session.scalars(select(BatchReceipt).where(BatchReceipt.batch_pk == batch.id)))
        receipts = list(
            await session.scalars(
                select(Receipt)
                .join(StoredMessage, StoredMessage.id == Receipt.message_pk)
                .where(StoredMessage.parent_id == batch.id)
            )
        )
    assert sorted(b.leaves for b in signed) == [3, 4]  # one signature per chunk
    assert len(receipts) == 7
    roots = {b.root: b.signature for b in signed}
    for r in receipts:
        assert r.signature_alg == BATCH_ALGORITHM and r.proof is not None
        assert roots[r.proof["root"]] == r.signature
        assert service.receipt_verifies(key, r)

    first, other = receipts[0], receipts[1]
    tampered = [
        {"sha256": "f" * 64},  # another body
        {"accepted": False},
        {"message_id": other.message_id},
        {"proof": other.proof},  # another record's proof
        {"proof": {**first.proof, "root": "0" * 64}},  # a root the signature is not of
        {"signature": other.signature if other.proof["root"] != first.proof["root"] else "A" * 88},
    ]
    for change in tampered:
        forged = Receipt(
            **{
                c: getattr(first, c)
                for c in (
                    "message_id",
                    "sender",
                    "sha256",
                    "accepted",
                    "errors",
                    "received_at",
                    "signature",
                    "proof",
                    "key_id",
                )
            }
        )
        for column, value in change.items():
            setattr(forged, column, value)
        assert not service.receipt_verifies(key, forged), change
    assert not service.receipt_verifies(ReceiptSigner("c" * 40).public_key_b64(), first)

    # A second copy sent alone is answered with the first receipt in the wire form of any receipt:
    # signed alone (Ed25519 is deterministic: the signature a record's receipt always had).
    async with unit_of_work(sessions) as session:
        again = await processor.receive(session, s.office, Received(codec.encode(made[0]), XML))
    assert again.duplicate and again.receipt.proof is None
    wire = receipt_message(again.receipt, s.office.code)
    assert wire.signature_alg == "Ed25519" and wire.message_id == made[0].envelope.message_id
    assert verify(key, service.stored_receipt_payload(again.receipt), wire.signature)


def test_a_valid_record_is_read_from_the_file_tree_once_and_an_invalid_one_from_its_bytes() -> None:
    made = [
        v1.ActReport.model_validate_json(json.dumps(report("CJ75001", "M-1", n, collected_cents=n)))
        for n in (1, 2)
    ]
    body = codec.encode_batch(made)
    at = body.rindex(b"<actDate>")
    body = body[:at] + body[at:].replace(b"<actDate>2026", b"<actDate>20x6", 1)  # the second one
    records = iterparse_records(
        io.BytesIO(body), f"{{{NAMESPACE}}}{BATCH_RECORD}", root_tag=f"{{{NAMESPACE}}}{BATCH_ROOT}"
    )
    read = [batches._record(r, uuid.uuid4()) for r in records]
    assert len(read) == 2
    assert read[0].decoded == codec.decode(read[0].raw) == made[0]
    assert read[1].decoded is None  # refused from its bytes, as the record sent alone would be
    assert b"20x6" in read[1].raw


def test_a_record_is_read_in_place_as_its_bytes_are_read_alone() -> None:
    """A record is decoded from the element the file's parser built, with no copy of it: the same
    report as its bytes decoded alone; an invalid one is left to be read again from its bytes."""
    made = [
        v1.ActReport.model_validate_json(json.dumps(report("CJ75001", "M-1", n, outcome_code=outcome)))
        for n, outcome in ((1, "served_in_person"), (2, "paid_in_full"), (3, "served_in_person"))
    ]
    text = codec.encode_batch(made).replace(b"<officeReference>A/CJ75001/2<", b"<officeReference><", 1)
    root = f"{{{NAMESPACE}}}{BATCH_ROOT}"
    records = iterparse_records(io.BytesIO(text), f"{{{NAMESPACE}}}{BATCH_RECORD}", root_tag=root)
    read = [batches._record(record, uuid.uuid4()) for record in records]
    assert [r.decoded for r in read] == [made[0], None, made[2]]
    assert read[0].decoded == codec.decode(read[0].raw) and read[2].decoded == codec.decode(read[2].raw)


@pytest.mark.parametrize(
    ("written", "rows", "due"),
    [(500, 0, True), (500, -1, True), (0, 0, False), (500, 100_000, False), (10_001, 100_000, True)],
)
def test_a_table_is_analysed_during_a_load_once_it_wrote_a_tenth_of_it(
    written: int, rows: float, due: bool
) -> None:
    """A batch into an empty hub analyses what it wrote; a small file into a big hub analyses nothing
    (each analysis samples 30,000 rows: 0.6 s a table set at 100,000 act reports, which doubled a
    2,000-record batch's time)."""
    assert due_for_analysis(written, rows) is due


async def test_a_big_file_is_planned_on_what_it_has_written_so_far(
    committed_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tables a batch writes are analysed after its 1st, 2nd, 4th... chunk (PostgreSQL): a file
    loaded into a hub migrated empty was planned on the empty tables' statistics until autovacuum
    came, and each chunk's look-ups and foreign key checks then scanned all the file had written
    (100,000 records took 6-13 min; 2 min since, linear)."""
    analysed: list[int] = []
    tables: list[list[str]] = []
    real = batches.analyze_tables

    async def counted(sessions: async_sessionmaker[AsyncSession], names: Any, *, written: int) -> list[str]:
        analysed.append(written)
        tables.append(await real(sessions, names, written=written))
        return tables[-1]

    monkeypatch.setattr(batches, "analyze_tables", counted)
    async with database_like(committed_database_url, tmp_path) as url:
        engine = create_engine(url)
        try:
            sessions = session_factory(engine)
            processor = inbound_processor(SIGNER)
            s, batch, _, stream = await batch_file(sessions, 9)
            result = await batches.run_batch(sessions, processor, s.office, batch.id, stream, chunk=2)
            assert result.accepted_count == 9
            # After chunks 1, 2 and 4 (2, 4 and 8 records written), not after the last.
            assert analysed == [2, 4, 8]
            if engine.dialect.name == "postgresql":
                async with sessions() as session:
                    rows = await session.execute(
                        text("SELECT relname, reltuples FROM pg_class WHERE relname = ANY(:names)"),
                        {"names": sorted(batches.WRITTEN)},
                    )
                    planned = dict(rows.all())
                assert sorted(planned) == sorted(batches.WRITTEN)
                assert all(tuples > 0 for tuples in planned.values()), planned  # 0 when migrated
                assert tables[0] == sorted(batches.WRITTEN)  # none analysed yet, or analysed empty
            else:
                assert tables == [[], [], []]
        finally:
            await engine.dispose()
