"""Act reports on the inbound path: meaning checks (every error listed) and effects in one transaction."""

from __future__ import annotations

import itertools
import json
import random
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import ActReport, RecordedAct
from hub.acts.repository import ActReportRepository
from hub.acts.service import ReportReads
from hub.bootstrap import inbound_processor
from hub.ledger.models import LedgerEntry
from hub.ledger.repository import LedgerRepository
from hub.mandates.models import Mandate, MandateEvent
from hub.messaging.inbound import Received
from hub.messaging.signing import ReceiptSigner
from hub.recovery.facts import ActRecord
from schemas.v1.outcomes import OutcomeCode
from tests.hub.acts.factories import office_code, report_json, seed
from tests.hub.finance.factories import act

SIGNER = ReceiptSigner("r" * 40)
JSON = "application/json"


async def count(session: AsyncSession, model: type) -> int:
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_an_accepted_report_is_recorded_with_postings_cost_check_and_mandate_in_progress(
    session: AsyncSession,
) -> None:
    s = await seed(session)
    raw = report_json(s.office.code, s.mandate.ref, collected_cents=12_345)
    outcome = await inbound_processor(SIGNER).receive(session, s.office, Received(raw, JSON))
    assert outcome.accepted, outcome.receipt.errors

    act = (
        await session.execute(select(ActReport).where(ActReport.message_pk == outcome.message.id))
    ).scalar_one()
    assert (act.act_code, act.emoluments_cents, act.vat_cents, act.collected_cents) == (
        "SERVE_TITLE",
        5158,
        1032,
        12_345,
    )
    assert act.assessment is not None and "available" in act.assessment
    ledger = LedgerRepository(session)
    assert await ledger.balance("payable_to_office", office_id=s.office.id) == -(5158 + 880 + 1032)
    assert await ledger.balance("collected_by_office", office_id=s.office.id) == 12_345
    entries = await ledger.entries_of(f"act_report:{act.id}")
    assert sum(e.amount_cents for e in entries) == 0 and all(type(e.amount_cents) is int for e in entries)

    await session.refresh(s.mandate)
    assert s.mandate.status == "in_progress"
    event = (
        await session.execute(select(MandateEvent).where(MandateEvent.mandate_id == s.mandate.id))
    ).scalar_one()
    assert (event.from_status, event.to_status) == ("issued", "in_progress")


async def test_another_offices_mandate_is_not_found_like_an_unknown_one(session: AsyncSession) -> None:
    mine, theirs = await seed(session), await seed(session)
    processor = inbound_processor(SIGNER)
    for ref in (theirs.mandate.ref, "M-NOPE"):
        raw = report_json(mine.office.code, ref, n=ref)
        outcome = await processor.receive(session, mine.office, Received(raw, JSON))
        assert outcome.status == 404
        assert [e["code"] for e in outcome.receipt.errors] == ["mandate.not_found"]
    assert await count(session, ActReport) == 0


async def test_every_meaning_error_is_listed_and_nothing_is_written(session: AsyncSession) -> None:
    s = await seed(session, acts=["PAYMENT_ORDER"])
    entries_before = await count(session, LedgerEntry)
    raw = report_json(
        s.office.code,
        s.mandate.ref,
        act_date="2026-01-15",  # before the mandate was issued
        currency="USD",
        approval_id="APR-UNKNOWN",
    )
    outcome = await inbound_processor(SIGNER).receive(session, s.office, Received(raw, JSON))
    assert outcome.status == 422
    assert sorted(e["code"] for e in outcome.receipt.errors) == [
        "act.not_in_mandate",
        "act_date.before_mandate",
        "approval.unknown",
        "currency.mismatch",
    ]
    assert await count(session, ActReport) == 0
    assert await count(session, LedgerEntry) == entries_before
    assert (await session.get(Mandate, s.mandate.id)).status == "issued"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"act_code": "NOT_AN_ACT"}, "act.unknown"),
        ({"act_date": "2099-01-01"}, "act_date.in_future"),
    ],
)
async def test_each_meaning_error_has_a_stable_code(
    session: AsyncSession, changes: dict[str, str], code: str
) -> None:
    s = await seed(session)
    raw = report_json(s.office.code, s.mandate.ref, **changes)
    outcome = await inbound_processor(SIGNER).receive(session, s.office, Received(raw, JSON))
    assert outcome.status == 422 and [e["code"] for e in outcome.receipt.errors] == [code]


async def test_an_unknown_outcome_code_is_refused_never_skipped(session: AsyncSession) -> None:
    s = await seed(session)
    raw = report_json(s.office.code, s.mandate.ref, outcome_code="served_by_pigeon")
    outcome = await inbound_processor(SIGNER).receive(session, s.office, Received(raw, JSON))
    assert outcome.status == 422 and not outcome.accepted
    assert any("outcome_code" in e["path"] for e in outcome.receipt.errors)
    assert await count(session, ActReport) == 0


