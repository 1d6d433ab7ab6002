"""Every query of the acts module (act reports, and what their checks read of mandates and cases)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any, NamedTuple

from sqlalchemy import (
    Row,
    Select,
    String,
    Text,
    Uuid,
    bindparam,
    func,
    literal_column,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, contains_eager

from hub.acts.models import ActReport, MandateActTally
from hub.cases.models import Case, Debtor
from hub.kit.db import RowBuffer, advisory_locks, any_of, records
from hub.mandates.models import Approval, Hold, HoldNotice, Mandate
from hub.messaging.models import CaseKey, InboxEntry, Receipt, StoredMessage
from hub.offices.models import Office

_RECENT_ACT_COLUMNS = (
    ActReport.case_id,
    ActReport.act_code,
    ActReport.act_date,
    ActReport.outcome_code,
    ActReport.seized_cents,
    ActReport.collected_cents,
)


def _runs(window: Any, newest_first: Sequence[Any]) -> Select[Any]:
    """The acts of ``window`` (each case's latest, in the order ``newest_first``) as runs: each stretch
    of equal acts in a row is one row with its length (``repeats``), newest first per case. A case
    reported the same act on again and again reads one row instead of fifty."""
    columns = [window.c[c.key] for c in _RECENT_ACT_COLUMNS]
    position = func.row_number().over(partition_by=window.c.case_id, order_by=newest_first)
    within = func.row_number().over(partition_by=columns, order_by=newest_first)
    ranked = select(*columns, position.label("position"), (position - within).label("run")).subquery("ranked")
    kept = [ranked.c[c.key] for c in _RECENT_ACT_COLUMNS]
    return (
        select(*kept, func.count().label("repeats"))
        .group_by(ranked.c.run, *kept)
        .order_by(ranked.c.case_id, func.min(ranked.c.position))
    )


def _recent_acts_pg() -> Select[Any]:
    """PostgreSQL: per case, the first ``latest_limit`` entries of ix_act_reports_case_latest (a case
    with thousands of acts costs what one with fifty does), as runs (``_runs``). The cases come as one
    array parameter, not a VALUES list: a statement built once, whose compiled form SQLAlchemy caches
    (a VALUES construct has no cache key, so it was compiled again for every report)."""
    wanted = func.unnest(bindparam("case_ids", type_=ARRAY(Uuid()))).table_valued("id")
    wanted = wanted.render_derived(name="wanted")
    latest = (
        select(*_RECENT_ACT_COLUMNS, ActReport.created_at, ActReport.id)
        .where(ActReport.case_id == wanted.c.id)
        .order_by(ActReport.act_date.desc(), ActReport.created_at.desc())
        .limit(bindparam("latest_limit"))
        .lateral("latest")
    )
    window = select(latest).select_from(wanted).join(latest, true()).subquery("recent")
    return _runs(window, (window.c.act_date.desc(), window.c.created_at.desc(), window.c.id))


_RECENT_ACTS_PG = _recent_acts_pg()


def _recent_acts_sqlite() -> Select[Any]:
    """SQLite has no LATERAL: a window over each case's acts (the embedded store's cases are small),
    as runs (``_runs``)."""
    newest_first = (ActReport.act_date.desc(), ActReport.created_at.desc(), ActReport.id)
    newest = func.row_number().over(partition_by=ActReport.case_id, order_by=newest_first).label("newest")
    ranked = (
        select(*_RECENT_ACT_COLUMNS, newest)
        .where(ActReport.case_id.in_(bindparam("case_ids", expanding=True)))
        .subquery()
    )
    window = select(ranked).where(ranked.c.newest <= bindparam("latest_limit")).subquery("recent")
    return _runs(window, (window.c.newest,))


_RECENT_ACTS_SQLITE = _recent_acts_sqlite()

# The reads of every act report (``hub.acts.service.ReportReads``), built once at import: building a
# statement (its columns' operators, its clauses) and its cache key cost more CPU than executing it
# again does; their parameters are bound by name.
_LOCK_MANDATES = (
    select(Mandate, CaseKey.case_id, CaseKey.wrapped_key)
    .outerjoin(CaseKey, CaseKey.case_id == Mandate.case_id)
    .where(Mandate.office_id == bindparam("office_id"), Mandate.ref.in_(bindparam("refs", expanding=True)))
    .order_by(Mandate.id)
    .with_for_update(key_share=True, of=Mandate)
    .execution_options(populate_existing=True)
)


def _lock_mandates_then_keys() -> Select[Any]:
    """PostgreSQL: ``_LOCK_MANDATES`` and then ``hub.kit.db.advisory_locks`` of ``lock_keys``, in one
    statement and in that order: the advisory locks' rows are filtered on a count of the locked
    mandates (an InitPlan), so every mandate is locked before the first advisory lock is asked for,
    as two statements did. One row when no mandate is found (its columns NULL): the keys are locked
    all the same."""
    locked = (
        select(Mandate, CaseKey.case_id.label("key_case_id"), CaseKey.wrapped_key)
        .outerjoin(CaseKey, CaseKey.case_id == Mandate.case_id)
        .where(Mandate.office_id == bindparam("office_id"), Mandate.ref == any_of("refs", String()))
        .order_by(Mandate.id)
        .with_for_update(key_share=True, of=Mandate)
        .cte("locked")
    )
    keys = func.unnest(bindparam("lock_keys", type_=ARRAY(Text()))).table_valued("key")
    keys = keys.render_derived(name="keys")
    ordered = (
        select(func.hashtextextended(keys.c.key, literal_column("0")).label("k"))
        .where(select(func.count()).select_from(locked).scalar_subquery() >= literal_column("0"))
        .order_by("k")
        .subquery("ordered")
    )
    held = select(func.count(func.pg_advisory_xact_lock(ordered.c.k)).label("held")).subquery("held")
    return (
        select(aliased(Mandate, locked), locked.c.key_case_id, locked.c.wrapped_key)
        .select_from(held)
        .outerjoin(locked, true())
        .execution_options(populate_existing=True)
    )


_CASES_WITH_DEBTORS = (
    select(Case)
    .join(Case.debtor)
    .options(contains_eager(Case.debtor))
    .where(Case.id.in_(bindparam("case_ids", expanding=True)))
)
_REFERENCES_USED = select(ActReport.office_reference).where(
    ActReport.office_id == bindparam("office_id"),
    ActReport.office_reference.in_(bindparam("references", expanding=True)),
)


def _acknowledged_holds(on_cases: Any) -> Select[Any]:
    return (
        select(
            Hold.id, Hold.hold_id, Hold.case_id, Hold.situation, Hold.lifted_at, HoldNotice.acknowledged_at
        )
        .join(HoldNotice, HoldNotice.hold_id == Hold.id)
        .where(
            on_cases,
            HoldNotice.office_id == bindparam("office_id"),
            HoldNotice.acknowledged_at.is_not(None),
        )
    )


_ACKNOWLEDGED_HOLDS = _acknowledged_holds(Hold.case_id.in_(bindparam("case_ids", expanding=True)))


# PostgreSQL: the reads after the locks, folded into one statement (one round trip, and one
# statement's CPU through SQLAlchemy instead of five). Each read is an array of records in a column
# of the one row; the arrays' parameters (``= ANY(:cases)``) are one bound value each, whatever their
# length (``hub.kit.db.records``, ``hub.kit.db.any_of``). SQLite keeps the statements above (a round
# trip there is a function call).
_CASE_COLUMNS = tuple(Case.__table__.columns)
_FOLDED_CASE_NAMES = (*(c.key for c in _CASE_COLUMNS), "creditor_reclaims_vat")
_FOLDED_READS = select(
    records(
        select(ActReport.office_reference).where(
            ActReport.office_id == bindparam("office_id"),
            ActReport.office_reference == any_of("references", String()),
        )
    ).label("references_used"),
    records(
        select(*_CASE_COLUMNS, Case.creditor_reclaims_vat, Debtor.kind)
        .join(Debtor, Debtor.id == Case.debtor_id)
        .where(Case.id == any_of("case_ids", Uuid()))
    ).label("cases"),
    records(_RECENT_ACTS_PG).label("acts"),
    records(_acknowledged_holds(Hold.case_id == any_of("case_ids", Uuid()))).label("holds"),
    records(
        select(MandateActTally.mandate_id, MandateActTally.act_code, MandateActTally.reports).where(
            MandateActTally.mandate_id == any_of("per_act_mandates", Uuid())
        )
    ).label("acts_reported"),
    records(
        select(InboxEntry.message_id, InboxEntry.message_pk).where(
            InboxEntry.sender == bindparam("sender"), InboxEntry.message_id == any_of("message_ids", String())
        )
    ).label("applied"),
)

_LOCK_MANDATES_THEN_KEYS = _lock_mandates_then_keys()


class RecentAct(NamedTuple):
    """One run of a case's latest acts, as the cost check reads it: the act, and how many times in a
    row it was reported (``recent_acts_on_cases``'s ``repeats``)."""

    case_id: uuid.UUID
    act_code: str
    act_date: date
    outcome_code: str
    seized_cents: int | None
    collected_cents: int | None
    repeats: int


class AcknowledgedHoldRow(NamedTuple):
    id: uuid.UUID
    hold_id: str
    case_id: uuid.UUID
    situation: str
    lifted_at: datetime | None
    acknowledged_at: datetime


class CaseRead(SimpleNamespace):
    """A case as the folded read returns it: its columns, its creditor's VAT setting and its debtor's
    kind (``debtor.kind``), what ``hub.cases.service.case_facts`` reads; no ORM object."""


@dataclass(frozen=True)
class ReadsAfterLocks:
    """What act reports' checks read once their locks are held (``reads_after_locks``)."""

    references_used: set[str]
    cases: list[CaseRead]
    acts: list[RecentAct]  # per case, newest first, as runs
    holds: list[AcknowledgedHoldRow]
    acts_reported: dict[uuid.UUID, Counter[str]]  # per per-act mandate asked for, per act code
    applied: dict[str, uuid.UUID]  # message id -> the stored message that applied it


def _mandates_and_keys(
    rows: Iterable[Any],
) -> tuple[dict[str, Mandate], dict[uuid.UUID, bytes | None]]:
    """The locked mandates by ref and their cases' wrapped keys (None: erased), from rows of (the
    mandate, its key's case id, the wrapped key); a row with no mandate (the advisory locks' row
    when none was found) is skipped."""
    mandates: dict[str, Mandate] = {}
    keys: dict[uuid.UUID, bytes | None] = {}
    for mandate, has_key, wrapped in rows:
        if mandate is None:
            continue
        mandates[mandate.ref] = mandate
        if has_key is not None:
            keys[mandate.case_id] = wrapped
    return mandates, keys


def _reference_lock_keys(office_id: uuid.UUID, references: Collection[str]) -> set[str]:
    return {f"act_reference {office_id} {reference}" for reference in references}


class ActReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_office_mandates(
        self, office_id: uuid.UUID, refs: Collection[str]
    ) -> tuple[dict[str, Mandate], dict[uuid.UUID, bytes | None]]:
        """The office's mandates among ``refs``, each locked until commit (PostgreSQL), in id order
        so that two writers locking several never wait on each other in a cycle; read fresh, as
        the lock found them. Reports under one mandate are then checked one after the other: its
        status, the acts it still orders, the fees left in its budget. ``NO KEY UPDATE``: rows that
        merely point at the mandate (act reports, log rows) are not held up. SQLite: a no-op (one
        writer at a time).

        With them, read in the same statement (not locked), the wrapped key of each of their cases
        that has one (None: erased), for ``sealing.remember_keys``."""
        found = await self.session.execute(_LOCK_MANDATES, {"office_id": office_id, "refs": list(refs)})
        return _mandates_and_keys(found)

    async def reads_after_locks(
        self,
        office_id: uuid.UUID,
        references: Collection[str],
        case_ids: Collection[uuid.UUID],
        *,
        latest_limit: int,
        per_act_mandates: Collection[uuid.UUID],
        sender: str,
        message_ids: Collection[str],
    ) -> ReadsAfterLocks:
        """PostgreSQL only: in one statement, what ``references_used``, ``cases_with_debtors``,
        ``recent_acts_on_cases``, ``acknowledged_holds``, ``MandateRepository.acts_reported`` (of
        ``per_act_mandates``) and ``MessageRepository.inbox_entries`` (of ``sender``'s
        ``message_ids``) read, each as its own statement would (the same rows, in the same order)."""
        found = await self.session.execute(
            _FOLDED_READS,
            {
                "office_id": office_id,
                "references": list(references),
                "case_ids": list(case_ids),
                "latest_limit": latest_limit,
                "per_act_mandates": list(per_act_mandates),
                "sender": sender,
                "message_ids": list(message_ids),
            },
        )
        used, cases, acts, holds, tallies, applied = found.one()
        reported: dict[uuid.UUID, Counter[str]] = {mandate_id: Counter() for mandate_id in per_act_mandates}
        for mandate_id, act_code, n in tallies:
            reported[mandate_id][act_code] += int(n)
        return ReadsAfterLocks(
            references_used=set(used),
            cases=[
                CaseRead(
                    **dict(zip(_FOLDED_CASE_NAMES, case[:-1], strict=True)),
                    debtor=SimpleNamespace(kind=case[-1]),
                )
                for case in cases
            ],
            acts=[RecentAct._make(act) for act in acts],
            holds=[AcknowledgedHoldRow._make(hold) for hold in holds],
            acts_reported=reported,
            applied=dict(applied),
        )

    async def lock_mandates_and_references(
        self,
        office_id: uuid.UUID,
        refs: Collection[str],
        references: Collection[str],
        *,
        also: Collection[str] = (),
    ) -> tuple[dict[str, Mandate], dict[uuid.UUID, bytes | None]]:
        """``lock_office_mandates``, then ``lock_references`` (with ``also``); on PostgreSQL in one
        statement, the mandates locked first all the same."""
        if self.session.get_bind().dialect.name != "postgresql":
            found = await self.lock_office_mandates(office_id, refs)
            await self.lock_references(office_id, references, also=also)
            return found
        rows = await self.session.execute(
            _LOCK_MANDATES_THEN_KEYS,
            {
                "office_id": office_id,
                "refs": list(refs),
                "lock_keys": sorted(_reference_lock_keys(office_id, references) | set(also)),
            },
        )
        return _mandates_and_keys(rows)

    async def cases_with_debtors(self, case_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Case]:
        """The cases, each with its debtor loaded (``case.debtor`` needs no query)."""
        found = await self.session.execute(_CASES_WITH_DEBTORS, {"case_ids": list(case_ids)})
        return {case.id: case for case in found.scalars()}

    async def approvals_quoted(
        self, pairs: Collection[tuple[str, uuid.UUID]]
    ) -> dict[tuple[str, uuid.UUID], Approval]:
        """The approvals of the (approval id, mandate id) pairs that exist, whatever their decision
        (pending, approved, refused): the check tells them apart."""
        found = await self.session.execute(
            select(Approval).where(tuple_(Approval.approval_id, Approval.mandate_id).in_(list(pairs)))
        )
        return {(a.approval_id, a.mandate_id): a for a in found.scalars()}

    async def lock_references(
        self, office_id: uuid.UUID, references: Collection[str], *, also: Collection[str] = ()
    ) -> None:
        """Holds each of the office's act references until commit (PostgreSQL: an advisory lock on
        its hash, all taken in one statement and one order; SQLite has one writer at a time). A
        reference is unique per office whatever the mandate, so two reports reusing one under two
        mandates (whose locks do not meet) are checked one after the other, not failed by the
        unique index at commit. ``also``: other advisory lock keys taken in the same statement (the
        reports' message ids)."""
        await advisory_locks(self.session, _reference_lock_keys(office_id, references) | set(also))

    async def references_used(self, office_id: uuid.UUID, references: Collection[str]) -> set[str]:
        found = await self.session.execute(
            _REFERENCES_USED, {"office_id": office_id, "references": list(references)}
        )
        return set(found.scalars())

    async def acknowledged_holds(
        self, office_id: uuid.UUID, case_ids: Collection[uuid.UUID]
    ) -> Sequence[Row[Any]]:
        """The holds on these cases whose notice this office acknowledged, active or lifted (a report
        may come after the lift for an act done before it): the columns only, in one query."""
        found = await self.session.execute(
            _ACKNOWLEDGED_HOLDS, {"office_id": office_id, "case_ids": list(case_ids)}
        )
        return found.all()

    async def recent_acts_on_cases(
        self, case_ids: Collection[uuid.UUID], *, limit: int = 50
    ) -> Sequence[Row[Any]]:
        """The latest ``limit`` acts of each case (what its cost check looks at), newest first per
        case, each run of equal acts in a row as one row with its length (``repeats``): the columns
        only, in one query."""
        postgresql = self.session.get_bind().dialect.name == "postgresql"
        found = await self.session.execute(
            _RECENT_ACTS_PG if postgresql else _RECENT_ACTS_SQLITE,
            {"case_ids": list(case_ids), "latest_limit": limit},
        )
        return found.all()

    def add(self, row: dict[str, Any]) -> None:
        """A new report, given as its row (every column but ``created_at``), written by the next
        flush; with a row buffer open (a batch chunk, an act report's request), staged as it is, with
        no ORM object, and written with the unit of work's other reports (nothing reads it back)."""
        if not RowBuffer.stage(self.session, ActReport, row):
            self.session.add(ActReport(**row))

    async def flagged(
        self,
        *,
        office_id: uuid.UUID | None,
        since: date | None,
        until: date | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[tuple[ActReport, str, str, str]]:
        """Flagged act reports by id (the cursor), ``limit`` after ``after``, of one office or all, with
        an act date in ``[since, until]``: each with its office code, mandate ref and case ref."""
        query = (
            select(ActReport, Office.code, Mandate.ref, Case.ref)
            .join(Office, Office.id == ActReport.office_id)
            .join(Mandate, Mandate.id == ActReport.mandate_id)
            .join(Case, Case.id == ActReport.case_id)
            .where(ActReport.flagged.is_(True))
            .order_by(ActReport.id)
            .limit(limit)
        )
        if office_id is not None:
            query = query.where(ActReport.office_id == office_id)
        if since is not None:
            query = query.where(ActReport.act_date >= since)
        if until is not None:
            query = query.where(ActReport.act_date <= until)
        if after is not None:
            query = query.where(ActReport.id > after)
        rows = (await self.session.execute(query)).all()
        return [(act, office, mandate, case) for act, office, mandate, case in rows]

    async def by_message(self, message_pk: uuid.UUID) -> ActReport | None:
        found = await self.session.execute(select(ActReport).where(ActReport.message_pk == message_pk))
        return found.scalar_one_or_none()

    async def batch_records(self, batch_pk: uuid.UUID, *, after: int, limit: int) -> Sequence[Any]:
        """Records ``after`` + 1 to ``after`` + ``limit`` of a batch, in order: (message id, hub id,
        accepted, errors)."""
        rows = await self.session.execute(
            select(StoredMessage.message_id, StoredMessage.id, Receipt.accepted, Receipt.errors)
            .join(Receipt, Receipt.message_pk == StoredMessage.id)
            .where(StoredMessage.parent_id == batch_pk, StoredMessage.direction == "inbound")
            # Receipts are numbered as records are applied, in file order (created_at can tie, and
            # message ids are random).
            .order_by(Receipt.id)
            .offset(after)
            .limit(limit)
        )
        return rows.all()

    async def batch_counts(self, batch_pk: uuid.UUID) -> tuple[int, int]:
        """(accepted, refused) records of a batch."""
        rows = await self.session.execute(
            select(Receipt.accepted, func.count())
            .join(StoredMessage, Receipt.message_pk == StoredMessage.id)
            .where(StoredMessage.parent_id == batch_pk, StoredMessage.direction == "inbound")
            .group_by(Receipt.accepted)
        )
        counts = {bool(accepted): int(n) for accepted, n in rows.all()}
        return counts.get(True, 0), counts.get(False, 0)
