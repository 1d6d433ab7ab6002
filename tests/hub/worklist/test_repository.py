"""The worklist's statements that compute in the database what a rule computes in Python give the
rule's answer, on both engines: each office's pace (``hub.worklist.pace.office_paces``), each
office's and case's first hold notice overdue (as the worklist kept them from the mandates module's
list), the money held past the deadline (the ageing rule walking the ledger's every entry)."""

from __future__ import annotations

import random
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.clock import utcnow
from hub.ledger import service as ledger
from hub.ledger.models import LedgerTransaction
from hub.ledger.postings import (
    CASE_COLLECTIONS,
    COLLECTED_BY_OFFICE,
    COLLECTION,
    REMITTANCE,
    REMITTED_TO_AGENCY,
    Posting,
)
from hub.mandates import service as mandates
from hub.mandates.models import Hold, HoldNotice, Mandate
from hub.offices.models import Office
from hub.remittances import service as remittances
from hub.remittances.repository import oldest_unremitted
from hub.settings import get_settings
from hub.worklist import pace, service
from hub.worklist.repository import Resume, WorklistRepository
from tests.hub.acts.factories import Seeded, seed
from tests.hub.finance.factories import act
from tests.hub.ledger.factories import kept_money, ledger_money
from tests.hub.remittances.factories import aged_from_the_ledger
from tests.hub.worklist.factories import a_mandate, an_office, days_ago

WINDOW = 365


async def test_the_offices_paces_are_the_rules(session: AsyncSession) -> None:
    """Offices of a few mandates each with acts drawn at random (acts of one day on one mandate,
    acts before the window, a mandate of one act, an office of single acts): the database's middle
    gaps make each office's pace exactly as ``office_paces`` does from the acts, an int median or a
    float one, and no row for an office with no gap."""
    draw = random.Random(20261205)
    acts = []
    offices = [await an_office(session) for _ in range(6)]
    codes = [o.code for o in offices]
    for n, office in enumerate(offices):
        for _ in range(1 if n == 5 else draw.randint(1, 4)):
            s = await a_mandate(session, office)
            for _ in range(1 if n == 5 else draw.randint(1, 7)):
                ago = draw.choice([draw.randint(0, 420), 3, 3, 10])
                await act(session, s, days_ago(ago))
                acts.append((office.code, s.mandate.id, days_ago(ago)))
    since = days_ago(WINDOW)

    rows = await WorklistRepository(session).office_paces(since, None)
    found = {row[0]: pace.pace_of(*row) for row in rows if row[0] in codes}

    expected = {
        code: p
        for code, p in pace.office_paces(a for a in acts if a[2] >= since).items()
        if p.median_gap_days is not None
    }
    assert repr(sorted(found.items())) == repr(sorted(expected.items()))
    assert len(expected) >= 4 and codes[5] not in found
    assert {type(p.median_gap_days) for p in expected.values()} == {int, float}, "both kinds of median"
    first = await WorklistRepository(session).office_paces(since, offices[0].id)
    assert [pace.pace_of(*row) for row in first] == [found[offices[0].code]]


async def test_the_stale_mandates_are_the_rule_on_the_acts_reported(session: AsyncSession) -> None:
    """Mandates drawn at random over offices (at the office or not, issued at any hour of the day),
    acts reported on them in any date order, each office's cutoff drawn: the statement's rows, whole,
    by pages of any size from each one's cursor, and one office's, are the mandates acknowledged or
    in progress quiet since before their office's cutoff, quiet since the latest of their acts (the
    acts' own, not the kept column) else the UTC day they were issued, in the items' order."""
    draw = random.Random(34)
    offices = [await an_office(session) for _ in range(4)]
    quiet: list[tuple[date, str, str]] = []  # (since, office code, ref) of the mandates at the office
    for office in offices:
        for _ in range(draw.randint(4, 9)):
            status = draw.choice(["acknowledged", "in_progress", "in_progress", "completed", "issued"])
            issued = utcnow() - timedelta(days=draw.randint(0, 300), hours=draw.randint(0, 23))
            s = await a_mandate(session, office, status=status, issued=issued)
            days = [draw.randint(0, 300) for _ in range(draw.choice([0, 0, 1, 2, 4]))]
            for ago in days:
                await act(session, s, days_ago(ago))
            if status in ("acknowledged", "in_progress"):
                since = days_ago(min(days)) if days else issued.astimezone(UTC).date()
                quiet.append((since, office.code, s.mandate.ref))
    cutoff = days_ago(60)
    cutoffs = {
        offices[0].code: days_ago(draw.randint(0, 200)),
        offices[1].code: days_ago(draw.randint(0, 200)),
    }
    cutoffs[offices[2].code] = cutoff  # an office whose pace gives the default's cutoff
    expected = sorted(
        (since, f"{code}:{ref}") for since, code, ref in quiet if since < cutoffs.get(code, cutoff)
    )
    assert 10 <= len(expected) < len(quiet), "not vacuous: some mandates stale, some not"
    repo = WorklistRepository(session)

    def keys(rows: Sequence[Any]) -> list[tuple[date, str]]:
        return [
            (on or issued_at.astimezone(UTC).date(), f"{code}:{ref}") for ref, code, _, issued_at, on in rows
        ]

    assert keys(await repo.stale_mandates(None, cutoffs, cutoff, None, 10_000)) == expected
    for limit in (1, 4, 7):
        walked: list[tuple[date, str]] = []
        after: Resume | None = None
        while page := keys(await repo.stale_mandates(None, cutoffs, cutoff, after, limit)):
            assert len(page) <= limit
            walked += page
            after = Resume(*walked[-1])
        assert walked == expected, limit
    one = offices[1]
    mine = await repo.stale_mandates(one.id, cutoffs, cutoff, None, 10_000)
    assert keys(mine) == [key for key in expected if key[1].startswith(one.code + ":")]


