"""A mandate is completed on the office's act reports: a per-act one when every act it ordered has an
accepted act report, any one when a report says the debtor paid in full. The transition is logged
with the office and the report; later act reports are refused like on a cancelled mandate."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import ActReport
from hub.acts.service import ReportReads, record_act_report
from hub.bootstrap import inbound_processor
from hub.mandates import service
from hub.mandates.models import Mandate, MandateStatus
from hub.mandates.service import completion
from hub.messaging.inbound import Outcome, Received
from hub.messaging.service import Envelope, store_inbound
from hub.messaging.signing import ReceiptSigner
from schemas import v1
from tests.hub.acts.factories import Seeded, report_json, seed

SIGNER = ReceiptSigner("r" * 40)
JSON = "application/json"


async def send(session: AsyncSession, s: Seeded, n: int, **changes: Any) -> Outcome:
    raw = report_json(s.office.code, s.mandate.ref, n, **changes)
    return await inbound_processor(SIGNER).receive(session, s.office, Received(raw, JSON))


async def log(session: AsyncSession, mandate: Mandate) -> list[tuple[str | None, str, str]]:
    return [(e.from_status, e.to_status, e.actor) for e in await service.events(session, mandate)]


async def reports_on(session: AsyncSession, mandate: Mandate) -> int:
    found = await session.scalar(select(func.count()).where(ActReport.mandate_id == mandate.id))
    return int(found or 0)


async def test_a_per_act_mandate_is_completed_when_every_act_ordered_is_reported(
    session: AsyncSession,
) -> None:
    s = await seed(session, acts=["SERVE_TITLE", "PAYMENT_ORDER"])
    assert (await send(session, s, 1, act_code="SERVE_TITLE")).accepted
    assert (await send(session, s, 2, act_code="SERVE_TITLE", outcome_code="served_in_person")).accepted
    assert s.mandate.status == MandateStatus.IN_PROGRESS  # the payment order is still to be reported

    assert (await send(session, s, 3, act_code="PAYMENT_ORDER")).accepted
    assert s.mandate.status == MandateStatus.COMPLETED
    code = s.office.code
    assert await log(session, s.mandate) == [
        ("issued", "in_progress", code),
        ("in_progress", "completed", code),
    ]
    completed = (await service.events(session, s.mandate))[-1]
    assert completed.reason is not None
    assert (
        f"act A/{code}/3 reported (PAYMENT_ORDER" in completed.reason
        and "every act ordered" in completed.reason
    )

    late = await send(session, s, 4, act_code="PAYMENT_ORDER")
    assert late.status == 422 and [e["code"] for e in late.receipt.errors] == ["mandate.not_reportable"]
    assert "completed" in late.receipt.errors[0]["message"]
    assert await reports_on(session, s.mandate) == 3


async def test_a_one_act_mandate_is_completed_by_its_first_report(session: AsyncSession) -> None:
    s = await seed(session, acts=["SERVE_TITLE"])
    assert (await send(session, s, 1)).accepted
    code = s.office.code
    assert await log(session, s.mandate) == [
        ("issued", "in_progress", code),
        ("in_progress", "completed", code),
    ]


async def test_a_whole_file_mandate_is_completed_when_the_debtor_paid_in_full(session: AsyncSession) -> None:
    s = await seed(session, kind="whole_file", acts=[])
    assert (await send(session, s, 1, act_code="PAYMENT_ORDER")).accepted
    assert (await send(session, s, 2, act_code="BANK_GARNISHMENT", outcome_code="garnishment_empty")).accepted
    assert s.mandate.status == MandateStatus.IN_PROGRESS

    paid = await send(
        session, s, 3, act_code="PAYMENT_ORDER", outcome_code="paid_in_full", collected_cents=250_000
    )
    assert paid.accepted
    assert s.mandate.status == MandateStatus.COMPLETED
    completed = (await service.events(session, s.mandate))[-1]
    assert completed.actor == s.office.code and completed.reason is not None
    assert "paid in full" in completed.reason

    late = await send(session, s, 4, act_code="RELEASE", outcome_code="served_at_home")
    assert [e["code"] for e in late.receipt.errors] == ["mandate.not_reportable"]


async def test_within_one_batch_the_report_that_completes_a_mandate_closes_it_for_the_next(
    session: AsyncSession,
) -> None:
    s = await seed(session, acts=["SERVE_TITLE", "PAYMENT_ORDER"])
    assert (await send(session, s, 1, act_code="SERVE_TITLE")).accepted  # before the batch
    raws = [
        report_json(s.office.code, s.mandate.ref, n, act_code=act)
        for n, act in ((2, "SERVE_TITLE"), (3, "PAYMENT_ORDER"), (4, "PAYMENT_ORDER"))
    ]
    outcomes = await inbound_processor(SIGNER).receive_many(
        session, s.office, [Received(r, JSON) for r in raws]
    )
    assert [o.accepted for o in outcomes] == [True, True, False]
    assert [e["code"] for e in outcomes[2].receipt.errors] == ["mandate.not_reportable"]
    await session.flush()
    assert s.mandate.status == MandateStatus.COMPLETED and await reports_on(session, s.mandate) == 3


async def test_a_report_recorded_outside_the_inbound_path_completes_its_mandate_too(
    session: AsyncSession,
) -> None:
    """Recorded with reads loaded for it alone, each report counted once, flushed or not: a service
    ordered twice needs two reports."""
    s = await seed(session, acts=["SERVE_TITLE", "SERVE_TITLE"])
    for n, act_code in enumerate(("SERVE_TITLE", "SERVE_TITLE"), start=1):
        raw = report_json(s.office.code, s.mandate.ref, n, act_code=act_code)
        stored = await store_inbound(
            session,
            Envelope(f"CR-direct-{n}-{s.office.code}", "act_report", s.office.code, "AGENCY"),
            raw,
            JSON,
        )
        report = v1.ActReport.model_validate_json(raw)
        reads = await ReportReads.load(session, s.office, [report])
        reported = await completion.ReportedActs.load(session, [s.mandate])
        act = await record_act_report(session, report, stored, s.office, reads=reads)
        if n == 1:
            await session.flush()  # in the database already, and in the session
        await completion.act_reported(session, act, s.office, reported=reported)
        assert s.mandate.status == ("in_progress" if n == 1 else "completed")