async def test_a_reused_office_reference_is_refused(session: AsyncSession) -> None:
    s = await seed(session)
    processor = inbound_processor(SIGNER)
    first = json.loads(report_json(s.office.code, s.mandate.ref, n=1))
    second = {**first, "envelope": {**first["envelope"], "message_id": "CR-other"}}
    assert (await processor.receive(session, s.office, Received(json.dumps(first).encode(), JSON))).accepted
    outcome = await processor.receive(session, s.office, Received(json.dumps(second).encode(), JSON))
    assert [e["code"] for e in outcome.receipt.errors] == ["act_report.reference_reused"]


async def test_a_whole_file_mandate_allows_any_catalogue_act(session: AsyncSession) -> None:
    s = await seed(session, kind="whole_file", acts=[], code=office_code())
    raw = report_json(s.office.code, s.mandate.ref, act_code="PAYMENT_ORDER")
    outcome = await inbound_processor(SIGNER).receive(session, s.office, Received(raw, JSON))
    assert outcome.accepted, outcome.receipt.errors


async def test_each_case_gives_only_its_latest_acts_newest_first(session: AsyncSession) -> None:
    """What the cost check reads: at most ``limit`` acts per case, the latest by act date, on both
    engines (PostgreSQL walks the index per case, SQLite ranks in a window)."""
    busy, quiet = await seed(session), await seed(session)
    start = date(2026, 3, 1)
    for day in random.Random(7).sample(range(60), 60):  # written out of date order
        await act(session, busy, start + timedelta(days=day), collected=day)
    for day in (3, 1, 2):
        await act(session, quiet, start + timedelta(days=day), collected=100 + day)

    rows = await ActReportRepository(session).recent_acts_on_cases([busy.case.id, quiet.case.id], limit=50)

    latest: dict[object, list[int]] = {busy.case.id: [], quiet.case.id: []}
    for row in rows:
        latest[row.case_id].append(row.collected_cents)
    assert latest[busy.case.id] == list(range(59, 9, -1))
    assert latest[quiet.case.id] == [103, 102, 101]


async def test_a_cases_latest_acts_come_as_runs_of_equal_acts_in_a_row(session: AsyncSession) -> None:
    """The same act reported again and again reads as one row with its number (``repeats``): the cost
    check asks which acts are on file and which is the latest, never how many."""
    s = await seed(session)
    on = date(2026, 3, 1)
    await act(session, s, on - timedelta(days=1), collected=7)  # older than the fifty latest: left out
    for collected in [0] * 20 + [5] * 10 + [0] * 30:  # written in this order, all on one day
        await act(session, s, on, collected=collected)

    rows = await ActReportRepository(session).recent_acts_on_cases([s.case.id], limit=50)

    assert [(row.collected_cents, row.repeats) for row in rows] == [(0, 30), (5, 10), (0, 10)]


def test_recorded_acts_keep_the_window_of_the_latest_acts_as_runs() -> None:
    """``ReportReads.recorded`` keeps a case's acts as runs of equal acts: each act goes newest first
    before the acts of its own date, and the oldest leave the window, as a list of every act would."""
    case_id = uuid.uuid4()
    pool = [
        (on, collected)
        for on in (date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 5))
        for collected in (0, 9)
    ]
    draw = random.Random(11)
    for _ in range(200):
        every = sorted(
            (draw.choice(pool) for _ in range(draw.randrange(55))), key=lambda a: a[0], reverse=True
        )
        every = every[: ReportReads.RECENT_ACTS]
        reads = ReportReads()
        for on, collected in every:
            record = ActRecord(
                act_code="SERVE_TITLE",
                on=on,
                outcome=OutcomeCode.SERVED_AT_HOME,
                seized_cents=0,
                collected_cents=collected,
            )
            runs = reads.acts[case_id]
            if runs and runs[-1][0] == record:
                runs[-1][1] += 1
            else:
                runs.append([record, 1])
        for n in range(draw.randrange(80)):
            on, collected = draw.choice(pool)
            every.insert(0, (on, collected))
            every.sort(key=lambda a: a[0], reverse=True)  # stable: before the acts of its date
            del every[ReportReads.RECENT_ACTS :]
            reads.recorded(recorded_act(case_id, on, collected, n))
            expanded = [
                (r.on, r.collected_cents) for r, repeats in reads.acts[case_id] for _ in range(repeats)
            ]
            assert expanded == every
            assert all(a[0] != b[0] for a, b in itertools.pairwise(reads.acts[case_id]))  # runs are maximal


def recorded_act(case_id: uuid.UUID, on: date, collected: int, n: int) -> RecordedAct:
    return RecordedAct(
        id=uuid.uuid4(),
        mandate_id=uuid.uuid4(),
        case_id=case_id,
        office_id=uuid.uuid4(),
        act_code="SERVE_TITLE",
        act_date=on,
        outcome_code=OutcomeCode.SERVED_AT_HOME.value,
        office_reference=f"A/{n}",
        currency="EUR",
        seized_cents=0,
        collected_cents=collected,
        emoluments_cents=0,
        disbursements_cents=0,
        vat_cents=0,
        flagged=False,
    )
