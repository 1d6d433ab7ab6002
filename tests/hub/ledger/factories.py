"""Rows the ledger's entries refer to: offices, creditors and their cases; transactions on a seeded
case; the money offices hold as the database keeps it and as the ledger's own entries sum it."""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.cases.models import Case, Creditor, Debtor
from hub.ledger import service as ledger
from hub.ledger.models import LedgerEntry, LedgerOfficeMonth, LedgerTransaction, MoneyCollectedDay, MoneyHeld
from hub.ledger.postings import COLLECTED_BY_OFFICE, COLLECTION, Posting, exact_cents
from hub.offices.models import Office
from tests.hub.acts.factories import Seeded

Held = dict[tuple[uuid.UUID, uuid.UUID, str], int]  # (office, case, currency) -> cents
Collected = dict[tuple[uuid.UUID, uuid.UUID, str, date], int]  # ... and day -> cents
Months = dict[tuple[uuid.UUID, date, str, str], int]  # (office, month, account, currency) -> cents


async def add_offices(session: AsyncSession, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    codes = [f"LG{secrets.token_hex(5).upper()}" for _ in ids]
    await session.execute(
        insert(Office), [{"id": i, "code": c, "name": f"Étude {c}"} for i, c in zip(ids, codes, strict=True)]
    )
    return ids


async def add_creditors_with_cases(
    session: AsyncSession, cases_per_creditor: list[int]
) -> dict[uuid.UUID, uuid.UUID]:
    """One creditor per item of ``cases_per_creditor``, with that many cases: case id -> creditor id."""
    creditors = [uuid.uuid4() for _ in cases_per_creditor]
    await session.execute(
        insert(Creditor), [{"id": c, "name": f"Créancier {secrets.token_hex(6)}"} for c in creditors]
    )
    debtor = uuid.uuid4()
    await session.execute(insert(Debtor), [{"id": debtor, "kind": "person", "name": "Jean Dupont"}])
    owners = {
        uuid.uuid4(): creditor
        for creditor, n in zip(creditors, cases_per_creditor, strict=True)
        for _ in range(n)
    }
    await session.execute(
        insert(Case),
        [
            {
                "id": case,
                "ref": f"C-LG-{secrets.token_hex(6)}",
                "creditor_id": creditor,
                "debtor_id": debtor,
                "claim_kind": "consumer",
                "principal_cents": 100_000,
            }
            for case, creditor in owners.items()
        ],
    )
    return owners


async def posted_on(
    session: AsyncSession, s: Seeded, kind: str, postings: list[Posting], on: date
) -> LedgerTransaction:
    """A ``kind`` transaction of ``postings`` on ``s``'s case and office, effective ``on``, flushed."""
    transaction = await ledger.post(
        session,
        kind,
        postings,
        effective_on=on,
        source=f"{kind}:{uuid.uuid4()}",
        case_id=s.case.id,
        office_id=s.office.id,
    )
    await session.flush()
    return transaction


async def kept_money(session: AsyncSession, offices: Collection[uuid.UUID]) -> tuple[Held, Collected]:
    """The money ``offices`` hold and collected per day, as the database keeps it (``MoneyHeld``,
    ``MoneyCollectedDay``)."""
    held = await session.execute(
        select(MoneyHeld.office_id, MoneyHeld.case_id, MoneyHeld.currency, MoneyHeld.cents).where(
            MoneyHeld.office_id.in_(list(offices))
        )
    )
    days = await session.execute(
        select(
            MoneyCollectedDay.office_id,
            MoneyCollectedDay.case_id,
            MoneyCollectedDay.currency,
            MoneyCollectedDay.collected_on,
            MoneyCollectedDay.cents,
        ).where(MoneyCollectedDay.office_id.in_(list(offices)))
    )
    return _keyed(held.all()), _keyed(days.all())


async def ledger_money(session: AsyncSession, offices: Collection[uuid.UUID]) -> tuple[Held, Collected]:
    """The same figures summed from the ledger's entries: every ``collected_by_office`` entry, and
    those of ``collection`` transactions per day (a reversal's on the day of what it reverses)."""
    total = func.sum(LedgerEntry.amount_cents)
    key = (LedgerEntry.office_id, LedgerEntry.case_id, LedgerEntry.currency)
    held = await session.execute(
        select(*key, total)
        .where(LedgerEntry.account == COLLECTED_BY_OFFICE, LedgerEntry.office_id.in_(list(offices)))
        .group_by(*key)
    )
    reversed_ = aliased(LedgerTransaction)
    day = func.coalesce(reversed_.effective_on, LedgerTransaction.effective_on)
    days = await session.execute(
        select(*key, day, total)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .outerjoin(reversed_, reversed_.id == LedgerTransaction.reverses_id)
        .where(
            LedgerEntry.account == COLLECTED_BY_OFFICE,
            LedgerEntry.office_id.in_(list(offices)),
            LedgerTransaction.kind == COLLECTION,
        )
        .group_by(*key, day)
    )
    return _keyed(held.all()), _keyed(days.all())


async def kept_months(session: AsyncSession, offices: Collection[uuid.UUID]) -> Months:
    """The offices' entries summed by month, account and currency as the database keeps them
    (``LedgerOfficeMonth``, its slots added up)."""
    key = (
        LedgerOfficeMonth.office_id,
        LedgerOfficeMonth.month,
        LedgerOfficeMonth.account,
        LedgerOfficeMonth.currency,
    )
    rows = await session.execute(
        select(*key, func.sum(LedgerOfficeMonth.cents))
        .where(LedgerOfficeMonth.office_id.in_(list(offices)))
        .group_by(*key)
    )
    return _keyed(rows.all())


async def ledger_months(session: AsyncSession, offices: Collection[uuid.UUID]) -> Months:
    """The same sums from the ledger's entries, each in the month its transaction is effective."""
    rows = await session.execute(
        select(
            LedgerEntry.office_id,
            LedgerTransaction.effective_on,
            LedgerEntry.account,
            LedgerEntry.currency,
            LedgerEntry.amount_cents,
        )
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerEntry.office_id.in_(list(offices)))
    )
    months: Months = defaultdict(int)
    for office_id, on, account, currency, cents in rows:
        months[(office_id, on.replace(day=1), account, currency)] += cents
    return dict(months)


def _keyed(rows: Collection[Any]) -> dict[Any, int]:
    return {tuple(row[:-1]): exact_cents(row[-1]) for row in rows}
