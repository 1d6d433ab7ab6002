"""A batch file of act reports (``actReportBatch``), streamed record by record through the one
inbound path. Each record is its own message (child of the batch message) with its own receipt, so a
bad record never stops the run. The runner owns its transactions: it commits every ``chunk`` records
and clears the session, which keeps memory flat in file size."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from lxml import etree
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.xml import codec
from adapters.xml.hardened import XmlRejected, iterparse_records
from hub.acts.models import ActReport
from hub.acts.repository import ActReportRepository
from hub.database import analyze_tables
from hub.kit.db import RowBuffer
from hub.kit.errors import ErrorItem
from hub.ledger.models import LedgerEntry, LedgerTransaction
from hub.messaging import service
from hub.messaging.inbound import XML, InboundProcessor, Outcome, Received
from hub.messaging.models import InboxEntry, MessageEvent, OutboxEntry, Receipt, Status, StoredMessage
from hub.messaging.service import AGENCY_PARTY, Envelope
from hub.offices.models import Office
from schemas import v1
from schemas.v1.xml_form import BATCH_RECORD, BATCH_ROOT, NAMESPACE

BATCH_KIND = "act_report_batch"
CHUNK = 500
# An answer lists the records of at most this many places of the file (the POST's answer: the first
# ones; GET /v1/batches/{id}: a page from ``after``), so a file of any size gets an answer of
# bounded size, and the run's memory stays flat. The counts are always of the whole file.
LISTED = 1000
RECORD_KINDS = frozenset({"act_report"})  # an actReportBatch carries act reports only
# The tables a chunk writes, analysed after the 1st, 2nd, 4th, 8th... chunk (PostgreSQL): planned on
# statistics of the empty tables ``hub migrate`` analysed, each chunk's look-ups (the inbox, the
# references used) and the foreign keys' checks scanned all that the file had added so far, so a
# big file slowed with its own size until autovacuum's next analyze.
WRITTEN = frozenset(
    t.__tablename__
    for t in (
        StoredMessage,
        MessageEvent,
        InboxEntry,
        Receipt,
        OutboxEntry,
        ActReport,
        LedgerTransaction,
        LedgerEntry,
    )
)
# What became of the file as a whole (each record has its own outcome): ``complete``, read to its
# end; ``incomplete``, it stopped being readable at ``stopped_at`` (the records before it were
# each processed, nothing after it was read: fix the file and send it whole again, the records
# already accepted come back as duplicates); ``running``, still being read (``GET`` only).
FILE_STATUSES = ("complete", "incomplete", "running")


@dataclass
class BatchResult:
    batch_id: uuid.UUID
    # ``listed``: records are listed up to this place in the file (the HTTP answer), the rest only
    # counted. None: no accepted record is listed and every refused one is (the command line prints
    # them), so memory does not grow with the number of good records.
    listed: int | None = LISTED
    accepted_count: int = 0
    refused_count: int = 0
    records: int = 0  # places of the file seen (or, read back, of the whole batch)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    file_errors: list[dict[str, Any]] = field(default_factory=list)  # the file stopped being readable
    file_status: str = "complete"  # see FILE_STATUSES
    stopped_at: dict[str, Any] | None = None  # incomplete: {"record", "line"} where reading stopped

    def stop(self, errors: list[ErrorItem], records_read: int) -> None:
        """The file stopped being readable after ``records_read`` records: those were each
        processed, nothing after them was read."""
        self.file_errors = [e.as_dict() for e in errors]
        self.file_status = "incomplete"
        self.stopped_at = {"record": records_read + 1, "line": errors[0].line if errors else None}

    @property
    def next_after(self) -> int | None:
        """Where the listing stopped short of the file's end (``GET /v1/batches/{id}?after=``)."""
        return self.listed if self.listed is not None and self.records > self.listed else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": str(self.batch_id),
            "accepted_count": self.accepted_count,
            "refused_count": self.refused_count,
            "accepted": self.accepted,
            "refused": self.refused,
            "file_status": self.file_status,
            "file_errors": self.file_errors,
            "stopped_at": self.stopped_at,
            "next_after": self.next_after,
        }


async def start_batch(
    session: AsyncSession, office: Office, sha256: str, *, reference: str | None = None
) -> StoredMessage:
    """The batch's own message: its records point at it. The file itself is not kept (its records
    are, each as received), only its SHA-256."""
    message_id = reference or f"BATCH-{uuid.uuid4().hex}"
    batch = await service.store_inbound(
        session, Envelope(message_id[:64], BATCH_KIND, office.code, AGENCY_PARTY), b"", XML
    )
    assert isinstance(batch, StoredMessage)  # not staged: the chunks' records point at it
    batch.sha256 = sha256
    return batch


