"""``Assessor`` remembers verdicts by the case as the rules read it (``history_read``): for any run of
reports on a few cases, each history growing as a batch chunk's does, every verdict it gives is the
one ``assess`` gives for the whole history."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.recovery.facts import ActRecord, CaseFacts, OutcomeCode
from hub.recovery.plausibility import Assessor, assess, history_read
from hub.recovery.recovery_rates import learn_recovery_rates
from hub.tariff.catalogue import load_catalogue
from tests.hub.recovery.cases import ON, case
from tests.hub.recovery.test_plausibility_properties import ACTS, cases

# Few distinct acts, so a run repeats some (what the memory is for) and differs by others.
acts = st.builds(
    ActRecord,
    act_code=st.sampled_from(ACTS),
    on=st.sampled_from([ON - timedelta(days=400), ON - timedelta(days=30), ON, ON + timedelta(days=1)]),
    outcome=st.none() | st.sampled_from(list(OutcomeCode)),
    office=st.none() | st.just("A"),
    seized_cents=st.sampled_from([0, 5_000]),
    reference=st.none() | st.just("R-1"),
)
# A run: which case (of two) each report is on, and which act of a small pool it reports, so a run
# repeats acts (what the memory is for) and its histories differ in one act here and there.
pools = st.lists(acts, min_size=2, max_size=5, unique=True)
runs = st.lists(
    st.tuples(st.integers(0, 1), st.integers(0, 4), st.sampled_from([None, "A"])), min_size=3, max_size=30
)
learned = st.lists(st.tuples(acts, st.integers(1, 1_000_000)), max_size=6)


def _newest_first(acts: tuple[ActRecord, ...], new: ActRecord) -> tuple[ActRecord, ...]:
    """How a chunk keeps a case's acts: the new one first, then sorted by date, stable."""
    return tuple(sorted((new, *acts), key=lambda record: record.on, reverse=True))


@settings(max_examples=100, deadline=None)
@given(st.lists(cases, min_size=2, max_size=2), pools, runs, learned)
def test_a_remembered_verdict_is_the_one_assess_gives(
    facts: list[CaseFacts], pool: list[ActRecord], run: list[tuple[int, int, str | None]], reports: Any
) -> None:
    _check_run(Assessor(rates=learn_recovery_rates(reports)), facts, pool, run)


@settings(max_examples=50, deadline=None)
@given(st.lists(cases, min_size=2, max_size=2), pools, runs, st.sampled_from([1, len(ACTS), 2 * len(ACTS)]))
def test_an_assessor_that_keeps_few_verdicts_gives_assess_s_verdicts(
    facts: list[CaseFacts], pool: list[ActRecord], run: list[tuple[int, int, str | None]], kept: int
) -> None:
    """It forgets the verdicts used least recently and works them out again."""
    _check_run(Assessor(kept=kept), facts, pool, run)


def _check_run(
    assessor: Assessor, facts: list[CaseFacts], pool: list[ActRecord], run: list[tuple[int, int, str | None]]
) -> None:
    rates = assessor.rates
    for which, picked, office in run:
        reported = pool[picked % len(pool)]
        for act_code in ACTS:  # every act, on the day of the report, against the case so far
            remembered = assessor.assess(facts[which], act_code, reported.on, office=office)
            worked_out = assess(facts[which], act_code, reported.on, office=office, rates=rates)
            assert remembered == worked_out
            assert remembered.as_dict() == worked_out.as_dict()
        facts[which] = dataclasses.replace(facts[which], acts=_newest_first(facts[which].acts, reported))


def test_repeats_and_later_acts_are_not_read() -> None:
    served = ActRecord(act_code="SERVE_TITLE", on=date(2026, 3, 1), outcome=OutcomeCode.SERVED_IN_PERSON)
    later = ActRecord(act_code="BANK_GARNISHMENT", on=date(2026, 3, 2))
    facts = case(owed_cents=250_000, acts=(later, served, served))
    assert history_read(facts, date(2026, 3, 1)) == (served,)


def test_a_verdict_is_worked_out_once_per_case_as_read() -> None:
    served = ActRecord(act_code="SERVE_TITLE", on=ON, outcome=OutcomeCode.SERVED_IN_PERSON)
    assessor = Assessor()
    first = assessor.assess(case(owed_cents=250_000, acts=(served,)), "SERVE_TITLE", ON)
    again = assessor.assess(case(owed_cents=250_000, acts=(served, served)), "SERVE_TITLE", ON)
    other = assessor.assess(case(owed_cents=250_001, acts=(served,)), "SERVE_TITLE", ON)
    assert again is first
    assert other is not first and other.cost_cents >= 0


def test_the_verdicts_used_last_are_kept_up_to_the_bound() -> None:
    assessor = Assessor(kept=2)
    first, second, third = (case(owed_cents=250_000 + n) for n in range(3))
    kept = assessor.assess(first, "SERVE_TITLE", ON)
    forgotten = assessor.assess(second, "SERVE_TITLE", ON)
    assert assessor.assess(first, "SERVE_TITLE", ON) is kept  # used again: now the latest
    assessor.assess(third, "SERVE_TITLE", ON)  # one too many: the least recently used goes
    assert assessor.assess(first, "SERVE_TITLE", ON) is kept
    again = assessor.assess(second, "SERVE_TITLE", ON)
    assert again == forgotten and again is not forgotten  # worked out again, the same verdict


def test_messages_checked_with_one_snapshot_of_the_rates_share_an_assessor() -> None:
    catalogue = load_catalogue()
    snapshot = learn_recovery_rates([])
    shared = Assessor.of(snapshot, catalogue)
    verdict = shared.assess(case(), "SERVE_TITLE", ON)
    assert Assessor.of(snapshot, catalogue) is shared
    # The rates read again (equal or not): a new assessor, which remembers nothing of the old ones.
    fresh = Assessor.of(learn_recovery_rates([]), catalogue)
    assert fresh is not shared and fresh.assess(case(), "SERVE_TITLE", ON) is not verdict
