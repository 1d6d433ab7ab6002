"""What a mandate's checks read once its debtor is locked (``MandateRepository.reads_after_lock``):
one statement on PostgreSQL, answering row for row as the statements it folds (a statement each on
SQLite)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.repository import CaseRepository
from hub.cases.updates import CaseUpdateIn
from hub.ledger import service as ledger
from hub.ledger.models import LedgerTransaction
from hub.ledger.repository import LedgerRepository
from hub.mandates import service
from hub.mandates.models import MandateKind, MandateStatus
from hub.mandates.repository import MandateRepository, ReadsAfterLock
from hub.mandates.service import MandateIn
from tests.hub.mandates.factories import RICH, a_case, an_office, reported

STAFF = "handler@agence.example"


async def test_the_reads_after_the_lock_answer_as_their_statements_do(session: AsyncSession) -> None:
    office = await an_office(session)
    case = await a_case(session, **RICH)
    other = await a_case(session, **RICH)
    other.debtor_id = case.debtor_id  # the debtor's other case
    await session.flush()

    def per_act(on: str, *acts: str) -> MandateIn:
        return MandateIn(case_ref=on, office_code=office.code, kind=MandateKind.PER_ACT, acts=list(acts))

    whole = MandateIn(
        case_ref=case.ref, office_code=office.code, kind=MandateKind.WHOLE_FILE, fee_budget_cents=200_000
    )
    first = await service.create_mandate(session, whole, actor=STAFF)
    twice = await service.create_mandate(
        session, per_act(other.ref, "SERVE_TITLE", "SERVE_TITLE"), actor=STAFF
    )
    ended = await service.create_mandate(session, per_act(case.ref, "PAYMENT_ORDER"), actor=STAFF)
    await service.transition(session, ended, MandateStatus.CANCELLED, actor=STAFF, reason="test")
    await session.flush()
    today = date.today()
    await reported(
        session, first, act_code="SERVE_TITLE", on=today - timedelta(days=3), emoluments_cents=6_000
    )
    waived = await reported(session, first, act_code="BANK_GARNISHMENT", on=today, collected_cents=1_000)
    await reported(session, twice, act_code="SERVE_TITLE", on=today, emoluments_cents=4_000, seized_cents=700)
    [collection] = await session.scalars(
        select(LedgerTransaction).where(LedgerTransaction.source == f"act_report:{waived.id}")
    )
    await ledger.reverse(session, collection.id, reason="paid back", effective_on=today)  # nets to 0
    paid = {"amount_cents": 2_500, "currency": "EUR", "received_on": today.isoformat()}
    direct = CaseUpdateIn.model_validate(
        {"kind": "payment_received", "reference": "R-1", "effective_on": paid["received_on"], "payment": paid}
    )
    await service.record_update(session, case.ref, direct, actor=STAFF)
    await session.flush()

    repo = MandateRepository(session)
    reads = await repo.reads_after_lock(case, accounts=ledger.NET_ACCOUNTS, ref=twice.ref)
    apart = ReadsAfterLock(
        ref_taken=await repo.get_by_ref(twice.ref) is not None,
        reports=await repo.reports_on_debtor(case.debtor_id),
        mandates=await repo.on_debtor(case.debtor_id),
        balances=await LedgerRepository(session).balances(case_id=case.id, accounts=ledger.NET_ACCOUNTS),
        paid_cents=await CaseRepository(session).payments_received(case.id, case.currency),
    )
    # The debtor's mandates come in no order (neither read asks for one).
    assert replace(reads, mandates=sorted(reads.mandates)) == replace(apart, mandates=sorted(apart.mandates))

    # What the rules are given: every report of the debtor newest first (act date, then arrival),
    # each mandate's acts as a list and its issue as an aware datetime, the case's own balances only
    # (the collection reversed nets to nothing: left out), the payment.
    assert [(r.act_code, r.act_date, r.seized_cents, r.case_id) for r in reads.reports] == [
        ("SERVE_TITLE", today, 700, other.id),
        ("BANK_GARNISHMENT", today, 0, case.id),
        ("SERVE_TITLE", today - timedelta(days=3), 0, case.id),
    ]
    mine = {m.id: m for m in reads.mandates}
    assert set(mine) == {first.id, twice.id, ended.id}
    assert mine[twice.id].acts == ["SERVE_TITLE", "SERVE_TITLE"] and mine[twice.id].case_id == other.id
    assert mine[ended.id].status == MandateStatus.CANCELLED
    issued_at = mine[first.id].issued_at
    assert issued_at is not None and issued_at.tzinfo is not None
    assert issued_at.astimezone(UTC) == first.issued_at
    assert reads.balances == {"fees_emoluments": {"EUR": 6_000}}
    assert reads.paid_cents == 2_500

    # A ref no mandate has, or none asked about: not taken.
    assert not (await repo.reads_after_lock(case, accounts=ledger.NET_ACCOUNTS, ref="M-NONE")).ref_taken
    assert not (await repo.reads_after_lock(case, accounts=ledger.NET_ACCOUNTS)).ref_taken
