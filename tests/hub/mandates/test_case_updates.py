"""Case updates on the services: recorded with who and when, applied to the facts the rules read, sent
once to each office holding a live mandate on the case and acknowledged once; a payment above the
balance is refused with nothing written, one that clears it ends the offices' mandates."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Case, CaseUpdate
from hub.cases.updates import CaseUpdateIn
from hub.kit.clock import utcnow
from hub.kit.errors import Conflict, InvalidInput, NotFound
from hub.mandates import service
from hub.mandates.models import CaseUpdateNotice, Mandate, MandateKind, MandateStatus
from hub.mandates.service import MandateIn
from hub.messaging import sealing
from hub.messaging.inbound import decode
from hub.messaging.models import OutboxEntry, StoredMessage
from hub.offices.models import Office
from hub.policy import guardrails
from hub.settings import get_settings
from schemas import v1
from tests.hub.mandates.factories import RICH, a_case, an_office
from tests.hub.mandates.test_handlers import office_message
from tests.hub.mandates.test_service import reported

STAFF = "handler@agence.example"


OWED = 500_000  # the factories' case: 5,000 EUR owed


def update(kind: str, reference: str = "R-1", **body: Any) -> CaseUpdateIn:
    return CaseUpdateIn.model_validate(
        {"kind": kind, "reference": reference, "effective_on": utcnow().date().isoformat(), **body}
    )


def payment(cents: int, reference: str = "R-1", currency: str = "EUR", **body: Any) -> CaseUpdateIn:
    paid = {"amount_cents": cents, "currency": currency, "received_on": utcnow().date().isoformat()}
    return update("payment_received", reference, payment=paid, **body)


async def worked_on(session: AsyncSession) -> tuple[Case, list[Office], list[Mandate]]:
    """A case two offices work on: the first holds two live mandates, the second one."""
    case = await a_case(session, **RICH)
    first, second = await an_office(session), await an_office(session)
    mandates = []
    # Two coercive acts at most: a third would be held by the pacing guardrail.
    for office, act in ((first, "BANK_GARNISHMENT"), (first, "INFO_SEARCH"), (second, "BANK_GARNISHMENT")):
        data = MandateIn(case_ref=case.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=[act])
        mandates.append(await service.create_mandate(session, data, actor=STAFF))
    assert all(m.status == MandateStatus.ISSUED for m in mandates)
    return case, [first, second], mandates


async def sent(session: AsyncSession, kind: str, recipient: str) -> list[v1.MessageModel]:
    """What the outbox holds for ``recipient`` of ``kind``, in the order queued."""
    rows = await session.scalars(
        select(StoredMessage)
        .join(OutboxEntry, OutboxEntry.message_pk == StoredMessage.id)
        .where(StoredMessage.kind == kind, StoredMessage.recipient == recipient)
        .order_by(OutboxEntry.id)
    )
    return [decode(await sealing.open_body(session, r), r.content_type) for r in rows]


async def test_a_payment_lowers_the_balance_and_each_office_is_told_once(session: AsyncSession) -> None:
    case, [first, second], mandates = await worked_on(session)
    view = await service.record_update(session, case.ref, payment(12_345, comment="virement"), actor=STAFF)

    assert case.paid_cents == 12_345 and case.outstanding_cents == OWED - 12_345
    row = view.update
    assert (row.kind, row.amount_cents, row.recorded_by, row.outstanding_cents) == (
        "payment_received",
        12_345,
        STAFF,
        OWED - 12_345,
    )
    assert row.recorded_at <= utcnow() and row.update_id.startswith("UPD-")
    assert view.ended_mandates == [] and all(m.status == MandateStatus.ISSUED for m in mandates)
    window = timedelta(hours=get_settings().case_update_ack_hours)
    assert window == timedelta(hours=48)  # the documented default
    assert sorted(n.office_code for n in view.notices) == sorted([first.code, second.code])

    [to_first] = await sent(session, "case_update", first.code)
    [to_second] = await sent(session, "case_update", second.code)
    assert isinstance(to_first, v1.CaseUpdate) and isinstance(to_second, v1.CaseUpdate)
    assert to_first.mandate_refs == sorted([mandates[0].ref, mandates[1].ref])
    assert to_second.mandate_refs == [mandates[2].ref]
    paid = v1.PaymentReceived(amount_cents=12_345, currency="EUR", received_on=utcnow().date())
    assert to_first.payment == paid
    assert to_first.outstanding_cents == OWED - 12_345 and not to_first.work_stops
    notices = {n.office_code: n.notice for n in view.notices}
    assert notices[first.code].message_id == to_first.envelope.message_id
    assert notices[first.code].ack_due_by == notices[first.code].sent_at + window == to_first.ack_due_by


async def test_a_payment_that_clears_the_balance_stops_the_work(session: AsyncSession) -> None:
    case, [first, second], mandates = await worked_on(session)
    third = MandateIn(
        case_ref=case.ref, office_code=first.code, kind=MandateKind.PER_ACT, acts=["BANK_GARNISHMENT"]
    )
    held = await service.create_mandate(session, third, actor=STAFF)
    assert held.status == MandateStatus.HELD  # a third coercive act: pacing
    await service.record_update(session, case.ref, payment(100_000, "R-1"), actor=STAFF)
    view = await service.record_update(session, case.ref, payment(OWED - 100_000, "R-2"), actor=STAFF)

    assert case.outstanding_cents == 0
    assert view.ended_mandates == sorted(m.ref for m in [*mandates, held])
    assert all(m.status == MandateStatus.CANCELLED for m in [*mandates, held])  # the held one never leaves
    for office, theirs in ((first, mandates[:2]), (second, mandates[2:])):
        updates = await sent(session, "case_update", office.code)
        assert [u.work_stops for u in updates if isinstance(u, v1.CaseUpdate)] == [False, True]
        cancels = await sent(session, "mandate_cancel", office.code)
        assert sorted(c.mandate_ref for c in cancels if isinstance(c, v1.MandateCancel)) == sorted(
            m.ref for m in theirs
        )
        assert all(
            isinstance(c, v1.MandateCancel) and c.cause is v1.CancelCause.BALANCE_CLEARED for c in cancels
        )
    last = (await service.events(session, mandates[0]))[-1]
    assert last.to_status == "cancelled" and last.reason is not None and "balance cleared" in last.reason
    # Nothing is left to collect: no later payment, and no office left to tell of other updates.
    with pytest.raises(InvalidInput) as more:
        await service.record_update(session, case.ref, payment(1, "R-3"), actor=STAFF)
    assert more.value.errors[0].code == "case_update.payment_exceeds_balance"
    moved = await service.record_update(session, case.ref, update("dispute_opened", "R-4"), actor=STAFF)
    assert moved.notices == []


async def count(session: AsyncSession, query: Any) -> int:
    return int(await session.scalar(query) or 0)


async def test_a_refused_update_lists_every_error_and_writes_nothing(session: AsyncSession) -> None:
    case, _, _ = await worked_on(session)
    before = await count(session, select(func.count()).select_from(OutboxEntry))
    tomorrow = (utcnow().date() + timedelta(days=1)).isoformat()
    above = CaseUpdateIn.model_validate(
        {
            "kind": "payment_received",
            "reference": "R-1",
            "effective_on": tomorrow,
            "payment": {"amount_cents": OWED + 1, "currency": "EUR", "received_on": tomorrow},
            "address": {"line1": "1 rue X", "postcode": "75001", "city": "Paris"},
        }
    )
    with pytest.raises(InvalidInput) as refused:
        await service.record_update(session, case.ref, above, actor=STAFF)
    assert refused.value.status == 422
    assert sorted((e.path, e.code) for e in refused.value.errors) == [
        ("address", "case_update.details_unexpected"),
        ("effective_on", "case_update.in_future"),
        ("payment.amount_cents", "case_update.payment_exceeds_balance"),
        ("payment.received_on", "case_update.in_future"),
    ]
    in_dollars = payment(100, currency="USD")
    with pytest.raises(InvalidInput) as dollars:
        await service.record_update(session, case.ref, in_dollars, actor=STAFF)
    assert [e.code for e in dollars.value.errors] == ["case_update.currency_mismatch"]
    with pytest.raises(InvalidInput) as missing:
        await service.record_update(session, case.ref, update("payment_received"), actor=STAFF)
    assert [(e.path, e.code) for e in missing.value.errors] == [("payment", "case_update.details_missing")]
    with pytest.raises(InvalidInput) as closed:
        await service.record_update(session, case.ref, update("dispute_closed"), actor=STAFF)
    assert [e.code for e in closed.value.errors] == ["case_update.no_open_dispute"]
    with pytest.raises(NotFound) as unknown:
        await service.record_update(session, "NO-SUCH-CASE", payment(1), actor=STAFF)
    assert unknown.value.code == "case.not_found"

    assert case.paid_cents == 0
    assert await count(session, select(func.count()).select_from(CaseUpdate)) == 0
    assert await count(session, select(func.count()).select_from(CaseUpdateNotice)) == 0
    assert await count(session, select(func.count()).select_from(OutboxEntry)) == before


async def test_a_retry_of_the_same_reference_is_refused_and_applied_once(session: AsyncSession) -> None:
    case, _, _ = await worked_on(session)
    first = await service.record_update(session, case.ref, payment(1_000, "CRM-7"), actor=STAFF)
    with pytest.raises(Conflict) as again:
        await service.record_update(session, case.ref, payment(1_000, "CRM-7"), actor=STAFF)
    assert again.value.status == 409 and again.value.code == "case_update.duplicate"
    assert first.update.update_id in again.value.detail
    assert case.paid_cents == 1_000
    other_case = await a_case(session, **RICH)  # the reference is the case's own: another may reuse it
    await service.record_update(session, other_case.ref, payment(1_000, "CRM-7"), actor=STAFF)


async def violations(
    session: AsyncSession, case: Case, act_code: str = "BANK_GARNISHMENT"
) -> dict[str, bool]:
    """Code -> needs review, of the guardrails an act would meet on the case today (but pacing: the
    two garnishments ordered already are what a third would meet)."""
    await session.refresh(case, ["creditor_reclaims_vat"])  # a SQL expression, expired by the update's flush
    facts = await service.facts_of(session, case)
    found = guardrails.check(facts, act_code, utcnow().date())
    return {v.code: v.needs_review for v in found if v.code != "PACING_EXCEEDED"}


async def test_each_update_changes_the_facts_the_guardrails_read(session: AsyncSession) -> None:
    case, offices, _ = await worked_on(session)
    record = service.record_update
    assert await violations(session, case) == {}

    await record(session, case.ref, update("dispute_opened", "D-1"), actor=STAFF)
    assert (await violations(session, case)) == {"CLAIM_DISPUTED": True}
    await record(session, case.ref, update("dispute_closed", "D-2"), actor=STAFF)
    assert (await violations(session, case)) == {}

    await record(session, case.ref, update("payment_plan_agreed", "P-1"), actor=STAFF)
    assert (await violations(session, case)) == {"PAYMENT_PLAN_ACTIVE": True}
    await record(session, case.ref, update("payment_plan_broken", "P-2"), actor=STAFF)
    assert (await violations(session, case)) == {}

    declared = update("insolvency_declared", "I-1", insolvency_kind="over_indebtedness")
    await record(session, case.ref, declared, actor=STAFF)
    assert (case.insolvency_proceedings, case.insolvency_kind) == (True, "over_indebtedness")
    assert (await violations(session, case)) == {"INSOLVENCY_PROCEEDINGS": False}
    await record(session, case.ref, update("insolvency_ended", "I-2"), actor=STAFF)
    assert (case.insolvency_proceedings, case.insolvency_kind) == (False, None)
    assert (await violations(session, case)) == {}  # the hard block is lifted

    moved = {"line1": "3 quai des Chartrons", "postcode": "33000", "city": "Bordeaux", "departement": "33"}
    await record(session, case.ref, update("address_changed", "A-1", address=moved), actor=STAFF)
    debtor = case.debtor
    assert (debtor.address_line1, debtor.postcode, debtor.city, debtor.departement) == tuple(moved.values())
    assert case.address_known is True

    await record(session, case.ref, update("limitation_reached", "L-1"), actor=STAFF)
    assert case.limitation_reached_on == utcnow().date()
    assert (await violations(session, case)) == {"LIMITATION_REACHED": False}
    assert (await violations(session, case, "SERVE_TITLE")) == {"LIMITATION_REACHED": False}  # every act

    await record(session, case.ref, update("debtor_deceased", "X-1"), actor=STAFF)
    assert (await violations(session, case)) == {"DEBTOR_DECEASED": False, "LIMITATION_REACHED": False}
    whole = MandateIn(
        case_ref=case.ref, office_code=offices[0].code, kind=MandateKind.WHOLE_FILE, fee_budget_cents=10_000
    )
    with pytest.raises(InvalidInput) as refused:  # a whole-file mandate too: the office would choose acts
        await service.create_mandate(session, whole, actor=STAFF)
    assert {"DEBTOR_DECEASED", "LIMITATION_REACHED"} <= {
        e.code.rsplit(".", 1)[-1].upper() for e in refused.value.errors
    }

    listed = await service.list_updates(session, case.ref, after=None, limit=100)
    assert [v.update.reference for v in listed] == [
        "D-1", "D-2", "P-1", "P-2", "I-1", "I-2", "A-1", "L-1", "X-1"
    ]  # fmt: skip
    page = await service.list_updates(session, case.ref, after=listed[3].update.id, limit=2)
    assert [v.update.reference for v in page] == ["I-1", "I-2"]
    assert all(len(v.notices) == 2 for v in listed)


def ack(office: Office, update_id: str, case_ref: str) -> v1.CaseUpdateAck:
    body = office_message("case_update_ack", office.code, update_id=update_id, case_ref=case_ref)
    return v1.CaseUpdateAck.model_validate_json(json.dumps(body))


async def test_an_office_acknowledges_its_own_update_once(session: AsyncSession) -> None:
    case, [first, second], _ = await worked_on(session)
    view = await service.record_update(session, case.ref, update("dispute_opened"), actor=STAFF)
    notices = {n.office_code: n.notice for n in view.notices}
    mine, theirs = notices[first.code], notices[second.code]

    with pytest.raises(NotFound) as foreign:
        await service.acknowledge_case_update(session, first, ack(first, theirs.message_id, case.ref))
    assert foreign.value.status == 404 and foreign.value.code == "case_update.not_found"
    with pytest.raises(NotFound):
        await service.acknowledge_case_update(session, first, ack(first, mine.message_id, "OTHER-CASE"))

    late = mine.ack_due_by + timedelta(hours=1)
    done = await service.acknowledge_case_update(
        session, first, ack(first, mine.message_id, case.ref), now=late
    )
    assert done is mine and mine.acknowledged_at == late and mine.ack_message_id is not None
    with pytest.raises(Conflict) as twice:
        await service.acknowledge_case_update(session, first, ack(first, mine.message_id, case.ref))
    assert twice.value.status == 409 and twice.value.code == "case_update.already_acknowledged"
    assert mine.acknowledged_at == late and theirs.acknowledged_at is None

    [listed] = await service.list_updates(session, case.ref, after=None, limit=10, now=late)
    overdue = {n.office_code: n.overdue for n in listed.notices}
    assert overdue == {first.code: False, second.code: True}


async def test_the_balance_a_payment_is_checked_against_counts_what_the_offices_collected(
    session: AsyncSession,
) -> None:
    case, [first, _], mandates = await worked_on(session)
    # The first office collected 4,000 EUR on its garnishment (posted to the ledger as the hub does).
    await reported(
        session, mandates[0], "garnishment_partial", act_code="BANK_GARNISHMENT", collected_cents=400_000
    )
    left = OWED - 400_000
    with pytest.raises(InvalidInput) as above:
        await service.record_update(session, case.ref, payment(left + 1, "R-1"), actor=STAFF)
    [error] = above.value.errors
    assert error.code == "case_update.payment_exceeds_balance" and "400000 cents the offices collected" in (
        error.message
    )
    view = await service.record_update(session, case.ref, payment(left, "R-2"), actor=STAFF)
    assert view.update.outstanding_cents == 0
    assert sorted(view.ended_mandates) == sorted(m.ref for m in mandates)  # the balance is cleared
    assert [
        u.work_stops for u in await sent(session, "case_update", first.code) if isinstance(u, v1.CaseUpdate)
    ] == [True]