def notice(office: Office, sent_days_ago: float, *, due_hours_ago: float = 5, **fields: Any) -> HoldNotice:
    now = utcnow()
    return HoldNotice(
        message_id=f"HOLD-{secrets.token_hex(8)}",
        office_id=office.id,
        situation="vulnerable",
        sent_at=now - timedelta(days=sent_days_ago),
        ack_due_by=now - timedelta(hours=due_hours_ago),
        **fields,
    )


async def test_hold_notices_overdue_one_item_per_office_and_case_from_its_first(
    session: AsyncSession,
) -> None:
    """As the worklist read them from the mandates module's list: each office's and case's earliest
    sent notice among those overdue (of two sent at once, the first due), with its hold's first
    mandate, or its own (a notice of before holds); acknowledged and not yet due ones left out."""
    x, y = await an_office(session), await an_office(session)
    cases = [await seed(session, office=x, status="in_progress") for _ in range(4)]
    theirs = Mandate(
        id=uuid.uuid4(),
        ref=f"M-{y.code}-1",
        case_id=cases[1].case.id,
        office_id=y.id,
        kind="per_act",
        acts=["SERVE_TITLE"],
        currency="EUR",
        status="in_progress",
        created_by="agent@agence.example",
        issued_at=utcnow() - timedelta(days=40),
    )  # y works on x's second case too
    session.add(theirs)
    holds = [
        Hold(hold_id=f"HLD-{secrets.token_hex(6)}", case_id=s.case.id, situation="vulnerable", comment="",
             raised_by="a@b.c", raised_at=utcnow() - timedelta(days=30))
        for s in cases
    ]  # fmt: skip
    session.add_all(holds)
    await session.flush()

    def on(n: int, refs: list[str]) -> dict[str, Any]:
        return {
            "hold_id": holds[n].id,
            "mandates": [{"mandate_ref": r, "act_codes": ["SERVE_TITLE"]} for r in refs],
        }

    same = utcnow() - timedelta(days=6)
    session.add_all([
        notice(x, 10, **on(0, ["M-A2", "M-A1"])),
        notice(x, 5, **on(0, ["M-A3"])),
        notice(x, 20, acknowledged_at=utcnow(), mandate_id=cases[1].mandate.id),
        notice(x, 8, mandate_id=cases[1].mandate.id),
        notice(y, 9, mandate_id=theirs.id),
        notice(x, 0, due_hours_ago=2, **on(2, [])),
        notice(x, 0, due_hours_ago=3, **on(2, ["M-C"])),
        notice(x, 3, due_hours_ago=-1, **on(3, ["M-D"])),
    ])  # fmt: skip
    await session.flush()
    for row in await session.scalars(select(HoldNotice).where(HoldNotice.hold_id == holds[2].id)):
        row.sent_at = same  # two notices sent at once: the first due is the item's
    await session.flush()

    # The rule as the worklist applied it to the mandates module's list.
    views, _ = await mandates.list_hold_notices(session, overdue=True, limit=service.ALL)
    first: dict[tuple[str, str], tuple[str, str, str | None]] = {}
    for v in sorted(views, key=lambda v: v.notice.sent_at):
        if v.office_code in (x.code, y.code) and (v.office_code, v.case_ref) not in first:
            mandate_ref = v.mandate_refs[0] if v.mandate_refs else None
            item_id = f"hold_notice_ack_overdue:{v.notice.sent_at.date()}:{v.office_code}:{v.case_ref}"
            first[(v.office_code, v.case_ref)] = (item_id, v.notice.message_id, mandate_ref)
    expected = sorted(first.values())
    assert len(expected) == 4 and [m for _, _, m in expected].count("M-C") == 1

    found, _ = await service.worklist(
        session, kinds=frozenset({"hold_notice_ack_overdue"}), limit=service.ALL
    )
    mine = [v.item for v in found if v.item.office_code in (x.code, y.code)]
    assert [(i.id, i.explanation.split()[3], i.mandate_ref) for i in mine] == expected
    assert {i.mandate_ref for i in mine} == {"M-A2", cases[1].mandate.ref, theirs.ref, "M-C"}
    walked = []
    for office in (x, y):
        after = None
        while True:
            page, after = await service.worklist(
                session,
                office_code=office.code,
                kinds=frozenset({"hold_notice_ack_overdue"}),
                after=after,
                limit=1,
            )
            walked += [v.item for v in page]
            if after is None:
                break
    assert sorted(walked, key=lambda i: i.id) == mine


