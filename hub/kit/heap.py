"""The garbage collector, set for a process that keeps a large heap for its lifetime and works in
chunks.

CPython's cyclic collector traverses every tracked object on each full pass. A hub process holds
about 250,000 that live as long as it does (its modules and its libraries': SQLAlchemy, pydantic,
lxml; the tariff and assumption tables), and a batch triggered a full pass about once per chunk of
500 records, its rows being promoted by the young collections (every 700 allocations) while the
chunk lasted: a third of a 10,000-record batch's CPU went to re-reading the process's own objects
(docs/performance.md, the batch)."""

from __future__ import annotations

import gc

# Young collections every this many allocations (CPython's default: 700). What a chunk allocates and
# drops in between is freed young, not promoted; the cyclic garbage left waiting is a few MB at most.
YOUNG_THRESHOLD = 10_000

_settled = False


def settle_collector() -> None:
    """Once per process, when it is set up (``hub serve``'s startup, ``hub reports import`` before it
    reads the file): every object alive then is moved out of the collector's reach (``gc.freeze``,
    after a full collection so that no garbage is kept: what is alive then lives for the process),
    and young collections run every ``YOUNG_THRESHOLD`` allocations. Objects made later are
    collected as before."""
    global _settled
    if _settled:
        return
    gc.collect()
    gc.freeze()
    _young, *older = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, *older)
    _settled = True
