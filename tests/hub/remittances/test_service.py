"""``hub.remittances.service``: a remittance is posted whole to the ledger against what the office
collected on each case and still holds, or refused whole with every failing line; the money held and
not remitted, per office and case, with its age."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.errors import Conflict, InvalidInput
from hub.ledger import service as ledger
from hub.ledger.models import LedgerTransaction
from hub.messaging import service as messaging
from hub.remittances import service
from hub.remittances.models import Remittance, RemittanceLine
from schemas import v1
from tests.hub.finance.factories import act
from tests.hub.remittances.factories import Collecting, collecting, remittance


async def send(
    session: AsyncSession, who: Collecting, lines: list[tuple[str, int]], currency: str = "EUR", **kw: str
) -> Remittance:
    data = {**remittance(who.code, lines, **kw), "currency": currency}
    message = v1.Remittance.model_validate_json(json.dumps(data))
    stored = await messaging.store_inbound(
        session,
        messaging.Envelope(message.envelope.message_id, "remittance", who.code, "AGENCY"),
        b"{}",
        "application/json",
    )
    # As the inbound path applies it: refused, nothing it wrote stays.
    async with session.begin_nested():
        posted = await service.receive(session, who.office, message, stored)
        await session.flush()
    return posted


async def held(session: AsyncSession, who: Collecting, i: int) -> int:
    balances = await ledger.balances(session, case_id=who.cases[i].case.id, office_id=who.office.id)
    return ledger.balance_of(balances, ledger.COLLECTED_BY_OFFICE)


async def count(session: AsyncSession, model: type) -> int:
    return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_each_line_is_posted_against_what_the_case_holds(session: AsyncSession) -> None:
    a = await collecting(session, [50_000, 12_550])
    posted = await send(session, a, [(a.ref(0), 45_000), (a.ref(1), 12_550)])

    assert posted.total_cents == 57_550 and posted.value_date == date(2026, 4, 3)
    assert [await held(session, a, i) for i in (0, 1)] == [5_000, 0]
    lines = (await session.execute(select(RemittanceLine).order_by(RemittanceLine.position))).scalars().all()
    mine = [line for line in lines if line.remittance_id == posted.id]
    assert [(line.position, line.amount_cents) for line in mine] == [(0, 45_000), (1, 12_550)]
    for line in mine:  # each line is its own balanced remittance transaction
        txn = await session.get(LedgerTransaction, line.transaction_id)
        assert txn is not None and txn.kind == ledger.REMITTANCE and txn.effective_on == date(2026, 4, 3)
        assert txn.source == f"remittance:{posted.bank_reference}"


async def test_every_failing_line_is_listed_and_nothing_is_posted(session: AsyncSession) -> None:
    a = await collecting(session, [10_000, 3_000])
    b = await collecting(session, [9_000])
    remittances, transactions = await count(session, Remittance), await count(session, LedgerTransaction)
    lines = [
        (a.ref(0), 6_000),  # fine alone
        ("C-NO-SUCH-CASE", 100),
        (a.ref(0), 5_000),  # with line 0, 11,000 of 10,000
        (b.ref(0), 1_000),  # another office's case: as unknown
        (a.ref(1), 3_001),
    ]
    with pytest.raises(InvalidInput) as refused:
        await send(session, a, lines)

    found = [(e.path, e.code) for e in refused.value.errors]
    assert found == [
        ("/lines/1/case_ref", "remittance.case_unknown"),
        ("/lines/2/amount_cents", "remittance.above_collected"),
        ("/lines/3/case_ref", "remittance.case_unknown"),
        ("/lines/4/amount_cents", "remittance.above_collected"),
    ]
    messages = [e.message for e in refused.value.errors]
    assert a.ref(0) in messages[1] and "asks 5000 cents EUR, 4000 available" in messages[1]
    assert "asks 3001 cents EUR, 3000 available" in messages[3]
    assert await count(session, Remittance) == remittances
    assert await count(session, LedgerTransaction) == transactions
    assert [await held(session, a, i) for i in (0, 1)] == [10_000, 3_000]


async def test_what_was_remitted_is_not_available_again(session: AsyncSession) -> None:
    a = await collecting(session, [10_000])
    await send(session, a, [(a.ref(0), 7_000)])
    with pytest.raises(InvalidInput) as refused:
        await send(session, a, [(a.ref(0), 3_001)])
    assert "asks 3001 cents EUR, 3000 available" in refused.value.errors[0].message
    await send(session, a, [(a.ref(0), 3_000)])
    assert await held(session, a, 0) == 0


async def test_money_collected_in_another_currency_is_not_available(session: AsyncSession) -> None:
    a = await collecting(session, [10_000])
    with pytest.raises(InvalidInput) as refused:
        await send(session, a, [(a.ref(0), 100)], currency="CHF")
    assert "asks 100 cents CHF, 0 available" in refused.value.errors[0].message


async def test_a_bank_reference_is_remitted_once(session: AsyncSession) -> None:
    a = await collecting(session, [10_000])
    await send(session, a, [(a.ref(0), 1_000)], bank_reference="VIR-ONCE")
    with pytest.raises(Conflict) as twice:
        await send(session, a, [(a.ref(0), 1_000)], bank_reference="VIR-ONCE")
    assert twice.value.code == "remittance.duplicate_reference"
    # Posted by staff by hand under that reference counts too.
    await ledger.remit(
        session,
        office_code=a.code,
        case_ref=a.ref(0),
        amount_cents=500,
        currency="EUR",
        effective_on=date(2026, 4, 1),
        reference="VIR-BY-HAND",
        recorded_by="finance@agence.example",
    )
    with pytest.raises(Conflict):
        await send(session, a, [(a.ref(0), 500)], bank_reference="VIR-BY-HAND")
    assert await held(session, a, 0) == 8_500


async def test_unremitted_per_office_and_case_with_its_age(session: AsyncSession) -> None:
    a = await collecting(session, [10_000, 2_000], on=date(2026, 3, 2))
    await send(session, a, [(a.ref(1), 2_000)])
    await send(session, a, [(a.ref(0), 4_000)])
    found = await service.unremitted(session, deadline_days=30, office=a.office, today=date(2026, 4, 15))
    (office,) = found
    assert (office.office_code, office.cents, office.oldest_on, office.age_days, office.overdue) == (
        a.code,
        6_000,
        date(2026, 3, 2),
        44,
        True,
    )
    assert [(c.case_ref, c.cents) for c in office.cases] == [(a.ref(0), 6_000)]
    (lenient,) = await service.unremitted(session, deadline_days=60, office=a.office, today=date(2026, 4, 15))
    assert not lenient.overdue
    await send(session, a, [(a.ref(0), 6_000)])
    assert await service.unremitted(session, deadline_days=30, office=a.office) == []


async def test_a_case_whose_mandate_never_reached_the_office_answers_like_an_unknown_one(
    session: AsyncSession,
) -> None:
    a = await collecting(session, [1_000])
    mandate = a.cases[0].mandate
    mandate.issued_at = None  # as a draft or a held mandate: never sent to the office
    await session.flush()
    with pytest.raises(InvalidInput) as refused:
        await send(session, a, [(a.ref(0), 1_000)])
    assert [e.code for e in refused.value.errors] == ["remittance.case_unknown"]
    assert await count(session, Remittance) == 0


async def test_a_collection_reversed_later_does_not_make_the_money_held_look_newer(
    session: AsyncSession,
) -> None:
    a = await collecting(session, [10_000], on=date(2026, 3, 2))  # held since 2 March
    wrong = await act(session, a.cases[0], date(2026, 4, 1), collected=20_000)
    [collection] = await session.scalars(
        select(LedgerTransaction).where(
            LedgerTransaction.source == f"act_report:{wrong.id}", LedgerTransaction.kind == ledger.COLLECTION
        )
    )
    await ledger.reverse(session, collection.id, reason="typed twice", effective_on=date(2026, 4, 10))
    await session.flush()
    (office,) = await service.unremitted(session, deadline_days=30, office=a.office, today=date(2026, 4, 15))
    assert (office.cents, office.oldest_on, office.overdue) == (10_000, date(2026, 3, 2), True)
