"""The tallies a trigger keeps as act reports are inserted give exactly what aggregating the act
reports gives: the same learned expected recovery (each report's money over its case's balance),
the same acts reported per mandate, whichever way the reports were written (one ORM flush each, or
one multi-row INSERT as a batch chunk writes them)."""

from __future__ import annotations

import itertools
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import ActReport
from hub.cases.models import Case
from hub.mandates.repository import MandateRepository
from hub.mandates.service import learned_rates, lifecycle, recent_learned_rates
from hub.messaging import service as messaging
from hub.messaging.service import Envelope
from hub.offices.models import Office
from hub.recovery.facts import ActRecord
from hub.recovery.recovery_rates import learn_recovery_rates
from schemas.v1.outcomes import OutcomeCode
from tests.hub.acts.factories import Seeded, seed

ACTS = ("BANK_GARNISHMENT", "SERVE_TITLE", "PAYMENT_ORDER")
OUTCOMES = ("garnishment_empty", "garnishment_fruitful", "served", "no_such_outcome")


async def _message(session: AsyncSession, office: str) -> uuid.UUID:
    stored = await messaging.store_inbound(
        session,
        Envelope(f"T-{uuid.uuid4().hex[:12]}", "act_report", office, "AGENCY"),
        b"{}",
        "application/json",
    )
    return stored.id


async def _reports(session: AsyncSession, seeded: Seeded, count: int, start: int) -> list[dict[str, object]]:
    """``count`` act reports under the mandate, every act, outcome and money case in turn."""
    rows = []
    cases = itertools.islice(itertools.cycle(itertools.product(ACTS, OUTCOMES, (0, 0, 5_000))), start, None)
    for n, (act, outcome, money) in zip(range(count), cases, strict=False):
        await session.flush()
        rows.append(
            {
                "id": uuid.uuid4(),
                "mandate_id": seeded.mandate.id,
                "case_id": seeded.case.id,
                "office_id": seeded.office.id,
                "message_pk": await _message(session, seeded.office.code),
                "act_code": act,
                "act_date": date(2026, 3, 1),
                "outcome_code": outcome,
                "office_reference": f"T/{start + n}",
                "currency": "EUR",
                "seized_cents": money if n % 2 else 0,
                "collected_cents": 0 if n % 2 else money,
                "flagged": False,
            }
        )
    return rows


async def _aggregated(session: AsyncSession) -> list[tuple[ActRecord, int]]:
    """Every stored act report as the rules read them, with its case's balance: what expected
    recovery is learned from. Every report counts, whatever its outcome: success is money."""
    rows = await session.execute(
        select(ActReport.act_code, Office.code, ActReport.outcome_code, ActReport.seized_cents)
        .add_columns(ActReport.collected_cents, Case.principal_cents, Case.interest_cents)
        .add_columns(Case.costs_cents, Case.paid_cents)
        .join(Office, Office.id == ActReport.office_id)
        .join(Case, Case.id == ActReport.case_id)
    )
    known = {o.value for o in OutcomeCode}
    return [
        (
            ActRecord(
                act_code=act,
                on=date(2026, 3, 1),
                outcome=OutcomeCode(outcome) if outcome in known else OutcomeCode.REFUSED_OTHER,
                office=office,
                seized_cents=seized,
                collected_cents=collected,
            ),
            max(principal + interest + costs - paid, 0),
        )
        for act, office, outcome, seized, collected, principal, interest, costs, paid in rows.all()
    ]


async def test_tallies_give_the_rates_and_counts_the_aggregate_gave(session: AsyncSession) -> None:
    first = await seed(session, kind="whole_file")
    second = await seed(session, kind="per_act")
    one_by_one = await _reports(session, first, 20, 0)
    for row in one_by_one:
        session.add(ActReport(**row))
        await session.flush()
    # A batch chunk's way: one statement for many rows (the PostgreSQL trigger runs once for them).
    await session.execute(insert(ActReport), await _reports(session, second, 30, 7))
    await session.execute(insert(ActReport), await _reports(session, first, 9, 40))

    rates = await learned_rates(session)
    expected = learn_recovery_rates(await _aggregated(session))
    assert rates.overall == expected.overall and rates.by_office == expected.by_office
    assert rates.overall  # not vacuous: reports of every act were learned from
    assert any(t.recovered_bp for t in rates.overall.values())  # and money was counted
    for act, office in itertools.product(ACTS, (first.office.code, second.office.code, None)):
        assert rates.rate(act, office) == expected.rate(act, office)

    counted = await session.execute(
        select(ActReport.mandate_id, ActReport.act_code, func.count()).group_by(
            ActReport.mandate_id, ActReport.act_code
        )
    )
    by_mandate: dict[uuid.UUID, Counter[str]] = {first.mandate.id: Counter(), second.mandate.id: Counter()}
    for mandate_id, act, n in counted.all():
        if mandate_id in by_mandate:
            by_mandate[mandate_id][act] += n
    assert await MandateRepository(session).acts_reported(list(by_mandate)) == by_mandate
    assert sum(by_mandate[second.mandate.id].values()) == 30


@pytest.fixture
def snapshot_for_a_minute() -> Iterator[lifecycle.LearnedRatesSnapshot]:
    lifecycle.RATES.configure(60)
    try:
        yield lifecycle.RATES
    finally:
        lifecycle.RATES.clock = time.monotonic
        lifecycle.RATES.configure(0)  # as every other test runs (tests/conftest.py)


async def test_each_message_reuses_the_rates_read_in_the_last_seconds_then_reads_them_again(
    session: AsyncSession,
    snapshot_for_a_minute: lifecycle.LearnedRatesSnapshot,
) -> None:
    seeded = await seed(session, kind="whole_file")
    first = await recent_learned_rates(session)
    await session.execute(insert(ActReport), await _reports(session, seeded, 12, 0))
    fresh = await learned_rates(session)
    assert fresh.overall != first.overall  # the reports changed what is learned

    assert await recent_learned_rates(session) is first  # within the minute: no read
    later = time.monotonic() + 61
    snapshot_for_a_minute.clock = lambda: later
    again = await recent_learned_rates(session)
    assert again is not first and again.overall == fresh.overall

    snapshot_for_a_minute.configure(0)  # HUB_LEARNED_RATES_SECONDS=0: read for every message
    assert await recent_learned_rates(session) is not await recent_learned_rates(session)
