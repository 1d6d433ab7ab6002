"""Every query of the worklist module: what waits on mandates, approvals, invoices, hold notices and
money held, the offices' pace, and the reminders sent."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, aliased
from sqlalchemy.sql.elements import ColumnElement, Grouping

from hub.acts.models import ActReport
from hub.cases.models import Case
from hub.invoices.models import Invoice, InvoiceState
from hub.ledger.postings import exact_cents
from hub.mandates.models import WORKING, Approval, Hold, HoldNotice, Mandate, MandateStatus
from hub.offices.models import Office
from hub.remittances.repository import oldest_unremitted
from hub.worklist.models import Reminder

Expression = ColumnElement[Any] | QueryableAttribute[Any]

REMINDER_KEYS_A_STATEMENT = 1_000  # (office, topic, subject): 3,000 parameters, a statement PostgreSQL parses


def _status(status: MandateStatus) -> ColumnElement[str]:
    """A status written into the statement, not bound: PostgreSQL's generic plan of a prepared
    statement (the sixth run on) can use a partial index only when the query states its predicate."""
    return literal_column(f"'{status.value}'")


@dataclass(frozen=True)
class Resume:
    """Where a kind's items resume after a page's cursor, in their order (day, then
    ``<office code>:<subject>`` by code point): those of ``day`` whose office:subject follows
    ``rest``, and every later day's; ``rest`` None: every item from ``day`` on."""

    day: date
    rest: str | None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _next_midnight(day: date) -> datetime:
    return _midnight(day + timedelta(days=1)) if day < date.max else datetime.max.replace(tzinfo=UTC)


