"""Random ids (UUID version 4, as ``uuid.uuid4`` makes them) drawn from the operating system's random
bytes read 4 KiB at a time: a batch record takes several ids, and a system call for each cost more
than all the rest of making one."""

from __future__ import annotations

import os
import threading
import uuid

_READ = 4096  # bytes per read: 256 ids
_lock = threading.Lock()
_bytes = b""
_at = 0


def new_uuid() -> uuid.UUID:
    """A random UUID (version 4): 122 bits from ``os.urandom``, like ``uuid.uuid4()``."""
    global _bytes, _at
    with _lock:
        if _at >= len(_bytes):
            _bytes, _at = os.urandom(_READ), 0
        raw = _bytes[_at : _at + 16]
        _at += 16
    return uuid.UUID(bytes=raw, version=4)


def _forget() -> None:
    """A forked child never takes the ids its parent has left in the buffer."""
    global _bytes, _at
    _bytes, _at = b"", 0


os.register_at_fork(after_in_child=_forget)