async def run_batch(
    sessions: async_sessionmaker[AsyncSession],
    processor: InboundProcessor,
    office: Office,
    batch_pk: uuid.UUID,
    stream: BinaryIO,
    *,
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
    listed: int | None = LISTED,
) -> BatchResult:
    """Sends every record of ``stream`` through ``processor`` as a child of the batch message."""
    result = BatchResult(batch_pk, listed=listed)
    records = iterparse_records(
        stream, f"{{{NAMESPACE}}}{BATCH_RECORD}", root_tag=f"{{{NAMESPACE}}}{BATCH_ROOT}"
    )
    index = 0
    chunks = 0
    finished = False
    while not finished:
        raws: list[Received] = []
        while len(raws) < chunk:
            try:
                raws.append(_record(next(records), batch_pk))
            except StopIteration:
                finished = True
                break
            except XmlRejected as exc:
                errors = [ErrorItem(e.path or "/", e.code, e.message, e.line) for e in exc.errors]
                result.stop(errors, index + len(raws))
                finished = True
                break
        async with sessions() as session, session.begin():
            # The chunk's insert-only rows, one executemany per table; its records' lifecycle folded.
            rows = RowBuffer.open(session, fold_lifecycle=True)
            receipts = service.ChunkReceipts.open(session, rows, processor.signer, batch_pk)
            try:
                outcomes = await processor.receive_many(
                    session,
                    office,
                    raws,
                )
                for outcome in outcomes:
                    index += 1
                    _tally(result, index, outcome)
                if finished:
                    await _finish(session, result, index)
                await rows.write()
            finally:
                receipts.close()
                rows.close()
        session.expunge_all()
        chunks += 1
        if not finished and chunks & (chunks - 1) == 0:
            await analyze_tables(sessions, WRITTEN, written=index)  # at least a row a record each
        if progress is not None:
            progress(index)
    return result


async def _finish(session: AsyncSession, result: BatchResult, index: int) -> None:
    batch = await session.get(StoredMessage, result.batch_id)
    assert batch is not None
    detail = f"{result.accepted_count} accepted, {result.refused_count} refused"
    if result.file_errors:
        where = result.stopped_at or {}
        line = f" (line {where['line']})" if where.get("line") else ""
        detail += (
            f"; incomplete: the file stopped at record {index + 1}{line}, nothing after it read: "
            f"{result.file_errors[0]['message']}"
        )
        # Rejected: the file as a whole was not read, whatever its records became.
        await service.record(session, batch, Status.REJECTED, detail=detail[:500])
        return
    await service.record(session, batch, Status.VALIDATED, detail=detail[:500])


def _record(record: etree._Element, batch_pk: uuid.UUID) -> Received:
    """A record of the file as the processor receives it: its bytes (stored, hashed, receipted) and,
    when it is valid, the act report read from the element the file's parser built, so it is not
    parsed again from its bytes. An invalid one is read again from its bytes, so its errors (lines
    counted from the record's start) are those of the record sent alone."""
    parent = record.getparent()
    if parent is None or etree.QName(parent).localname != BATCH_ROOT or parent.getparent() is not None:
        # Still sent through the processor, which refuses and receipts it like any message.
        return Received(b"<misplaced/>", XML, parent_id=batch_pk, kinds=RECORD_KINDS, transport="batch")
    raw = etree.tostring(record, encoding="utf-8", xml_declaration=False)
    try:
        # Read in place, no copy: lxml validates an element as the root of a document of its own
        # (its ancestors' namespaces copied), as it validates a standalone copy of it.
        decoded: v1.MessageModel | None = codec.decode_element(record)
    except XmlRejected:
        decoded = None
    return Received(raw, XML, parent_id=batch_pk, kinds=RECORD_KINDS, decoded=decoded, transport="batch")


def _tally(result: BatchResult, index: int, outcome: Outcome) -> None:
    result.records = index
    accepted = outcome.accepted and not outcome.duplicate
    if accepted:
        result.accepted_count += 1
    else:
        result.refused_count += 1
    if result.listed is None:
        if accepted:
            return
    elif index > result.listed:
        return
    entry: dict[str, Any] = {
        "index": index,
        "message_id": outcome.message.message_id,
        "id": str(outcome.message.id),
    }
    if accepted:
        result.accepted.append(entry)
    else:
        errors = (
            outcome.receipt.errors
            if not outcome.duplicate
            else [
                {"path": "/", "code": "message.duplicate", "message": "this message id was already received"}
            ]
        )
        result.refused.append({**entry, "status": outcome.status, "errors": errors})


async def stored_result(
    session: AsyncSession, batch: StoredMessage, *, after: int = 0, limit: int = LISTED
) -> BatchResult:
    """The result of a batch from its records' receipts: the counts of the whole file, and the
    records of places ``after`` + 1 to ``after`` + ``limit``."""
    repo = ActReportRepository(session)
    accepted_count, refused_count = await repo.batch_counts(batch.id)
    result = BatchResult(
        batch.id,
        listed=after + limit,
        accepted_count=accepted_count,
        refused_count=refused_count,
        records=accepted_count + refused_count,
        file_status=_FILE_STATUS.get(batch.status, "running"),
    )
    page = await repo.batch_records(batch.id, after=after, limit=limit)
    for index, (message_id, pk, accepted, errors) in enumerate(page, start=after + 1):
        entry: dict[str, Any] = {"index": index, "message_id": message_id, "id": str(pk)}
        if accepted:
            result.accepted.append(entry)
        else:
            result.refused.append({**entry, "errors": errors})
    return result


_FILE_STATUS = {Status.VALIDATED.value: "complete", Status.REJECTED.value: "incomplete"}


def sha256_stream(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(1 << 16), b""):
        digest.update(block)
    stream.seek(0)
    return digest.hexdigest()
