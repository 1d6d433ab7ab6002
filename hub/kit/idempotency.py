"""Stored answers to POSTs sent with an ``Idempotency-Key`` (per office, kept 24 h): the same key
and body get the first response again, byte for byte. A key whose request is still running is held
by a lease (``claim``, ``renewing``) that ends with its process: a crash never blocks a key for
longer than the lease."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Uuid,
    delete,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from hub.kit.clock import utcnow
from hub.kit.db import Base, Timestamped, UtcDateTime
from hub.kit.errors import Conflict, InvalidInput


class IdempotencyRecord(Timestamped, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (PrimaryKeyConstraint("office_id", "key", name="pk_idempotency_keys"),)

    office_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("offices.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path and body
    state: Mapped[str] = mapped_column(String(12))  # in_progress | done
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


KEEP_FOR = timedelta(hours=24)  # an answer is replayed this long
IN_PROGRESS = "in_progress"
DONE = "done"

log = structlog.get_logger()


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def request_hash(method: str, path: str, body_sha256: str) -> str:
    return hashlib.sha256(f"{method.upper()} {path} {body_sha256}".encode()).hexdigest()


def _new_record(office_id: uuid.UUID, key: str, fingerprint: str, held_for: timedelta) -> IdempotencyRecord:
    return IdempotencyRecord(
        office_id=office_id,
        key=key,
        request_hash=fingerprint,
        state=IN_PROGRESS,
        expires_at=utcnow() + held_for,
    )


def _answer(record: IdempotencyRecord, fingerprint: str) -> StoredResponse:
    """What an earlier request with the same key means for this one."""
    if record.request_hash != fingerprint:
        raise InvalidInput(
            "this Idempotency-Key was used with another request; use a new key for a new request",
            code="idempotency.key_reused",
        )
    if record.state != DONE or record.response_status is None:
        raise _in_progress()
    return StoredResponse(
        record.response_status, dict(record.response_headers or {}), record.response_body or b""
    )


async def _live(session: AsyncSession, office_id: uuid.UUID, key: str) -> IdempotencyRecord | None:
    record = await session.get(IdempotencyRecord, (office_id, key), populate_existing=True)
    if record is not None and record.expires_at <= utcnow():
        await session.delete(record)
        await session.flush()
        return None
    return record


async def claim_in(
    session: AsyncSession, office_id: uuid.UUID, key: str, fingerprint: str
) -> StoredResponse | None:
    """Claims ``key`` inside the request's own transaction (``None``: go ahead), or returns the
    first response to replay; 422 when the key came with another request, 409 while it runs.

    The claim, the work and the stored response commit together. Concurrent first requests collide
    on the primary key (office, key): on PostgreSQL the second waits on the first's uncommitted row
    for at most ``lock_timeout`` (then 409), or sees its committed answer and replays it."""
    record = await _live(session, office_id, key)
    if record is None:
        postgres = session.get_bind().dialect.name == "postgresql"
        try:
            async with session.begin_nested():
                if postgres:
                    await session.execute(text("SET LOCAL lock_timeout = '500ms'"))
                # Never seen in progress by another request: it commits with its answer (``complete``).
                session.add(_new_record(office_id, key, fingerprint, KEEP_FOR))
                await session.flush()
        except (IntegrityError, DBAPIError):
            record = await _live(session, office_id, key)
            if record is None:  # still running elsewhere: its row is locked, not yet committed
                raise _in_progress() from None
        else:
            if postgres:
                await session.execute(text("SET LOCAL lock_timeout = DEFAULT"))
            return None
    return _answer(record, fingerprint)


async def claim(
    sessions: async_sessionmaker[AsyncSession],
    office_id: uuid.UUID,
    key: str,
    fingerprint: str,
    *,
    lease: timedelta,
) -> StoredResponse | None:
    """Like ``claim_in``, for work that commits in several transactions of its own (batches): the
    claim is committed at once, so a second request sees it in progress (409), for ``lease``. The
    work keeps it while it runs (``renewing``); if its process dies, the lease runs out and a retry
    with the same key claims it again and runs the work (whose records are de-duplicated by their
    message ids: nothing is applied twice)."""
    try:
        async with sessions() as session, session.begin():
            record = await _live(session, office_id, key)
            if record is None:
                session.add(_new_record(office_id, key, fingerprint, lease))
                await session.flush()
                return None
            return _answer(record, fingerprint)
    except IntegrityError:  # a concurrent first request claimed it between our read and insert
        raise _in_progress() from None


@asynccontextmanager
async def renewing(
    sessions: async_sessionmaker[AsyncSession], office_id: uuid.UUID, key: str, *, lease: timedelta
) -> AsyncIterator[None]:
    """Renews the lease of a ``claim`` every third of it while the block runs (in transactions of
    its own), so that a long request keeps its key and a dead one loses it within ``lease``."""
    stop = asyncio.Event()

    async def renew() -> None:
        while True:
            try:
                await asyncio.wait_for(stop.wait(), timeout=lease.total_seconds() / 3)
                return
            except TimeoutError:
                pass
            try:
                async with sessions() as session, session.begin():
                    await session.execute(
                        update(IdempotencyRecord)
                        .where(
                            IdempotencyRecord.office_id == office_id,
                            IdempotencyRecord.key == key,
                            IdempotencyRecord.state == IN_PROGRESS,
                        )
                        .values(expires_at=utcnow() + lease)
                    )
            except (SQLAlchemyError, OSError) as error:  # tried again at the next third
                log.warning("idempotency_lease_not_renewed", key=key, error=str(error))

    renewer = asyncio.create_task(renew())
    try:
        yield
    finally:
        stop.set()
        await renewer


def _in_progress() -> Conflict:
    return Conflict(
        "a request with this Idempotency-Key is still being processed; retry later",
        code="idempotency.in_progress",
        headers={"Retry-After": "1"},
    )


async def complete(session: AsyncSession, office_id: uuid.UUID, key: str, response: StoredResponse) -> None:
    """Stores the response in the transaction of the work itself: both are committed, or neither."""
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.office_id == office_id, IdempotencyRecord.key == key)
        .values(
            state=DONE,
            expires_at=utcnow() + KEEP_FOR,
            response_status=response.status,
            response_headers=response.headers,
            response_body=response.body,
        )
    )


async def release(sessions: async_sessionmaker[AsyncSession], office_id: uuid.UUID, key: str) -> None:
    """The work failed without an answer to keep: the key may be used again."""
    async with sessions() as session, session.begin():
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.office_id == office_id,
                IdempotencyRecord.key == key,
                IdempotencyRecord.state == IN_PROGRESS,
            )
        )
