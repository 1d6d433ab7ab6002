"""Every query of the gdpr module: what the hub holds on a case's debtor, across the modules that
hold it, read for an export and blanked for an erasure."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from hub.acts.models import ActReport
from hub.cases.models import Case, CaseUpdate, Debtor
from hub.gdpr.models import GdprEvent
from hub.kit.pagination import after_row
from hub.ledger.models import LedgerEntry, LedgerTransaction
from hub.mandates.models import Hold, Mandate, MandateEvent
from hub.messaging.models import CaseKey, StoredMessage

# A case's key row as a join reads it: (the row's case id, or None when the case has no key yet; the
# wrapped key, or None once erased).
KeyRow = tuple[uuid.UUID | None, bytes | None]


def _with_keys_query(ref: Any, case_id: Any) -> Select[Any]:
    """``ref``, ``case_id`` and the case's key row of the rows whose ``ref`` is among ``refs``."""
    return (
        select(ref, case_id, CaseKey.case_id, CaseKey.wrapped_key)
        .outerjoin(CaseKey, CaseKey.case_id == case_id)
        .where(ref.in_(bindparam("refs", expanding=True)))
    )


# Read for every office message (``cases_of``, its stored body sealed with its case's key): built once.
_CASES_WITH_KEYS = _with_keys_query(Case.ref, Case.id)
_MANDATE_CASES_WITH_KEYS = _with_keys_query(Mandate.ref, Mandate.case_id)


class GdprRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def case_with_parties(self, ref: str, *, for_update: bool = False) -> Case | None:
        query = (
            select(Case)
            .where(Case.ref == ref)
            .options(selectinload(Case.creditor), selectinload(Case.debtor))
        )
        if for_update:
            query = query.with_for_update(of=Case).execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def case_ids(self, refs: Collection[str]) -> dict[str, tuple[uuid.UUID, KeyRow]]:
        """Each case's id by its ref, with its key row (read in the same query, ``KeyRow``)."""
        return await self._with_keys(_CASES_WITH_KEYS, refs)

    async def mandate_case_ids(self, refs: Collection[str]) -> dict[str, tuple[uuid.UUID, KeyRow]]:
        """Each mandate's case id by the mandate's ref, with the case's key row (``KeyRow``)."""
        return await self._with_keys(_MANDATE_CASES_WITH_KEYS, refs)

    async def _with_keys(
        self, query: Select[Any], refs: Collection[str]
    ) -> dict[str, tuple[uuid.UUID, KeyRow]]:
        """ref -> (case id, the case's key row) for the rows of ``query`` whose ref is in ``refs``."""
        if not refs:
            return {}
        rows = await self.session.execute(query, {"refs": list(refs)})
        return {found: (case, (has, wrapped)) for found, case, has, wrapped in rows}

    async def erased_at(self, case_id: uuid.UUID) -> CaseKey | None:
        key = await self.session.get(CaseKey, case_id, populate_existing=True)
        return key if key is not None and key.erased_at is not None else None

    async def closed_before(self, day: date, limit: int) -> list[str]:
        """Refs of cases closed before ``day`` whose personal data is not erased yet, oldest first."""
        erased = select(CaseKey.case_id).where(CaseKey.erased_at.is_not(None))
        query = (
            select(Case.ref)
            .where(Case.closed_on < day, Case.id.not_in(erased))
            .order_by(Case.closed_on, Case.ref)
            .limit(limit)
        )
        return list(await self.session.scalars(query))

    async def blank_debtor(self, debtor_id: uuid.UUID, name: str) -> None:
        await self.session.execute(
            update(Debtor)
            .where(Debtor.id == debtor_id)
            .values(name=name, address_line1=None, postcode=None, city=None)
            .execution_options(synchronize_session="fetch")
        )

    async def blank_case_updates(self, case_id: uuid.UUID) -> int:
        """Addresses and comments of the case's updates; kinds, dates and amounts stay."""
        done = await self.session.execute(
            update(CaseUpdate)
            .where(CaseUpdate.case_id == case_id)
            .values(address=None, comment=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(done, "rowcount", 0) or 0)

    async def blank_holds(self, case_id: uuid.UUID, erased: str) -> int:
        """Staff's free comments on the case's holds; the situation and the dates stay."""
        done = await self.session.execute(
            update(Hold)
            .where(Hold.case_id == case_id)
            .values(comment=erased, lift_comment=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(done, "rowcount", 0) or 0)

    async def mandates(self, case_id: uuid.UUID) -> Sequence[Mandate]:
        return list(
            await self.session.scalars(
                select(Mandate).where(Mandate.case_id == case_id).order_by(Mandate.created_at)
            )
        )

    async def mandate_events(self, mandate_ids: Collection[uuid.UUID]) -> Sequence[MandateEvent]:
        if not mandate_ids:
            return []
        query = select(MandateEvent).where(MandateEvent.mandate_id.in_(mandate_ids)).order_by(MandateEvent.id)
        return list(await self.session.scalars(query))

    async def act_reports(self, case_id: uuid.UUID) -> Sequence[ActReport]:
        query = (
            select(ActReport)
            .where(ActReport.case_id == case_id)
            .order_by(ActReport.act_date, ActReport.created_at)
        )
        return list(await self.session.scalars(query))

    async def ledger(self, case_id: uuid.UUID) -> Sequence[tuple[LedgerTransaction, LedgerEntry]]:
        query = (
            select(LedgerTransaction, LedgerEntry)
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .where(LedgerEntry.case_id == case_id)
            .order_by(LedgerTransaction.effective_on, LedgerEntry.id)
        )
        return [(t, e) for t, e in (await self.session.execute(query)).all()]

    async def holds(self, case_id: uuid.UUID) -> Sequence[Hold]:
        return list(
            await self.session.scalars(select(Hold).where(Hold.case_id == case_id).order_by(Hold.raised_at))
        )

    async def updates(self, case_id: uuid.UUID) -> Sequence[CaseUpdate]:
        query = select(CaseUpdate).where(CaseUpdate.case_id == case_id).order_by(CaseUpdate.id)
        return list(await self.session.scalars(query))

    async def events(self, case_ref: str) -> Sequence[GdprEvent]:
        query = select(GdprEvent).where(GdprEvent.case_ref == case_ref).order_by(GdprEvent.id)
        return list(await self.session.scalars(query))

    async def add_event(self, action: str, case_ref: str, actor: str, detail: dict[str, Any]) -> GdprEvent:
        event = GdprEvent(action=action, case_ref=case_ref, actor=actor, detail=detail)
        self.session.add(event)
        await self.session.flush()
        return event

    @staticmethod
    def _legacy(kinds: Collection[str]) -> tuple[Any, ...]:
        """Messages of ``kinds`` stored in the clear with no case."""
        return (
            StoredMessage.sealed.is_(False),
            StoredMessage.case_id.is_(None),
            StoredMessage.kind.in_(kinds),
        )

    async def legacy_messages(
        self, *, kinds: Collection[str], after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> Sequence[Any]:
        """The next ``limit`` messages of ``kinds`` stored in the clear with no case (before sealing,
        migration 0027), in the order stored (``ix_messages_created_at_id``), after ``after``
        (created_at, id)."""
        order = [StoredMessage.created_at, StoredMessage.id]
        query = (
            select(StoredMessage.id, StoredMessage.created_at, StoredMessage.body, StoredMessage.content_type)
            .where(*self._legacy(kinds))
            .order_by(*order)
            .limit(limit)
        )
        if after is not None:
            query = query.where(after_row(order, after))
        return (await self.session.execute(query)).all()

    async def count_legacy_messages(self, *, kinds: Collection[str]) -> int:
        query = select(func.count()).select_from(StoredMessage).where(*self._legacy(kinds))
        return int(await self.session.scalar(query) or 0)

    async def seal_legacy(self, message_pk: uuid.UUID, case_id: uuid.UUID, sealed_body: bytes) -> bool:
        """The message's body replaced by its sealed form, under its case, if it is still in the clear."""
        done = await self.session.execute(
            update(StoredMessage)
            .where(StoredMessage.id == message_pk, StoredMessage.sealed.is_(False))
            .values(body=sealed_body, case_id=case_id, sealed=True)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(done, "rowcount", 0))
