"""The ledger's state machine (see ``machine.py``): in memory, and on SQLite and PostgreSQL.

How many random sequences run: ``HUB_LEDGER_PURE_SEQUENCES`` in memory (default 2,500) and
``HUB_LEDGER_SEQUENCES`` on each database (default 150); ``HUB_LEDGER_STEPS`` is the most steps in
one sequence (default 10). The defaults keep ``make test`` quick; the issue's 10,000 sequences:

    HUB_LEDGER_PURE_SEQUENCES=10000 HUB_LEDGER_SEQUENCES=10000 .venv/bin/python -m pytest -s \
        tests/hub/ledger/test_machine.py

Hypothesis itself costs about 0.7 ms a step, so 10,000 sequences take minutes even in memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from hub.database import create_engine
from tests.hub.ledger.ledgers import DatabaseLedger, EventLoopThread, PureLedger
from tests.hub.ledger.machine import Ledger, LedgerMachine

PURE_SEQUENCES = int(os.environ.get("HUB_LEDGER_PURE_SEQUENCES", "2500"))
SEQUENCES = int(os.environ.get("HUB_LEDGER_SEQUENCES", "150"))
STEPS = int(os.environ.get("HUB_LEDGER_STEPS", "10"))


def machine_settings(sequences: int) -> settings:
    return settings(
        max_examples=sequences,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


def run(make: Callable[[], Ledger], sequences: int) -> None:
    """Runs the machine; counts sequences and checks without keeping finished machines alive."""
    ran = {"sequences": 0, "checks": 0}
    last: list[LedgerMachine] = []

    def factory() -> LedgerMachine:
        if last:
            ran["checks"] += last.pop().count
        ran["sequences"] += 1
        last.append(LedgerMachine(make()))
        return last[0]

    run_state_machine_as_test(factory, settings=machine_settings(sequences))
    ran["checks"] += sum(m.count for m in last)
    print(f"\n{ran['sequences']} sequences, {ran['checks']} checks of every invariant")
    assert ran["sequences"] >= sequences


def test_random_postings_and_reversals_in_memory() -> None:
    run(PureLedger, PURE_SEQUENCES)


def test_random_postings_and_reversals_on_the_database(database_url: str) -> None:
    runner = EventLoopThread()
    engine = create_engine(database_url)
    try:
        run(lambda: DatabaseLedger(runner, engine), SEQUENCES)
    finally:
        runner.run(engine.dispose())
        runner.close()
