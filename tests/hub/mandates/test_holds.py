"""Holds with a life: raised on a case after issue, ONE notice per office working on it listing its
mandates and acts, the case's fact set so new mandates are held; lifted by staff, each office told
with a hold_lift, the fact cleared unless another active hold of the same situation remains."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Case
from hub.cases.updates import CaseUpdateIn
from hub.kit.errors import Conflict, InvalidInput, NotFound
from hub.mandates import service
from hub.mandates.models import Hold, HoldNotice, MandateKind, MandateStatus
from hub.mandates.service import MandateIn
from hub.messaging import sealing
from hub.messaging.inbound import decode
from hub.messaging.models import StoredMessage
from hub.offices.models import Office
from schemas import v1
from tests.hub.mandates.factories import RICH, a_case, an_office

STAFF = "handler@agence.example"


async def sent(session: AsyncSession, kind: str) -> list[v1.MessageModel]:
    rows = await session.scalars(select(StoredMessage).where(StoredMessage.kind == kind))
    return [decode(await sealing.open_body(session, row), row.content_type) for row in rows]


async def two_offices_on_a_case(session: AsyncSession) -> tuple[Case, Office, Office, list[str]]:
    """Office A holds two mandates on the case (one per act with two acts, one whole-file), office B
    one; a third mandate of A, cancelled, is no longer worked on."""
    a, b = await an_office(session), await an_office(session)
    case = await a_case(session, **RICH)

    async def mandate(office: Office, acts: list[str] | None) -> str:
        if acts is None:
            data = MandateIn(
                case_ref=case.ref,
                office_code=office.code,
                kind=MandateKind.WHOLE_FILE,
                fee_budget_cents=50_000,
            )
        else:
            data = MandateIn(case_ref=case.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=acts)
        return (await service.create_mandate(session, data, actor=STAFF)).ref

    refs = [
        await mandate(a, ["BANK_GARNISHMENT", "GARNISHMENT_NOTICE"]),
        await mandate(a, None),
        await mandate(b, ["SERVE_TITLE"]),
    ]
    stopped = await mandate(a, ["SERVE_TITLE"])
    await service.cancel(session, stopped, actor=STAFF, reason="served already")
    return case, a, b, refs


async def test_a_hold_sends_one_notice_per_office_listing_its_mandates_and_acts(
    session: AsyncSession,
) -> None:
    case, a, b, [per_act, whole, of_b] = await two_offices_on_a_case(session)

    view = await service.raise_hold(
        session, case.ref, "payment_plan_active", actor=STAFF, comment="plan agreed"
    )

    hold = view.hold
    assert hold.hold_id.startswith("HLD-") and hold.lifted_at is None and hold.raised_by == STAFF
    assert sorted(n.office_code for n in view.notices) == sorted([a.code, b.code])
    wires = {m.envelope.recipient: m for m in await sent(session, "hold_notice")}
    assert sorted(wires) == sorted([a.code, b.code])  # one each, not one per act or mandate
    to_a = wires[a.code]
    assert isinstance(to_a, v1.HoldNotice)
    assert (to_a.hold_id, to_a.case_ref, to_a.situation) == (hold.hold_id, case.ref, "payment_plan_active")
    assert {m.mandate_ref: m.act_codes for m in to_a.mandates} == {
        per_act: ["BANK_GARNISHMENT", "GARNISHMENT_NOTICE"],
        whole: [],
    }
    assert to_a.reasons[0].code == "guardrail.payment_plan_active"
    assert to_a.envelope.correlation_id == hold.hold_id
    to_b = wires[b.code]
    assert isinstance(to_b, v1.HoldNotice) and [m.mandate_ref for m in to_b.mandates] == [of_b]
    stored = list(await session.scalars(select(HoldNotice).where(HoldNotice.hold_id == hold.id)))
    assert len(stored) == 2 and all(n.mandate_id is None and n.act_code is None for n in stored)

    assert case.payment_plan_active is True
    issued = await service.get_mandate(session, per_act)
    assert issued.status == MandateStatus.ISSUED
    last = (await service.events(session, issued))[-1]
    assert (last.from_status, last.to_status, last.actor) == ("issued", "issued", STAFF)
    assert last.reason == f"hold {hold.hold_id} (payment_plan_active) notified: plan agreed"
    data = MandateIn(
        case_ref=case.ref, office_code=a.code, kind=MandateKind.PER_ACT, acts=["BANK_GARNISHMENT"]
    )
    assert (await service.create_mandate(session, data, actor=STAFF)).status == MandateStatus.HELD


async def test_a_hold_on_a_case_nobody_works_on_is_recorded_without_notices(session: AsyncSession) -> None:
    case = await a_case(session, **RICH)
    view = await service.raise_hold(session, case.ref, "vulnerable", actor=STAFF, comment="hardship")
    assert view.notices == [] and case.vulnerable is True
    assert await sent(session, "hold_notice") == []


async def test_an_unknown_situation_or_case_is_refused_with_nothing_written(session: AsyncSession) -> None:
    case = await a_case(session, **RICH)
    with pytest.raises(InvalidInput) as caught:
        await service.raise_hold(session, case.ref, "bored", actor=STAFF, comment="?")
    assert caught.value.errors[0].code == "hold.situation_unknown"
    with pytest.raises(NotFound) as unknown:
        await service.raise_hold(session, "D-NOWHERE", "vulnerable", actor=STAFF, comment="?")
    assert unknown.value.code == "case.not_found"
    assert list(await session.scalars(select(Hold))) == []


async def test_lifting_tells_each_office_and_clears_the_fact(session: AsyncSession) -> None:
    case, a, b, _ = await two_offices_on_a_case(session)
    raised = await service.raise_hold(session, case.ref, "disputed", actor=STAFF, comment="letter")

    lifted = await service.lift_hold(
        session, raised.hold.hold_id, actor="boss@agence.example", comment="settled"
    )

    hold = lifted.hold
    assert hold.lifted_at is not None and (hold.lifted_by, hold.lift_comment) == (
        "boss@agence.example",
        "settled",
    )
    assert case.disputed is False
    lifts = {m.envelope.recipient: m for m in await sent(session, "hold_lift")}
    assert sorted(lifts) == sorted([a.code, b.code])
    notices = {n.office_code: n.notice for n in lifted.notices}
    for code, wire in lifts.items():
        assert isinstance(wire, v1.HoldLift)
        assert wire.notice_id == notices[code].message_id == wire.envelope.correlation_id
        assert (wire.hold_id, wire.situation, wire.still_held) == (hold.hold_id, "disputed", False)
        assert wire.mandate_refs == notices[code].mandate_refs and wire.comment == "settled"
        assert notices[code].lift_message_id == wire.envelope.message_id

    with pytest.raises(Conflict) as twice:
        await service.lift_hold(session, hold.hold_id, actor=STAFF, comment="again")
    assert twice.value.code == "hold.already_lifted" and twice.value.status == 409
    assert len(await sent(session, "hold_lift")) == 2  # nothing sent twice
    with pytest.raises(NotFound) as unknown:
        await service.lift_hold(session, "HLD-NOPE", actor=STAFF, comment="?")
    assert unknown.value.code == "hold.not_found"


async def test_the_fact_stays_while_another_hold_of_the_same_situation_is_active(
    session: AsyncSession,
) -> None:
    case, _, _, _ = await two_offices_on_a_case(session)
    first = await service.raise_hold(session, case.ref, "vulnerable", actor=STAFF, comment="illness")
    second = await service.raise_hold(session, case.ref, "vulnerable", actor=STAFF, comment="job lost")
    plan = await service.raise_hold(session, case.ref, "payment_plan_active", actor=STAFF, comment="plan")

    await service.lift_hold(session, first.hold.hold_id, actor=STAFF, comment="recovered")
    assert case.vulnerable is True and case.payment_plan_active is True
    assert all(isinstance(m, v1.HoldLift) and m.still_held for m in await sent(session, "hold_lift"))
    await service.lift_hold(session, second.hold.hold_id, actor=STAFF, comment="new job")
    assert case.vulnerable is False and case.payment_plan_active is True

    holds, _ = await service.list_holds(session, case.ref)
    assert [v.hold.hold_id for v in holds] == [first.hold.hold_id, second.hold.hold_id, plan.hold.hold_id]
    assert [v.hold.lifted_at is None for v in holds] == [False, False, True]
    assert all(len(v.notices) == 2 for v in holds)
    walked, after = [], None
    while True:  # a page at a time: the same holds, in the same order, each once
        page, after = await service.list_holds(session, case.ref, after=after, limit=1)
        walked += [v.hold.hold_id for v in page]
        if after is None:
            break
    assert walked == [v.hold.hold_id for v in holds]


async def test_a_limitation_hold_sets_the_date_the_guardrail_reads(session: AsyncSession) -> None:
    case, _, _, _ = await two_offices_on_a_case(session)
    view = await service.raise_hold(session, case.ref, "limitation_reached", actor=STAFF, comment="prescrit")
    assert case.limitation_reached_on == view.hold.raised_at.date()
    wire = (await sent(session, "hold_notice"))[0]
    assert isinstance(wire, v1.HoldNotice) and wire.reasons[0].code == "guardrail.limitation_reached"
    await service.lift_hold(session, view.hold.hold_id, actor=STAFF, comment="interrupted by an act")
    assert case.limitation_reached_on is None


async def test_the_limitation_reached_by_a_case_update_raises_a_hold(session: AsyncSession) -> None:
    case, a, b, _ = await two_offices_on_a_case(session)
    on = date(2026, 11, 30)
    data = CaseUpdateIn(kind="limitation_reached", reference="L-1", effective_on=on, comment="5 years")
    recorded = await service.record_update(session, case.ref, data, actor=STAFF)

    [view], _ = await service.list_holds(session, case.ref)
    assert (view.hold.situation, view.hold.raised_by) == ("limitation_reached", STAFF)
    assert recorded.update.update_id in view.hold.comment and "5 years" in view.hold.comment
    assert sorted(n.office_code for n in view.notices) == sorted([a.code, b.code])
    assert len(await sent(session, "hold_notice")) == 2 and len(await sent(session, "case_update")) == 2
    assert case.limitation_reached_on == on  # the update's date, not the hold's


async def test_a_legal_hold_is_lifted_only_once_its_fact_is_gone_and_the_lift_never_clears_it(
    session: AsyncSession,
) -> None:
    case, _, _, _ = await two_offices_on_a_case(session)
    on = date(2026, 11, 30)
    data = CaseUpdateIn(kind="limitation_reached", reference="L-1", effective_on=on, comment="5 years")
    await service.record_update(session, case.ref, data, actor=STAFF)
    [barred], _ = await service.list_holds(session, case.ref)
    insolvent = await service.raise_hold(
        session, case.ref, "insolvency_proceedings", actor=STAFF, comment="commission"
    )
    for view in (barred, insolvent):
        with pytest.raises(Conflict) as refused:
            await service.lift_hold(session, view.hold.hold_id, actor=STAFF, comment="mistake?")
        assert refused.value.code == "hold.legal_block" and view.hold.lifted_at is None
    assert case.limitation_reached_on is not None and case.insolvency_proceedings is True
    assert await sent(session, "hold_lift") == []

    # The proceedings end by a case update, which tells the offices; the hold can then be lifted.
    ended = CaseUpdateIn(kind="insolvency_ended", reference="END-1", effective_on=date.today())
    await service.record_update(session, case.ref, ended, actor=STAFF)
    await service.lift_hold(session, insolvent.hold.hold_id, actor=STAFF, comment="plan closed")
    assert case.insolvency_proceedings is False and case.limitation_reached_on == on
    assert len(await sent(session, "hold_lift")) == 2