async def test_money_held_past_the_deadline_as_the_ledger_ages_it(session: AsyncSession) -> None:
    """Ledgers drawn at random (collections, several a day, remittances, some more than was
    collected, collections and remittances reversed later, a case in two currencies collected on one
    day): the figures the database keeps are the ledger's own sums; the cases it ages from them are
    those the ageing rule finds walking every entry of the ledger, with what each holds and since
    when; the worklist's overdue ones come in the items' order, a page after another or whole, and
    finance lists the same."""
    draw = random.Random(7)
    offices = [await an_office(session) for _ in range(3)]
    codes = {o.code for o in offices}
    for n in range(18):
        s = await seed(session, office=offices[n % 3])
        currencies = ["EUR", "USD"] if n == 4 else ["EUR"]
        for currency in currencies:
            collections = []
            for _ in range(draw.randint(1 if n in (0, 4) else 0, 4)):
                day = days_ago(50) if n == 4 else days_ago(draw.randint(0, 90))
                cents = draw.choice([1_000, 2_500, 4_000])
                collections.append(await collect(session, s, day, cents, currency))
            for _ in range(0 if n == 4 else draw.randint(0, 2)):
                cents = draw.choice([500, 2_500, 6_000])
                remitted = await ledger.post(
                    session,
                    REMITTANCE,
                    [
                        Posting(COLLECTED_BY_OFFICE, -cents, currency),
                        Posting(REMITTED_TO_AGENCY, cents, currency),
                    ],
                    effective_on=days_ago(draw.randint(0, 40)),
                    source=f"remittance:{secrets.token_hex(4)}",
                    case_id=s.case.id,
                    office_id=s.office.id,
                )
                if draw.random() < 0.2:
                    await ledger.reverse(session, remitted.id, reason="bounced", effective_on=days_ago(0))
            if collections and n != 4 and draw.random() < 0.3:
                await ledger.reverse(
                    session, collections[0].id, reason="typed twice", effective_on=days_ago(1)
                )
    await session.flush()
    ids = [o.id for o in offices]
    assert await kept_money(session, ids) == await ledger_money(session, ids)

    aged = await aged_from_the_ledger(session, ids)
    kept = await session.execute(oldest_unremitted(None))
    assert {(code, ref, cur): (cents, on) for code, ref, cur, cents, on in kept if code in codes} == aged
    days = get_settings().remittance_deadline_days
    cutoff = days_ago(0) - timedelta(days=days)
    # The rule as the worklist applies it: the items in their order.
    expected = sorted(
        (
            (f"unremitted:{on}:{code}:{ref}", cents, currency)
            for (code, ref, currency), (cents, on) in aged.items()
            if on < cutoff
        ),
        key=lambda item: item[0],
    )
    assert len(expected) >= 5 and len({i for i, _, _ in expected}) == len(expected) - 1, (
        "one case in two currencies"
    )

    def mine(views: list[service.ItemView]) -> list[tuple[str, int | None, str | None]]:
        return [
            (v.item.id, v.item.amount_cents, v.item.currency) for v in views if v.item.office_code in codes
        ]

    whole, _ = await service.worklist(session, kinds=frozenset({"unremitted"}), limit=service.ALL)
    assert mine(whole) == expected
    for office in offices:
        page, _ = await service.worklist(
            session, office_code=office.code, kinds=frozenset({"unremitted"}), limit=2
        )
        assert mine(page) == [i for i in expected if f":{office.code}:" in i[0]][:2]
    listed = await remittances.unremitted(session, deadline_days=days)
    assert {
        (owed.office_code, case.case_ref, case.currency): (case.cents, case.oldest_on)
        for owed in listed
        for case in owed.cases
        if owed.office_code in codes
    } == aged


async def collect(session: AsyncSession, s: Seeded, on: date, cents: int, currency: str) -> LedgerTransaction:
    """Money the office collected on ``s``'s case, as an act report posts it."""
    return await ledger.post(
        session,
        COLLECTION,
        [Posting(COLLECTED_BY_OFFICE, cents, currency), Posting(CASE_COLLECTIONS, -cents, currency)],
        effective_on=on,
        source=f"act_report:{uuid.uuid4()}",
        case_id=s.case.id,
        office_id=s.office.id,
    )
