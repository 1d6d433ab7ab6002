"""The after-the-fact check of accepted act reports (``hub.acts.assessment``): an act that leaves the
creditor worse off, whole-file budget consumed from the ledger, and whether the approval quoted counts; alone
and in a batch chunk (``receive_many``, what the batch runner calls)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import ActReport
from hub.bootstrap import inbound_processor
from hub.ledger import service as ledger
from hub.ledger.models import LedgerTransaction
from hub.mandates.models import Approval, Mandate
from hub.messaging.inbound import Outcome, Received
from hub.messaging.signing import ReceiptSigner
from tests.hub.acts.factories import Seeded, report_json, seed
from tests.hub.finance.factories import act

PROCESSOR = inbound_processor(ReceiptSigner("r" * 40))
JSON = "application/json"
# A garnishment notice with no garnishment on file keeps nothing: flagged. A release is a duty and an
# attempted execution the outcome of a visit: never flagged.
COSTLY, DUTY, VISIT = "GARNISHMENT_NOTICE", "RELEASE", "ATTEMPTED_EXECUTION"
FEES = 5158 + 880  # the sample report's emoluments and disbursements (excl. VAT)


async def send(session: AsyncSession, s: Seeded, n: int | str, **changes: Any) -> Outcome:
    raw = report_json(s.office.code, s.mandate.ref, n, **changes)
    return await PROCESSOR.receive(session, s.office, Received(raw, JSON))


async def stored(session: AsyncSession, outcome: Outcome) -> ActReport:
    assert outcome.accepted, outcome.receipt.errors
    return (
        await session.execute(select(ActReport).where(ActReport.message_pk == outcome.message.id))
    ).scalar_one()


def flag_codes(report: ActReport) -> list[str]:
    assert report.assessment is not None
    return [f["code"] for f in report.assessment["flags"]]


async def an_approval(
    session: AsyncSession, mandate: Mandate, act_code: str, decision: str | None, **fields: Any
) -> str:
    """An office's cost request on ``mandate``, decided ``decision`` (None: still pending)."""
    approval = Approval(
        approval_id=f"APR-{uuid.uuid4().hex[:10]}",
        mandate_id=mandate.id,
        act_code=act_code,
        amount_cents=FEES,
        requested_by="office",
        request_message_id=f"CQ-{uuid.uuid4().hex[:8]}",
        decision=decision,
        **fields,
    )
    session.add(approval)
    await session.flush()
    return approval.approval_id


async def test_a_costly_act_without_approval_is_stored_flagged_with_its_reasons(
    session: AsyncSession,
) -> None:
    s = await seed(session, acts=[COSTLY])
    report = await stored(session, await send(session, s, 1, act_code=COSTLY))
    assert report.flagged and flag_codes(report) == ["cost_above_recovery"]
    assert report.assessment is not None
    [flag] = report.assessment["flags"]
    assert "and could be expected to bring in 0.00 EUR on" in flag["message"]
    assert "the creditor could expect to lose" in flag["message"]
    assert report.assessment["expected_net_cents"] < 0
    assert report.assessment["approval"] is None and report.assessment["budget"] is None


async def test_the_outcome_of_a_visit_is_never_flagged_after_the_fact(session: AsyncSession) -> None:
    s = await seed(session, acts=[VISIT])
    report = await stored(session, await send(session, s, 1, act_code=VISIT))
    assert not report.flagged and report.assessment is not None
    assert report.assessment["needs_approval"] == []
    assert "OUTCOME_OF_A_VISIT" in [r["code"] for r in report.assessment["reasons"]]


@pytest.mark.parametrize(
    ("approved_act", "decision", "status", "flags"),
    [
        (COSTLY, "approved", "approved", []),
        (COSTLY, None, "pending", ["cost_above_recovery", "approval_pending"]),
        (COSTLY, "refused", "refused", ["cost_above_recovery", "approval_refused"]),
        ("SUMMONS", "approved", "other_act", ["cost_above_recovery", "approval_other_act"]),
    ],
)
async def test_only_an_approval_given_for_the_act_lets_a_costly_act_go_unflagged(
    session: AsyncSession, approved_act: str, decision: str | None, status: str, flags: list[str]
) -> None:
    s = await seed(session, acts=[COSTLY, "SUMMONS"])
    approval_id = await an_approval(session, s.mandate, approved_act, decision)
    report = await stored(session, await send(session, s, 1, act_code=COSTLY, approval_id=approval_id))
    assert (report.flagged, flag_codes(report)) == (bool(flags), flags)
    assert report.assessment is not None and report.assessment["needs_approval"] == ["cost_above_recovery"]
    assert report.assessment["approval"]["status"] == status


async def test_the_approval_a_held_per_act_mandate_was_issued_with_covers_its_acts(
    session: AsyncSession,
) -> None:
    s = await seed(session, acts=["SERVE_TITLE", COSTLY])
    s.mandate.approval_id = await an_approval(session, s.mandate, "SERVE_TITLE", "approved")
    await session.flush()
    report = await stored(
        session, await send(session, s, 1, act_code=COSTLY, approval_id=s.mandate.approval_id)
    )
    assert not report.flagged and report.assessment is not None
    assert report.assessment["approval"]["status"] == "approved"


