"""The ledger's state machine (see ``machine.py``): in memory, and on SQLite and PostgreSQL.

How many random sequences run: ``HUB_LEDGER_PURE_SEQUENCES`` in memory and ``HUB_LEDGER_SEQUENCES``
on each database; ``HUB_LEDGER_STEPS`` is the most steps in one sequence (default 10). CI's
defaults are sized for its 30-minute budget: 1,500 in memory (about 20 s) and 120 per database
(about 12 s per engine on a quiet 2-core machine). The issue's full size, 10,000 sequences in
memory (about 2 minutes) and on each database (measured: 28 min on SQLite, 45 min on PostgreSQL,
the two side by side on a busy machine), is a documented command (README, "Full-size runs"):

    HUB_LEDGER_PURE_SEQUENCES=10000 HUB_LEDGER_SEQUENCES=10000 \
        .venv/bin/python -m pytest -s tests/hub/ledger/test_machine.py

Where the time goes: a database sequence is about 9 steps, each followed by the invariants' 15 or
so queries (every balance, statement and raw sum read back after every step is the point), about
0.2 s a sequence on SQLite and PostgreSQL alike; in memory, hypothesis's drawing and the model's
sums, about 10 ms. Each test's time limit grows with its sequence count (the suite's default is
300 s).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from hub.database import create_engine
from tests.hub.ledger.ledgers import DatabaseLedger, EventLoopThread, PureLedger
from tests.hub.ledger.machine import Ledger, LedgerMachine

PURE_SEQUENCES = int(os.environ.get("HUB_LEDGER_PURE_SEQUENCES", "1500"))
SEQUENCES = int(os.environ.get("HUB_LEDGER_SEQUENCES", "120"))
STEPS = int(os.environ.get("HUB_LEDGER_STEPS", "10"))


def time_limit(sequences: int, seconds_each: float) -> float:
    """Seconds for pytest-timeout: ``seconds_each`` is about 4 times the measured cost of one
    sequence of 10 steps (so a loaded CI machine still finishes), never below the suite's 300 s."""
    return max(300.0, 60 + sequences * seconds_each * STEPS / 10)


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


@pytest.mark.timeout(time_limit(PURE_SEQUENCES, 0.05))
def test_random_postings_and_reversals_in_memory() -> None:
    run(PureLedger, PURE_SEQUENCES)


@pytest.mark.timeout(time_limit(SEQUENCES, 1.0))  # 10,000 sequences: 10,060 s
def test_random_postings_and_reversals_on_the_database(database_url: str) -> None:
    runner = EventLoopThread()
    engine = create_engine(database_url)
    try:
        runner.drive(lambda: run(lambda: DatabaseLedger(engine), SEQUENCES))
    finally:
        runner.run(engine.dispose())
        runner.close()
