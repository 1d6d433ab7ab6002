"""The two ledgers the state machine drives (see ``machine.py``).

``PureLedger``: the pure rules of ``hub.ledger.postings`` with entries in a list.

``DatabaseLedger``: the real service and repository on SQLite or PostgreSQL, each sequence in a
transaction rolled back at its end (its own offices, creditors and cases created first).

Why a thread and a greenlet for the database: hypothesis drives a state machine synchronously, one
rule call at a time, while the ledger is async. The test is a plain (sync) function; the whole run
of the machine goes to an event loop of its own in a second thread (``EventLoopThread.drive``),
inside a greenlet, where each rule awaits its coroutine with SQLAlchemy's ``await_only`` (what its
own async layer does): a query costs a greenlet switch, not a hop between threads (a rule waiting
on ``run_coroutine_threadsafe`` for each of its 15 or so queries spent about a tenth of the time
waking the other thread). pytest-asyncio's loop is never touched or blocked, and the engine and its
connections live and die on that one loop, as asyncpg requires.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.util.concurrency import await_only, greenlet_spawn

from hub.kit.errors import NotFound
from hub.ledger import postings as p
from hub.ledger import service
from hub.ledger.models import LedgerEntry, LedgerTransaction
from hub.ledger.postings import Balances, Posting, Statement
from hub.ledger.repository import LedgerRepository
from tests.hub.ledger.factories import add_creditors_with_cases, add_offices
from tests.hub.ledger.machine import CASES_PER_CREDITOR, OFFICES, Entry, Parties

T = TypeVar("T")


# The pure ledger: the rules of hub.ledger.postings with entries in a list.


class PureLedger:
    def __init__(self) -> None:
        creditors = [uuid.uuid4() for _ in CASES_PER_CREDITOR]
        self.parties = Parties(
            offices=[uuid.uuid4() for _ in range(OFFICES)],
            creditor_of={
                uuid.uuid4(): c for c, n in zip(creditors, CASES_PER_CREDITOR, strict=True) for _ in range(n)
            },
        )
        self.entries: list[Entry] = []
        self.reverses: dict[uuid.UUID, uuid.UUID | None] = {}
        self.reversed_by: dict[uuid.UUID, uuid.UUID] = {}

    def post(
        self,
        kind: str,
        lines: list[Posting],
        *,
        on: date,
        source: str,
        case: uuid.UUID | None,
        office: uuid.UUID,
    ) -> uuid.UUID:
        p.check_balanced(lines)
        transaction_id = uuid.uuid4()
        self.entries += [
            Entry(transaction_id, x.account, x.currency, x.amount_cents, case, office, on, kind)
            for x in lines
        ]
        self.reverses[transaction_id] = None
        return transaction_id

    def reverse(self, transaction_id: uuid.UUID, *, reason: str, on: date) -> uuid.UUID:
        original = [e for e in self.entries if e.transaction_id == transaction_id]
        if not original:
            raise NotFound("no such transaction", code="ledger.transaction_not_found")
        p.check_reversal(
            transaction_id,
            reason=reason,
            effective_on=on,
            original_on=original[0].on,
            reverses_id=self.reverses[transaction_id],
            reversed_by=self.reversed_by.get(transaction_id),
        )
        negated = p.reversing([Posting(e.account, e.cents, e.currency) for e in original])
        p.check_balanced(negated)
        reversal = uuid.uuid4()
        self.entries += [
            Entry(reversal, x.account, x.currency, x.amount_cents, e.case_id, e.office_id, on, e.kind)
            for x, e in zip(negated, original, strict=True)
        ]
        self.reverses[reversal] = transaction_id
        self.reversed_by[transaction_id] = reversal
        return reversal

    def _matching(self, where: dict[str, Any]) -> list[Entry]:
        def keep(e: Entry) -> bool:
            creditor = self.parties.creditor_of.get(e.case_id) if e.case_id is not None else None
            return (
                where.get("case_id", e.case_id) == e.case_id
                and where.get("office_id", e.office_id) == e.office_id
                and ("creditor_id" not in where or creditor == where["creditor_id"])
                and where.get("start", e.on) <= e.on
                and ("end" not in where or e.on < where["end"])
            )

        return [e for e in self.entries if keep(e)]

    def balances(self, **where: Any) -> Balances:
        return p.add_up((e.account, e.currency, e.cents) for e in self._matching(where))

    def statement(self, office: uuid.UUID, start: date, end: date) -> Statement:
        groups: dict[tuple[str, str, str], int] = defaultdict(int)
        for e in self._matching({"office_id": office, "start": start, "end": end}):
            groups[(e.account, e.currency, e.kind)] += e.cents
        lines = tuple(
            p.StatementLine(a, c, k, None, total) for (a, c, k), total in sorted(groups.items()) if total
        )
        return Statement(office, start, end, self.balances(office_id=office, end=start), lines)

    def stored_entries(self) -> list[Entry]:
        return list(self.entries)

    def raw_sums(self) -> list[tuple[Entry, object]]:
        return [(e, e.cents) for e in self.entries]

    def unbalanced(self) -> list[uuid.UUID]:
        totals: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
        for e in self.entries:
            totals[(e.transaction_id, e.currency)] += e.cents
        return [t for (t, _), total in totals.items() if total]

    def close(self) -> None:
        pass


# The real ledger on a database.


class EventLoopThread:
    """An event loop in a thread of its own, for async code called from synchronous code."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="ledger-machine-loop", daemon=True)
        self.thread.start()

    def run(self, awaitable: Awaitable[T], timeout: float | None = 120) -> T:
        async def wait() -> T:
            return await awaitable

        return asyncio.run_coroutine_threadsafe(wait(), self.loop).result(timeout)

    def drive(self, work: Callable[[], T]) -> T:
        """Runs the synchronous ``work`` on the loop, in a greenlet where ``await_only`` may wait for
        a coroutine (``DatabaseLedger`` does, for every call); no time limit (pytest-timeout's)."""
        return self.run(greenlet_spawn(work), timeout=None)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


