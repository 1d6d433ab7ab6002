"""The bodies of a case's messages, sealed with the case's data key (docs/adr/0015-personal-data.md).

A message that concerns a case (a mandate, an act report, a case update...) is stored with the case's
id and its body sealed (AES-256-GCM, bound to the message's row id); its ``sha256`` is still the hash
of the bytes received or sent, which its receipt signs. Readers get the original bytes through
``open_body``/``open_bodies`` while the key exists, and ``Gone`` (``message.erased``) once the case was
erased (``destroy_key``).

Cheap on the hot path: the keys a request or a batch chunk needs are read in one query
(``load_keys``) and kept in its session; the unwrapping of a key is cached in the process. The key's
row is read again by every request, so an erasure takes effect in every process at once.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from cryptography.exceptions import InvalidTag
from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.clock import utcnow
from hub.kit.crypto import DATA_KEY_BYTES, KeyWrap, new_data_key, open_bytes, seal_bytes
from hub.kit.errors import Gone
from hub.messaging.models import StoredMessage
from hub.messaging.repository import MessageRepository
from hub.settings import get_settings

_SESSION_KEYS = "hub.case_keys"
UNWRAP_CACHE = 4096  # unwrapped keys kept per process (32 bytes each)
_configured: list[str] = []  # the secrets the process was started with (``use_secret_key``)


def use_secret_key(secret_key: str, previous: Sequence[str] = ()) -> None:
    """The hub key of this process, and the earlier ones that may still open case keys wrapped
    before a rotation, from the settings it was started with (``create_app``); a command line
    process uses ``HUB_SECRET_KEY`` and ``HUB_PREVIOUS_SECRET_KEYS`` from its environment."""
    _configured[:] = [secret_key, *previous]


def _secret_keys() -> tuple[str, ...]:
    """The current secret first (it wraps new keys), then the previous ones (they only unwrap)."""
    if _configured:
        return tuple(_configured)
    settings = get_settings()
    return (settings.secret_key, *settings.previous_secrets())


def _secret_key() -> str:
    return _secret_keys()[0]


class SealedBody(Protocol):
    """What opening a stored body needs of its message: a ``StoredMessage``, or the columns of one
    read as a Core row (the relay's claim)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def body(self) -> bytes: ...
    @property
    def sealed(self) -> bool: ...
    @property
    def case_id(self) -> uuid.UUID | None: ...


class KeyUnusable(RuntimeError):
    """A case key that the hub's key does not open: HUB_SECRET_KEY is not the one that wrapped it."""


@lru_cache(maxsize=8)
def _wrap(secret_key: str) -> KeyWrap:
    return KeyWrap(secret_key)


@lru_cache(maxsize=UNWRAP_CACHE)
def _unwrap(secret_keys: tuple[str, ...], wrapped: bytes, case_id: uuid.UUID) -> bytes:
    """The case's data key, opened with the current secret or, after a rotation, an earlier one."""
    for secret_key in secret_keys:
        try:
            return _wrap(secret_key).unwrap(wrapped, case_id.bytes)
        except InvalidTag:
            continue
    raise KeyUnusable(
        f"the data key of case {case_id} does not open with HUB_SECRET_KEY nor any of "
        "HUB_PREVIOUS_SECRET_KEYS: it was wrapped with another secret; give that one in "
        "HUB_PREVIOUS_SECRET_KEYS"
    )


def _session_keys(session: AsyncSession) -> dict[uuid.UUID, bytes | None]:
    """Case id -> its data key, or None once erased, for the cases this session read."""
    keys: dict[uuid.UUID, bytes | None] = session.sync_session.info.setdefault(_SESSION_KEYS, {})
    return keys


async def load_keys(session: AsyncSession, case_ids: Iterable[uuid.UUID | None], *, create: bool) -> None:
    """Reads the keys of ``case_ids`` this session does not hold yet, in one query; ``create``: gives
    a new key to each case that has none (a writer about to seal its first message)."""
    if unusable := await _load_keys(session, case_ids, create=create):
        raise next(iter(unusable.values()))


async def _load_keys(
    session: AsyncSession, case_ids: Iterable[uuid.UUID | None], *, create: bool
) -> dict[uuid.UUID, KeyUnusable]:
    """``load_keys``; the keys no secret opens are not kept, and returned with their error."""
    keys = _session_keys(session)
    wanted = {c for c in case_ids if c is not None and c not in keys}
    if not wanted:
        return {}
    repo = MessageRepository(session)
    if create and len(wanted) == 1 and repo.adds_case_keys_in_one_statement:
        # One message's case (its first message is often a mandate: it has no key yet): a key made
        # for it (4 microseconds), kept only if it has none, in one statement instead of a read and
        # then an insert. Many cases at once (a batch chunk's, which mostly have keys) are read first:
        # no key made for nothing.
        secret = _secret_key()
        found = await repo.case_keys_added({c: _wrap(secret).wrap(new_data_key(), c.bytes) for c in wanted})
        if lost := wanted - found.keys():
            found |= await repo.case_keys(lost)  # a concurrent writer's keys: it won the insert
        return _remember(session, found)
    found = await repo.case_keys(wanted)
    missing = wanted - found.keys()
    if create and missing:
        secret = _secret_key()
        new = {c: _wrap(secret).wrap(new_data_key(), c.bytes) for c in missing}
        inserted = await repo.add_case_keys([{"case_id": c, "wrapped_key": k} for c, k in new.items()])
        found |= {c: new[c] for c in inserted}
        if lost := missing - inserted:
            found |= await repo.case_keys(lost)  # a concurrent writer's keys: it won the insert
    return _remember(session, found)


def remember_keys(session: AsyncSession, wrapped: Mapping[uuid.UUID, bytes | None]) -> None:
    """Keys read by another query (the case resolver joins them to the cases it finds), so that
    ``load_keys`` does not read them again; None: the case's key was erased."""
    if unusable := _remember(session, wrapped):
        raise next(iter(unusable.values()))


def _remember(
    session: AsyncSession, wrapped: Mapping[uuid.UUID, bytes | None]
) -> dict[uuid.UUID, KeyUnusable]:
    """``remember_keys``; the keys no secret opens are not kept, and returned with their error."""
    keys = _session_keys(session)
    secrets = _secret_keys()
    unusable: dict[uuid.UUID, KeyUnusable] = {}
    for case_id, sealed in wrapped.items():
        if case_id in keys:
            continue
        try:
            keys[case_id] = None if sealed is None else _unwrap(secrets, sealed, case_id)
        except KeyUnusable as error:
            unusable[case_id] = error
    return unusable


def seal_for(session: AsyncSession, case_id: uuid.UUID, message_pk: uuid.UUID, body: bytes) -> bytes:
    """``body`` sealed with the case's key (``load_keys`` first, with ``create``). A message that
    arrives for an erased case is sealed with a key thrown away at once: never readable."""
    key = _session_keys(session).get(case_id)
    if key is None:
        key = os.urandom(DATA_KEY_BYTES)
    return seal_bytes(key, body, message_pk.bytes)


async def open_bodies(
    session: AsyncSession, messages: Collection[SealedBody]
) -> dict[uuid.UUID, bytes | None]:
    """Each message's original bytes, or None for a message of an erased case; one query for the
    keys of all their cases."""
    await load_keys(session, {m.case_id for m in messages if m.sealed}, create=False)
    return _open(session, messages)


async def open_bodies_apart(
    session: AsyncSession, messages: Collection[SealedBody]
) -> tuple[dict[uuid.UUID, bytes | None], set[uuid.UUID]]:
    """``open_bodies``, but a case key that no secret opens fails only its own messages (a pusher
    sends the others): the bodies of the messages that open, and the ids of those that do not."""
    unusable = await _load_keys(session, {m.case_id for m in messages if m.sealed}, create=False)
    unreadable = {m.id for m in messages if m.sealed and m.case_id in unusable}
    return _open(session, [m for m in messages if m.id not in unreadable]), unreadable


def _open(session: AsyncSession, messages: Collection[SealedBody]) -> dict[uuid.UUID, bytes | None]:
    """The bodies of ``messages``, their cases' keys in the session (``load_keys``)."""
    keys = _session_keys(session)
    bodies: dict[uuid.UUID, bytes | None] = {}
    for m in messages:
        if not m.sealed:
            bodies[m.id] = m.body
            continue
        key = keys.get(m.case_id) if m.case_id is not None else None
        bodies[m.id] = None if key is None else open_bytes(key, m.body, m.id.bytes)
    return bodies


def erased(message: StoredMessage) -> Gone:
    return Gone(
        f"message {message.id} belonged to a case whose personal data was erased: its content is "
        "gone; its hash and signed receipt remain",
        code="message.erased",
    )


async def open_body(session: AsyncSession, message: StoredMessage) -> bytes:
    """The message's original bytes, or ``Gone`` (``message.erased``)."""
    body = (await open_bodies(session, [message]))[message.id]
    if body is None:
        raise erased(message)
    return body


async def is_erased(session: AsyncSession, message: StoredMessage) -> bool:
    return (await open_bodies(session, [message]))[message.id] is None


async def destroy_key(session: AsyncSession, case_id: uuid.UUID) -> None:
    """Erases the case's key (and with it every body it sealed); a case with no key yet gets an
    erased one, so a message arriving later is never readable either."""
    await MessageRepository(session).erase_case_key(case_id, utcnow())
    _session_keys(session)[case_id] = None
    _unwrap.cache_clear()  # rare; no unwrapped copy of the key stays in this process


@dataclass
class Rewrapped:
    """What ``rewrap_case_keys`` did, added up over its batches."""

    rewrapped: int = 0  # wrapped again with the current secret
    current: int = 0  # wrapped with it already
    skipped: int = 0  # erased or replaced by another process meanwhile: left as they are
    unusable: list[uuid.UUID] = field(default_factory=list)  # no secret given opens them

    def add(self, other: Rewrapped) -> None:
        self.rewrapped += other.rewrapped
        self.current += other.current
        self.skipped += other.skipped
        self.unusable += other.unusable


REWRAP_BATCH = 500  # case keys per transaction: short ones, so that the hub's writers get their turn


async def rewrap_case_keys(
    session: AsyncSession, *, after: uuid.UUID | None = None, limit: int = REWRAP_BATCH
) -> tuple[Rewrapped, uuid.UUID | None]:
    """After ``HUB_SECRET_KEY`` was rotated: the next ``limit`` case keys (by case id, after the case
    ``after``) that a previous secret wrapped, wrapped again with the current one, so that the
    previous secret can be dropped from ``HUB_PREVIOUS_SECRET_KEYS``. The data keys themselves do
    not change: no message body is touched. Each key is replaced only if it is still the one read
    (an erasure meanwhile wins). Returns what it did and the cursor of the next batch (None: done)."""
    secrets = _secret_keys()
    current = _wrap(secrets[0])
    repo = MessageRepository(session)
    done = Rewrapped()
    rows = await repo.live_case_keys(after=after, limit=limit)
    for case_id, wrapped in rows:
        try:
            current.unwrap(wrapped, case_id.bytes)
        except InvalidTag:
            pass
        else:
            done.current += 1
            continue
        try:
            data_key = _unwrap(secrets[1:], wrapped, case_id)  # the current one does not open it
        except KeyUnusable:
            done.unusable.append(case_id)
            continue
        if await repo.replace_case_key(case_id, wrapped, current.wrap(data_key, case_id.bytes)):
            done.rewrapped += 1
        else:
            done.skipped += 1
    return done, rows[-1][0] if len(rows) == limit else None


async def count_case_keys(session: AsyncSession) -> int:
    """Case keys not erased: what ``rewrap_case_keys`` walks."""
    return await MessageRepository(session).count_live_case_keys()
