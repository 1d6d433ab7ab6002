"""Generated XML streams for the hardened parser's tests: never held whole in memory.

Run as ``python -m tests.adapters.xml.generated COUNT`` it streams a batch of COUNT records in a
fresh process and prints the growth of peak RSS, so tests can compare sizes without other tests'
peaks in the way (``ru_maxrss`` only ever grows).
"""

from __future__ import annotations

import io
import itertools
import json
import resource
import sys
from collections.abc import Iterable, Iterator

from adapters.xml.hardened import CHUNK_BYTES, iterparse_records

RECORD = b"<actReport><n>%d</n><pad>" + b"x" * 50 + b"</pad></actReport>\n"


class GeneratedStream(io.RawIOBase):
    """A binary stream over byte parts made on demand; ``size`` counts the bytes read so far."""

    def __init__(self, parts: Iterable[bytes]) -> None:
        self._parts: Iterator[bytes] = iter(parts)
        self._pending = b""
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            if not self._pending:
                self._pending = next(self._parts, b"")
                if not self._pending:
                    break
            n = min(len(view) - filled, len(self._pending))
            view[filled : filled + n] = self._pending[:n]
            self._pending = self._pending[n:]
            filled += n
        self.size += filled
        return filled


def batch_parts(count: int) -> Iterator[bytes]:
    records = (RECORD % i for i in range(count))
    return itertools.chain([b"<actReportBatch>\n"], records, [b"</actReportBatch>\n"])


def batch(count: int) -> io.BufferedReader:
    return io.BufferedReader(GeneratedStream(batch_parts(count)), CHUNK_BYTES)


def peak_rss_growth(count: int) -> dict[str, int]:
    """Peak RSS growth (KiB) while streaming ``count`` records, after a small warm-up stream."""
    for _ in iterparse_records(batch(2_000), "actReport"):
        pass
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stream = GeneratedStream(batch_parts(count))
    records = sum(1 for _ in iterparse_records(io.BufferedReader(stream, CHUNK_BYTES), "actReport"))
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    return {"records": records, "bytes": stream.size, "growth_kib": growth}


if __name__ == "__main__":
    print(json.dumps(peak_rss_growth(int(sys.argv[1]))))