async def test_a_refused_approval_is_flagged_even_on_an_act_that_needed_none(session: AsyncSession) -> None:
    s = await seed(session, acts=[DUTY, DUTY])  # ordered twice: the first report does not complete it
    refused = await an_approval(session, s.mandate, DUTY, "refused")
    pending = await an_approval(session, s.mandate, DUTY, None)
    done_anyway = await stored(session, await send(session, s, 1, act_code=DUTY, approval_id=refused))
    assert done_anyway.flagged and flag_codes(done_anyway) == ["approval_refused"]
    early = await stored(session, await send(session, s, 2, act_code=DUTY, approval_id=pending))
    assert not early.flagged and early.assessment is not None
    assert early.assessment["approval"]["status"] == "pending"


async def test_an_approved_cost_request_makes_an_act_outside_a_per_act_mandate_reportable(
    session: AsyncSession,
) -> None:
    s = await seed(session, acts=["SERVE_TITLE"])
    outside = await send(session, s, 1, act_code="SUMMONS")
    assert [e["code"] for e in outside.receipt.errors] == ["act.not_in_mandate"]
    pending = await an_approval(session, s.mandate, "SUMMONS", None)
    asked = await send(session, s, 2, act_code="SUMMONS", approval_id=pending)
    [error] = asked.receipt.errors
    assert error["code"] == "act.not_in_mandate" and "waiting for the agency's decision" in error["message"]
    other = await an_approval(session, s.mandate, "PAYMENT_ORDER", "approved")
    assert [
        e["code"] for e in (await send(session, s, 3, act_code="SUMMONS", approval_id=other)).receipt.errors
    ] == ["act.not_in_mandate"]
    approved = await an_approval(session, s.mandate, "SUMMONS", "approved")
    report = await stored(session, await send(session, s, 4, act_code="SUMMONS", approval_id=approved))
    assert report.act_code == "SUMMONS" and report.approval_id == approved


async def whole_file(session: AsyncSession, budget: int) -> Seeded:
    s = await seed(session, kind="whole_file", acts=[])
    s.mandate.fee_budget_cents = budget
    await session.flush()
    return s


async def test_the_report_that_takes_a_whole_file_mandate_over_budget_is_flagged(
    session: AsyncSession,
) -> None:
    s = await whole_file(session, 10_000)
    first = await stored(session, await send(session, s, 1, act_code=DUTY))
    assert not first.flagged and first.assessment is not None
    assert first.assessment["budget"] == {
        "fee_budget_cents": 10_000,
        "consumed_before_cents": 0,
        "act_fees_cents": FEES,
        "consumed_cents": FEES,
        "overrun": False,
    }
    second = await stored(session, await send(session, s, 2, act_code=DUTY))
    assert second.flagged and flag_codes(second) == ["budget_overrun"]
    assert second.assessment is not None
    assert second.assessment["budget"]["consumed_cents"] == 2 * FEES
    assert second.assessment["flags"][0]["message"] == (
        "budget 100.00 EUR, 60.38 EUR consumed before; this act's fees 60.38 EUR take it to "
        "120.76 EUR, 20.76 EUR over"
    )
    # Already over: every further fee is over too; an approval given for the act lets it go.
    assert (await stored(session, await send(session, s, 3, act_code=DUTY))).flagged
    approval_id = await an_approval(session, s.mandate, DUTY, "approved")
    covered = await stored(session, await send(session, s, 4, act_code=DUTY, approval_id=approval_id))
    assert not covered.flagged and covered.assessment is not None
    assert covered.assessment["needs_approval"] == ["budget_overrun"]


async def test_in_a_batch_chunk_the_budget_counts_the_earlier_records_of_the_chunk(
    session: AsyncSession,
) -> None:
    s = await whole_file(session, 15_000)
    await stored(session, await send(session, s, 0, act_code=DUTY))  # before the chunk: 60.38
    chunk = [Received(report_json(s.office.code, s.mandate.ref, n, act_code=DUTY), JSON) for n in (1, 2, 3)]
    outcomes = await PROCESSOR.receive_many(session, s.office, chunk)
    reports = [await stored(session, outcome) for outcome in outcomes]
    assert [r.flagged for r in reports] == [False, True, True]
    assert [r.assessment["budget"]["consumed_before_cents"] for r in reports if r.assessment] == [
        FEES,
        2 * FEES,
        3 * FEES,
    ]


async def test_a_reversal_in_the_ledger_gives_the_budget_back(session: AsyncSession) -> None:
    s = await whole_file(session, 10_000)
    first = await stored(session, await send(session, s, 1, act_code=DUTY))
    [fees] = await session.scalars(
        select(LedgerTransaction).where(
            LedgerTransaction.source == f"act_report:{first.id}", LedgerTransaction.kind == "act_fees"
        )
    )
    await ledger.reverse(session, fees.id, reason="fees waived by the office", effective_on=date.today())
    second = await stored(session, await send(session, s, 2, act_code=DUTY))
    assert not second.flagged and second.assessment is not None
    assert second.assessment["budget"]["consumed_before_cents"] == 0


async def test_the_check_uses_the_recovery_learned_from_past_reports(session: AsyncSession) -> None:
    s = await seed(session, kind="whole_file", acts=[])
    for day in (3, 4, 5):
        await act(session, s, date(2026, 2, day), act_code="BANK_GARNISHMENT")
    report = await stored(session, await send(session, s, 1, act_code="BANK_GARNISHMENT"))
    assert report.assessment is not None
    rate = report.assessment["explanation"]["recovery_rate"]
    assert rate["basis"] == "office" and rate["office_tally"]["reports"] == 3
