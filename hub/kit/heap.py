"""The process's long-lived objects, kept out of the garbage collector's full passes.

CPython's cyclic collector traverses every tracked object on each full pass. A hub process holds
about 250,000 that live as long as it does (its modules and its libraries': SQLAlchemy, pydantic,
lxml; the tariff and assumption tables), and a batch triggers a full pass about once per chunk of
500 records, as the chunk's rows survive the young collections: before they were frozen, a third of
a 10,000-record batch's CPU went to re-reading them (README, "Figures measured here")."""

from __future__ import annotations

import gc

_frozen = False


def freeze_long_lived() -> None:
    """Moves every object alive now out of the collector's reach (``gc.freeze``), once per process,
    after a full collection so that no garbage is kept. Called once the process is set up (``hub
    serve``'s startup, ``hub reports import`` before it reads the file): what is alive then lives
    for the process. Objects made later are collected as before."""
    global _frozen
    if _frozen:
        return
    gc.collect()
    gc.freeze()
    _frozen = True
