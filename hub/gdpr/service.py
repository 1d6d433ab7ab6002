"""Debtors' personal data under control (docs/personal-data.md, docs/adr/0015-personal-data.md):
which case a message concerns (its body is sealed with the case's key), everything the hub holds
on a debtor in one export, and erasure: the case's key destroyed and the personal fields blanked,
while amounts, dates, the ledger, references and every signed receipt stay. Takes a session; never
commits."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Case
from hub.gdpr.models import GdprAction
from hub.gdpr.repository import GdprRepository
from hub.kit.clock import utcnow
from hub.kit.errors import Gone, NotFound
from hub.mandates.repository import MandateRepository
from hub.messaging import sealing
from hub.messaging.inbound import Refused, decode
from hub.messaging.repository import MessageRepository
from hub.messaging.service import receipt_verifies, stored_receipt_payload
from hub.settings import get_settings
from hub.worklist.repository import WorklistRepository
from schemas import v1
from schemas.v1.kinds import MESSAGE_TYPES

log = structlog.get_logger()
ERASED = "[erased]"
SWEEP_ACTOR = "sweep"
# The debtor's situation on the case, personal data the rules read while the case is worked:
# blanked by an erasure. Amounts owed and paid, dates and the legal facts that justified acts stay.
SITUATION_FIELDS = (
    "bank_balance_cents",
    "bank_balance_seen_on",
    "pending_debits_cents",
    "monthly_net_income_cents",
    "income_seen_on",
    "dependents",
    "seizable_goods_value_cents",
    "goods_valued_on",
    "vehicle_value_cents",
    "vehicle_valued_on",
    "vulnerable",
)


async def cases_of(session: AsyncSession, messages: Sequence[v1.MessageModel]) -> list[uuid.UUID | None]:
    """The case each office message concerns, by its ``case_ref`` or its ``mandate_ref`` (two queries
    for the whole set, which read the cases' keys too); None for a message of no single case
    (invoices, remittances)."""
    repo = GdprRepository(session)
    case_refs = {ref for m in messages if isinstance(ref := getattr(m, "case_ref", None), str)}
    mandate_refs = {ref for m in messages if isinstance(ref := getattr(m, "mandate_ref", None), str)}
    by_case = await repo.case_ids(case_refs)
    by_mandate = await repo.mandate_case_ids(mandate_refs - case_refs)
    sealing.remember_keys(
        session,
        {case_id: wrapped for case_id, (has, wrapped) in [*by_case.values(), *by_mandate.values()] if has},
    )
    found: list[uuid.UUID | None] = []
    for m in messages:
        case_ref, mandate_ref = getattr(m, "case_ref", None), getattr(m, "mandate_ref", None)
        if isinstance(case_ref, str):
            found.append(by_case[case_ref][0] if case_ref in by_case else None)
        elif isinstance(mandate_ref, str):
            found.append(by_mandate[mandate_ref][0] if mandate_ref in by_mandate else None)
        else:
            found.append(None)
    return found


@dataclass
class LegacySealing:
    """What ``seal_legacy`` did, added up over its batches."""

    sealed: int = 0  # sealed with their case's key (a key thrown away, for an erased case)
    of_no_case: int = 0  # left in the clear: receipts, invoices, remittances, bodies of no v1 form
    skipped: int = 0  # sealed by another process meanwhile

    def add(self, other: LegacySealing) -> None:
        self.sealed += other.sealed
        self.of_no_case += other.of_no_case
        self.skipped += other.skipped


LEGACY_BATCH = 200  # messages per transaction: short ones, so that the hub's writers get their turn
# The kinds whose messages name a case (``case_ref``) or a mandate (``mandate_ref``), as ``cases_of``
# reads them: the only ones a legacy body can be sealed under.
CASE_KINDS = frozenset(
    kind for kind, model in MESSAGE_TYPES.items() if {"case_ref", "mandate_ref"} & set(model.model_fields)
)


async def seal_legacy(
    session: AsyncSession, *, after: tuple[datetime, uuid.UUID] | None = None, limit: int = LEGACY_BATCH
) -> tuple[LegacySealing, tuple[datetime, uuid.UUID] | None]:
    """The next ``limit`` messages stored before bodies were sealed (migration 0027: in the clear,
    with no case; only the kinds that name a case, ``CASE_KINDS``: receipts, invoices, remittances
    are never read), in the order stored after ``after``: each body read as the v1 message it is, its
    case found as a new message's is (``cases_of``), then sealed with that case's key and stored
    under the case, so that an export finds it and an erasure makes it unreadable. A message of a
    case erased already is sealed with a key thrown away at once: the erasure reaches it too. Bodies
    of no single case stay as they are. Hashes, and the receipts that sign them, do not change.
    Returns what it did and the cursor of the next batch (None: done)."""
    repo = GdprRepository(session)
    rows = await repo.legacy_messages(kinds=CASE_KINDS, after=after, limit=limit)
    read: list[v1.MessageModel | None] = []
    for row in rows:
        try:
            read.append(decode(row.body, row.content_type))
        except Refused:
            read.append(None)
    found = iter(await cases_of(session, [m for m in read if m is not None]))
    case_ids = [next(found) if m is not None else None for m in read]
    await sealing.load_keys(session, case_ids, create=True)
    done = LegacySealing()
    for row, case_id in zip(rows, case_ids, strict=True):
        if case_id is None:
            done.of_no_case += 1
        elif await repo.seal_legacy(row.id, case_id, sealing.seal_for(session, case_id, row.id, row.body)):
            done.sealed += 1
        else:
            done.skipped += 1
    return done, (rows[-1].created_at, rows[-1].id) if len(rows) == limit else None


async def count_legacy(session: AsyncSession) -> int:
    """Messages of a case's kind in the clear with no case: what ``seal_legacy`` walks."""
    return await GdprRepository(session).count_legacy_messages(kinds=CASE_KINDS)


def retention() -> timedelta:
    return timedelta(days=get_settings().gdpr_retention_days)


async def _case(session: AsyncSession, ref: str, *, for_update: bool = False) -> Case:
    case = await GdprRepository(session).case_with_parties(ref, for_update=for_update)
    if case is None:
        raise NotFound(f"no case {ref}", code="case.not_found")
    return case


async def _refuse_erased(session: AsyncSession, case: Case) -> None:
    key = await GdprRepository(session).erased_at(case.id)
    if key is not None and key.erased_at is not None:
        raise Gone(
            f"the personal data of case {case.ref} was erased on {key.erased_at.date().isoformat()}: the hub "
            "holds none of its debtor any more",
            code="case.erased",
        )


@dataclass(frozen=True)
class Erasure:
    case_ref: str
    messages: int  # stored messages of the case, now unreadable
    receipts: int  # their signed receipts, kept, each still verifying
    blanked: dict[str, int]


async def erase(
    session: AsyncSession, ref: str, *, actor: str, action: GdprAction = GdprAction.ERASED
) -> Erasure:
    """Erases the personal data of the case's debtor: the case's key is destroyed (every stored body
    of the case unreadable, their hashes and receipts kept), nothing of the case is sent any more,
    and the debtor's identity, address and situation are blanked, with the free texts that may name
    them. Amounts, dates, the ledger, references and statuses stay (accounting)."""
    case = await _case(session, ref, for_update=True)
    await _refuse_erased(session, case)
    messages = MessageRepository(session)
    stored = await messages.case_messages(case.id)
    pks = [m.id for m in stored]
    await sealing.destroy_key(session, case.id)
    await messages.stop_deliveries(pks, utcnow())
    debtor = case.debtor
    debtor.name = ERASED
    debtor.address_line1 = debtor.postcode = debtor.city = None
    for field in SITUATION_FIELDS:
        setattr(case, field, None)
    repo = GdprRepository(session)
    blanked = {
        "case_updates": await repo.blank_case_updates(case.id),
        "holds": await repo.blank_holds(case.id, ERASED),
        "mandates": await MandateRepository(session).erase_free_text(case.id, ERASED),
        "reminders": await WorklistRepository(session).erase_free_text(case.ref, ERASED),
    }
    receipts = len(await messages.receipts_of(pks)) if pks else 0
    detail = {"messages": len(pks), "receipts": receipts, **blanked}
    await repo.add_event(action.value, case.ref, actor, detail)
    log.info("case_erased", case_ref=case.ref, actor=actor, how=action.value, **detail)
    return Erasure(case.ref, len(pks), receipts, blanked)


async def sweep(session: AsyncSession, *, today: date, limit: int) -> list[str]:
    """Erases up to ``limit`` cases closed longer ago than the retention period (``HUB_GDPR_RETENTION_DAYS``);
    returns their refs."""
    refs = await GdprRepository(session).closed_before(today - retention(), limit)
    swept = []
    for ref in refs:
        try:
            await erase(session, ref, actor=SWEEP_ACTOR, action=GdprAction.SWEPT)
        except Gone:  # erased meanwhile by another sweeper or by staff
            continue
        swept.append(ref)
    return swept


def _body(raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        return {"erased": True}
    try:
        return {"text": raw.decode()}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode()}


def _row(obj: Any, *skip: str) -> dict[str, Any]:
    """A model row's columns as JSON-ready values."""
    out: dict[str, Any] = {}
    for column in obj.__table__.columns:
        if column.key in skip:
            continue
        value = getattr(obj, column.key)
        out[column.key] = (
            value if value is None or isinstance(value, bool | int | str | list | dict) else str(value)
        )
    return out


async def export(session: AsyncSession, ref: str, *, actor: str, public_key_b64: str) -> dict[str, Any]:
    """Everything the hub holds on the case's debtor, in one JSON document: the case and debtor, its
    mandates and their history, act reports, ledger, holds, updates and every stored message opened,
    with its receipt (and whether it verifies). Refused once the case was erased (410 ``case.erased``)."""
    case = await _case(session, ref)
    await _refuse_erased(session, case)
    repo = GdprRepository(session)
    messages = MessageRepository(session)
    mandates = await repo.mandates(case.id)
    stored = await messages.case_messages(case.id)
    bodies = await sealing.open_bodies(session, stored)
    receipts = {r.message_pk: r for r in await messages.receipts_of([m.id for m in stored])} if stored else {}
    document = {
        "exported_at": utcnow().isoformat(),
        "case": _row(case, "debtor_id", "creditor_id"),
        "creditor": case.creditor.name,
        "debtor": _row(case.debtor),
        "mandates": [_row(m) for m in mandates],
        "mandate_events": [_row(e) for e in await repo.mandate_events([m.id for m in mandates])],
        "act_reports": [_row(a) for a in await repo.act_reports(case.id)],
        "ledger": [
            {"transaction": _row(t), "entry": _row(e, "transaction_id")}
            for t, e in await repo.ledger(case.id)
        ],
        "holds": [_row(h) for h in await repo.holds(case.id)],
        "case_updates": [_row(u) for u in await repo.updates(case.id)],
        "messages": [
            {
                **_row(m, "body", "sealed", "case_id"),
                "body": _body(bodies[m.id]),
                "receipt": None
                if (r := receipts.get(m.id)) is None
                else {
                    **{
                        k: str(v) if not isinstance(v, bool | list | str) else v
                        for k, v in stored_receipt_payload(r).items()
                    },
                    "signature": r.signature,
                    "signature_alg": r.signature_alg,
                    "proof": r.proof,
                    "verifies": receipt_verifies(public_key_b64, r),
                },
            }
            for m in stored
        ],
        "gdpr_events": [_row(e) for e in await repo.events(case.ref)],
    }
    event = await repo.add_event(GdprAction.EXPORTED.value, case.ref, actor, {"messages": len(stored)})
    log.info("case_exported", case_ref=case.ref, actor=actor, messages=len(stored), event_id=event.id)
    return document