class WorklistRepository:
    """Each kind's query answers one page: ``limit`` rows at most, in the items' order (the day they
    started waiting, then ``<office code>:<subject>``), after ``after``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _sqlite(self) -> bool:
        return self.session.get_bind().dialect.name == "sqlite"

    def _utc_day(self, at: Expression) -> ColumnElement[date]:
        """The UTC day of a timestamp, as the items' ``since`` is."""
        if self._sqlite:
            return type_coerce(func.date(at), Date)  # stored as UTC text
        return cast(func.timezone(literal_column("'UTC'"), at), Date)

    def _rest(self, code: Expression, subject: Expression) -> ColumnElement[str]:
        """``<office code>:<subject>``, compared by code point as Python compares the items' ids
        (PostgreSQL's "C" collation; SQLite's own is binary)."""
        rest: ColumnElement[str] = code + literal(":") + subject
        return rest if self._sqlite else Grouping(rest).collate("C")

    async def _page(
        self,
        query: Select[*tuple[Any, ...]],
        *,
        day: ColumnElement[date],
        rest: ColumnElement[str],
        after: Resume | None,
        limit: int,
        at: Expression | None = None,
        walk: Select[*tuple[Any, ...]] | None = None,
        then: Sequence[Expression] = (),
    ) -> Sequence[Any]:
        """``query``'s rows after ``after``, ``limit`` at most, ordered by (``day``, ``rest``). With
        ``at``, the timestamp whose UTC day ``day`` is, on an index: the cursor bounds ``at`` (a range
        the index walks), a first statement finds the day of the ``limit``-th row in ``at``'s order
        (a walk of ``limit`` index entries), and the page's statement sorts the rows up to that day's
        end only: the page's rows and the others of the days at its two ends. With ``walk``, ``day``
        is itself on an index: ``walk`` selects it from the one table of that index, with
        ``query``'s conditions on that table (no join, so the planner walks the index whatever it
        estimates), and finds the page's last day the same way; the cursor's own day is left out of
        it, so that day is never before the page's last. ``then`` orders the rows of one key, as the
        items' order keeps them."""
        if after is not None:
            if at is None:
                query = query.where(day >= after.day)
                if after.rest is not None:
                    query = query.where(or_(day > after.day, rest > after.rest))
            else:
                query = query.where(at >= _midnight(after.day))
                if after.rest is not None:
                    query = query.where(or_(at >= _next_midnight(after.day), rest > after.rest))
        if at is not None:
            last = await self.session.scalar(
                query.with_only_columns(at).order_by(at).offset(limit - 1).limit(1)
            )
            if last is not None:
                query = query.where(at < _next_midnight(last.astimezone(UTC).date()))
        elif walk is not None:
            if after is not None:
                walk = walk.where(day >= after.day if after.rest is None else day > after.day)
            last_day = await self.session.scalar(walk.order_by(day).offset(limit - 1).limit(1))
            if last_day is not None:
                query = query.where(day <= last_day)
        return list((await self.session.execute(query.order_by(day, rest, *then).limit(limit))).all())

    def _days_between(self, later: Expression, earlier: Expression) -> ColumnElement[int]:
        """Whole days from ``earlier`` to ``later``, two dates."""
        if self._sqlite:
            return cast(func.julianday(later) - func.julianday(earlier), Integer)  # dates stored as text
        return type_coerce(later - earlier, Integer)

    async def office_paces(self, since: date, office_id: uuid.UUID | None) -> Sequence[Any]:
        """Each office's pace from the acts reported from ``since`` (``hub.worklist.pace``), in the
        database: (office code, gaps, lower middle gap, upper middle gap) of each office with a gap
        between two days of acts on one mandate (acts of one day on one mandate count once); the
        median is the middle gap, or the mean of the two middle ones. One row an office, whatever
        the acts."""
        days = (
            select(ActReport.office_id, ActReport.mandate_id, ActReport.act_date)
            .where(ActReport.act_date >= since)
            .distinct()
        )
        if office_id is not None:
            days = days.where(ActReport.office_id == office_id)
        acts = days.subquery()
        previous = func.lag(acts.c.act_date).over(
            partition_by=(acts.c.office_id, acts.c.mandate_id), order_by=acts.c.act_date
        )
        gaps = select(acts.c.office_id, self._days_between(acts.c.act_date, previous).label("gap")).subquery()
        ranked = (
            select(
                gaps.c.office_id,
                gaps.c.gap,
                func.row_number().over(partition_by=gaps.c.office_id, order_by=gaps.c.gap).label("n"),
                func.count().over(partition_by=gaps.c.office_id).label("gaps"),
            )
            .where(gaps.c.gap.is_not(None))
            .subquery()
        )
        # The middle one (an odd count), or the two middle ones (even): ranks (c + 1) // 2 and c // 2 + 1.
        middle = or_(ranked.c.n == (ranked.c.gaps + 1) // 2, ranked.c.n == ranked.c.gaps // 2 + 1)
        query = (
            select(Office.code, func.max(ranked.c.gaps), func.min(ranked.c.gap), func.max(ranked.c.gap))
            .select_from(ranked)
            .join(Office, Office.id == ranked.c.office_id)
            .where(middle)
            .group_by(Office.code)
        )
        return (await self.session.execute(query)).all()

    async def stale_mandates(
        self,
        office_id: uuid.UUID | None,
        cutoffs: Mapping[str, date],
        cutoff: date,
        after: Resume | None,
        limit: int,
        subject: str | None = None,
    ) -> Sequence[Any]:
        """Mandates acknowledged or in progress quiet since before their office's cutoff (``cutoffs``
        by office code, ``cutoff`` for the others): their last activity, the date of the last act
        reported on them (``last_act_on``, kept by the database), else the day they were issued.
        (ref, office code, case ref, issued_at, the date of the last act or None). A walk of
        ``ix_mandates_working_quiet_since`` from the cursor's day up to the latest cutoff: the page's
        rows, the others of the days at its two ends, and those of offices whose own cutoff is
        earlier; never an act report."""
        since = self._quiet_since()
        by_day: dict[date, list[str]] = defaultdict(list)
        for code, day in cutoffs.items():
            if day != cutoff:
                by_day[day].append(code)
        # Each office's cutoff by its id (the offices of a code found once, a hashed subplan): the
        # mandates' own conditions, which the walk of their index reads without a join.
        before: ColumnElement[date] = literal(cutoff, Date)
        if by_day:
            before = case(
                *(
                    (
                        Mandate.office_id.in_(select(Office.id).where(Office.code.in_(codes))),
                        literal(day, Date),
                    )
                    for day, codes in by_day.items()
                ),
                else_=before,
            )
        # The index's predicate and expression, written as it states them; the latest cutoff bounds
        # the walk, each office's its rows.
        mine = [
            Mandate.status.in_([_status(s) for s in WORKING]),
            since < literal(max([cutoff, *cutoffs.values()]), Date),
            since < before,
        ]
        if office_id is not None:
            mine.append(Mandate.office_id == office_id)
        if subject is not None:
            mine.append(Mandate.ref == subject)
        query = (
            select(Mandate.ref, Office.code, Case.ref, Mandate.issued_at, Mandate.last_act_on)
            .select_from(Mandate)
            .join(Office, Office.id == Mandate.office_id)
            .join(Case, Case.id == Mandate.case_id)
            .where(*mine)
        )
        rest = self._rest(Office.code, Mandate.ref)
        walk = select(since).select_from(Mandate).where(*mine)
        return await self._page(query, day=since, rest=rest, after=after, limit=limit, walk=walk)

    def _quiet_since(self) -> ColumnElement[date]:
        """A mandate's last activity: its last act's date, else the UTC day it was issued; the
        expression ``ix_mandates_working_quiet_since`` orders (on SQLite, ``date(issued_at)``)."""
        since: ColumnElement[date] = func.coalesce(Mandate.last_act_on, self._utc_day(Mandate.issued_at))
        return type_coerce(since, Date) if self._sqlite else since

    async def unacknowledged_mandates(
        self,
        issued_before: datetime,
        office_id: uuid.UUID | None,
        after: Resume | None,
        limit: int,
        subject: str | None = None,
    ) -> Sequence[Any]:
        """Mandates issued before ``issued_before`` and still neither accepted nor refused: (ref,
        office code, case ref, issued_at); a walk of ``ix_mandates_issued_issued_at``."""
        query = (
            select(Mandate.ref, Office.code, Case.ref, Mandate.issued_at)
            .select_from(Mandate)
            .join(Office, Office.id == Mandate.office_id)
            .join(Case, Case.id == Mandate.case_id)
            .where(Mandate.status == _status(MandateStatus.ISSUED), Mandate.issued_at < issued_before)
        )
        if office_id is not None:
            query = query.where(Mandate.office_id == office_id)
        if subject is not None:
            query = query.where(Mandate.ref == subject)
        at = Mandate.issued_at
        rest = self._rest(Office.code, Mandate.ref)
        return await self._page(query, day=self._utc_day(at), rest=rest, after=after, limit=limit, at=at)

    async def held_mandates(
        self, office_id: uuid.UUID | None, after: Resume | None, limit: int, subject: str | None = None
    ) -> Sequence[Any]:
        """Mandates held for a person's approval: (mandate, office code, case ref); a walk of
        ``ix_mandates_held_created_at``."""
        query = (
            select(Mandate, Office.code, Case.ref)
            .select_from(Mandate)
            .join(Office, Office.id == Mandate.office_id)
            .join(Case, Case.id == Mandate.case_id)
            .where(Mandate.status == _status(MandateStatus.HELD))
        )
        if office_id is not None:
            query = query.where(Mandate.office_id == office_id)
        if subject is not None:
            query = query.where(Mandate.ref == subject)
        at = Mandate.created_at
        rest = self._rest(Office.code, Mandate.ref)
        return await self._page(query, day=self._utc_day(at), rest=rest, after=after, limit=limit, at=at)

    async def pending_cost_requests(
        self, office_id: uuid.UUID | None, after: Resume | None, limit: int, subject: str | None = None
    ) -> Sequence[Any]:
        """Offices' cost requests waiting for a decision: (approval, mandate ref, office code, case
        ref); a walk of ``ix_approvals_pending_created_at``."""
        query = (
            select(Approval, Mandate.ref, Office.code, Case.ref)
            .select_from(Approval)
            .join(Mandate, Mandate.id == Approval.mandate_id)
            .join(Office, Office.id == Mandate.office_id)
            .join(Case, Case.id == Mandate.case_id)
            .where(Approval.decision.is_(None), Approval.request_message_id.is_not(None))
        )
        if office_id is not None:
            query = query.where(Mandate.office_id == office_id)
        if subject is not None:
            query = query.where(Approval.approval_id == subject)
        at = Approval.created_at
        rest = self._rest(Office.code, Approval.approval_id)
        return await self._page(query, day=self._utc_day(at), rest=rest, after=after, limit=limit, at=at)

    async def disputed_invoices(
        self, office_id: uuid.UUID | None, after: Resume | None, limit: int, subject: str | None = None
    ) -> Sequence[Any]:
        """Invoices disputed and not settled: (invoice, office code). Their day is the dispute's, else
        the receipt's: no index orders it, so the database sorts the disputed invoices (few: each
        waits for one credit note) and sends back the page's."""
        query = (
            select(Invoice, Office.code)
            .select_from(Invoice)
            .join(Office, Office.id == Invoice.office_id)
            .where(Invoice.state == InvoiceState.DISPUTED.value)
        )
        if office_id is not None:
            query = query.where(Invoice.office_id == office_id)
        if subject is not None:
            query = query.where(Invoice.number == subject)
        day = self._utc_day(func.coalesce(Invoice.dispute_sent_at, Invoice.received_at))
        rest = self._rest(Office.code, Invoice.number)
        return await self._page(query, day=day, rest=rest, after=after, limit=limit)

    async def overdue_hold_notices(
        self,
        due_before: datetime,
        office_id: uuid.UUID | None,
        after: Resume | None,
        limit: int,
        subject: str | None = None,
    ) -> Sequence[Any]:
        """Each office's and case's earliest sent hold notice among those not acknowledged by their
        deadline, past by ``due_before``: (notice, its mandate's ref (the notices of before holds),
        office code, case ref). Its case is its hold's (or its mandate's); of two sent at once, the
        first due. No index orders it: the database reads the overdue notices (few: one per hold and
        office), keeps each case's first, and sends back the page's."""
        case_id = func.coalesce(Hold.case_id, Mandate.case_id)
        first = func.row_number().over(
            partition_by=(HoldNotice.office_id, case_id),
            order_by=(HoldNotice.sent_at, HoldNotice.ack_due_by, HoldNotice.id),
        )
        overdue = (
            select(
                HoldNotice,
                Mandate.ref.label("mandate_ref"),
                Office.code.label("code"),
                Case.ref.label("case_ref"),
                first.label("n"),
            )
            .select_from(HoldNotice)
            .outerjoin(Hold, Hold.id == HoldNotice.hold_id)
            .outerjoin(Mandate, Mandate.id == HoldNotice.mandate_id)
            .join(Case, Case.id == case_id)
            .join(Office, Office.id == HoldNotice.office_id)
            .where(HoldNotice.acknowledged_at.is_(None), HoldNotice.ack_due_by < due_before)
        )
        if office_id is not None:
            overdue = overdue.where(HoldNotice.office_id == office_id)
        if subject is not None:
            overdue = overdue.where(Case.ref == subject)
        rows = overdue.subquery()
        notice = aliased(HoldNotice, rows)
        query = select(notice, rows.c.mandate_ref, rows.c.code, rows.c.case_ref).where(rows.c.n == 1)
        day = self._utc_day(notice.sent_at)
        return await self._page(
            query, day=day, rest=self._rest(rows.c.code, rows.c.case_ref), after=after, limit=limit
        )

    async def unremitted_cases(
        self,
        collected_before: date,
        office_id: uuid.UUID | None,
        after: Resume | None,
        limit: int,
        subject: str | None = None,
    ) -> Sequence[Any]:
        """Cases on which an office holds money collected before ``collected_before`` and not
        remitted, by finance's own ageing of the ledger (``hub.remittances.repository.oldest_unremitted``):
        (office code, case ref, currency, cents held, the day of the oldest collection not remitted).
        No column holds that day: the database ages the cases on which offices hold money (from the
        figures it keeps, never the ledger) and sends back the page's."""
        held = oldest_unremitted(office_id, subject).subquery()
        query = select(held.c.code, held.c.ref, held.c.currency, held.c.cents, held.c.oldest_on).where(
            held.c.oldest_on < collected_before
        )
        rows = await self._page(
            query,
            day=held.c.oldest_on,
            rest=self._rest(held.c.code, held.c.ref),
            after=after,
            limit=limit,
            then=(held.c.currency,),
        )
        return [(code, ref, currency, exact_cents(cents), on) for code, ref, currency, cents, on in rows]

    async def office_ids(self, codes: Collection[str]) -> dict[str, uuid.UUID]:
        """The ids of the offices of ``codes``, in one statement."""
        if not codes:
            return {}
        rows = await self.session.execute(select(Office.code, Office.id).where(Office.code.in_(list(codes))))
        return {code: office_id for code, office_id in rows}

    # Reminders.

    def add(self, reminder: Reminder) -> None:
        self.session.add(reminder)

    async def reminded_today(
        self, office_id: uuid.UUID, topic: str, subject: str, day: date
    ) -> Reminder | None:
        """The reminder of this item already sent on ``day``, forced or not."""
        return await self.session.scalar(
            select(Reminder)
            .where(
                Reminder.office_id == office_id,
                Reminder.topic == topic,
                Reminder.subject == subject,
                Reminder.sent_on == day,
            )
            .order_by(Reminder.sent_at.desc())
            .limit(1)
        )

    async def last_reminders(
        self, items: Collection[tuple[uuid.UUID, str, str]]
    ) -> dict[tuple[uuid.UUID, str, str], Reminder]:
        """The last reminder sent of each (office id, topic, subject) of ``items``."""
        keys: list[tuple[uuid.UUID, str, str]] = list(items)
        last: dict[tuple[uuid.UUID, str, str], Reminder] = {}
        # In parts: an office's whole worklist, read to send it a reminder, can hold over 10,000 items,
        # and in one statement their keys failed ("stack depth limit exceeded" on PostgreSQL, which
        # takes 32,767 parameters at most in any case).
        for start in range(0, len(keys), REMINDER_KEYS_A_STATEMENT):
            rows = await self.session.scalars(
                select(Reminder)
                .where(
                    tuple_(Reminder.office_id, Reminder.topic, Reminder.subject).in_(
                        keys[start : start + REMINDER_KEYS_A_STATEMENT]
                    )
                )
                .order_by(Reminder.sent_at)
            )
            last |= {(r.office_id, r.topic, r.subject): r for r in rows}
        return last

    async def reminder(self, message_id: str, *, for_update: bool = False) -> Reminder | None:
        """``for_update``: locked and read fresh, so two acknowledgements are recorded one after the other."""
        query = select(Reminder).where(Reminder.message_id == message_id)
        if for_update:
            query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def erase_free_text(self, case_ref: str, erased: str) -> int:
        """Blanks the free texts of the reminders about a case (staff's comment, the office's answer),
        which may name the debtor (``hub gdpr erase``); returns how many reminders were touched."""
        done = await self.session.execute(
            update(Reminder)
            .where(Reminder.case_ref == case_ref)
            .values(
                comment=case((Reminder.comment.is_(None), None), else_=erased),
                ack_comment=case((Reminder.ack_comment.is_(None), None), else_=erased),
            )
        )
        return int(done.rowcount or 0)  # type: ignore[attr-defined]