class DatabaseLedger:
    """The ledger service and repository in one transaction rolled back at the end of the sequence.
    Made and called inside ``EventLoopThread.drive``: each call awaits its coroutine there."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.connection: AsyncConnection = await_only(engine.connect())
        self.transaction = await_only(self.connection.begin())
        self.session = AsyncSession(
            bind=self.connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        self.parties = await_only(self._parties())

    async def _parties(self) -> Parties:
        offices = await add_offices(self.session, OFFICES)
        return Parties(offices, await add_creditors_with_cases(self.session, list(CASES_PER_CREDITOR)))

    def post(
        self,
        kind: str,
        lines: list[Posting],
        *,
        on: date,
        source: str,
        case: uuid.UUID | None,
        office: uuid.UUID,
    ) -> uuid.UUID:
        posted = await_only(
            service.post(
                self.session, kind, lines, effective_on=on, source=source, case_id=case, office_id=office
            )
        )
        return posted.id

    def reverse(self, transaction_id: uuid.UUID, *, reason: str, on: date) -> uuid.UUID:
        reversal = await_only(service.reverse(self.session, transaction_id, reason=reason, effective_on=on))
        return reversal.id

    def balances(self, **where: Any) -> Balances:
        return await_only(service.balances(self.session, **where))

    def statement(self, office: uuid.UUID, start: date, end: date) -> Statement:
        return await_only(service.statement(self.session, office, start, end))

    def _of_these_offices(self, query: Any) -> Any:
        return query.join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id).where(
            LedgerEntry.office_id.in_(self.parties.offices)
        )

    def stored_entries(self) -> list[Entry]:
        columns = (
            LedgerEntry.transaction_id,
            LedgerEntry.account,
            LedgerEntry.currency,
            LedgerEntry.amount_cents,
            LedgerEntry.case_id,
            LedgerEntry.office_id,
            LedgerTransaction.effective_on,
            LedgerTransaction.kind,
        )
        rows = await_only(self.session.execute(self._of_these_offices(select(*columns))))
        return [Entry(*row) for row in rows]

    def raw_sums(self) -> list[tuple[Entry, object]]:
        dimensions = (
            LedgerEntry.account,
            LedgerEntry.currency,
            LedgerEntry.case_id,
            LedgerEntry.office_id,
            LedgerTransaction.effective_on,
            LedgerTransaction.kind,
        )
        query = self._of_these_offices(select(*dimensions, func.sum(LedgerEntry.amount_cents))).group_by(
            *dimensions
        )
        rows = await_only(self.session.execute(query))
        nil = uuid.UUID(int=0)
        return [
            (Entry(nil, a, cur, 0, case, office, on, kind), total)
            for a, cur, case, office, on, kind, total in rows
        ]

    def unbalanced(self) -> list[uuid.UUID]:
        return await_only(LedgerRepository(self.session).unbalanced_transactions(self.parties.offices))

    def close(self) -> None:
        async def rollback() -> None:
            await self.session.close()
            await self.transaction.rollback()
            await self.connection.close()

        await_only(rollback())
