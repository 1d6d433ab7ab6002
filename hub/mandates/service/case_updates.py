"""Case updates: staff record what changed on a case after it was opened (a payment received, a new
address, a dispute, a payment plan, the debtor's death, insolvency, the limitation reached). The
update is kept with who recorded it and when, applied to the case facts the rules read
(``hub.cases.updates``), and sent as a ``case_update`` to every office holding a live mandate on the
case, one per office, to acknowledge (``case_update_ack``) by ``HUB_CASE_UPDATE_ACK_HOURS``.

A payment that clears the balance stops the work: each live mandate on the case is cancelled and
its office told with a ``mandate_cancel`` of cause ``balance_cleared``, after the update itself; a
mandate still held for approval (or a draft) is cancelled too, never to be issued. The limitation
reached also raises a ``limitation_reached`` hold (``holds``): one ``hold_notice`` per office."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import CaseUpdate
from hub.cases.repository import CaseRepository
from hub.cases.updates import CaseUpdateIn, apply_update, update_errors
from hub.kit.clock import utcnow
from hub.kit.errors import Conflict, ErrorItem, InvalidInput, NotFound
from hub.ledger import service as ledger
from hub.mandates import messages
from hub.mandates.models import CaseUpdateNotice, Mandate
from hub.mandates.repository import MandateRepository
from hub.mandates.service.endings import AT_OFFICE, end_at_office
from hub.mandates.service.hold_notices import acknowledge_once, not_sent
from hub.mandates.service.holds import LIMITATION, raise_hold
from hub.mandates.service.lifecycle import S
from hub.messaging.outbound import send_to_office
from hub.offices.models import Office
from hub.offices.repository import OfficeRepository
from hub.settings import get_settings
from schemas import v1

# Mandates that never reached an office: a cleared balance cancels them too, with no message.
NOT_SENT = frozenset({S.DRAFT.value, S.HELD.value})


def ack_window() -> timedelta:
    """How long an office has to acknowledge a case update."""
    return timedelta(hours=get_settings().case_update_ack_hours)


@dataclass(frozen=True)
class NoticeView:
    notice: CaseUpdateNotice
    office_code: str
    overdue: bool  # not acknowledged, and its deadline has passed


@dataclass(frozen=True)
class UpdateView:
    update: CaseUpdate
    case_ref: str
    notices: list[NoticeView]
    ended_mandates: list[str]  # only when just recorded: the mandates a cleared balance ended


async def record_update(
    session: AsyncSession, case_ref: str, data: CaseUpdateIn, *, actor: str, now: datetime | None = None
) -> UpdateView:
    """Records ``data`` on the case, applies it, tells the offices working on it and, when a payment
    clears the balance, ends their mandates. Refused with nothing written: 404 ``case.not_found``;
    422 with every error of ``hub.cases.updates.update_errors``; 409 ``case_update.duplicate`` for a
    ``reference`` already recorded on the case (a retry). The case is locked first, so two payments
    at once are checked against the balance one after the other."""
    now = now or utcnow()
    cases = CaseRepository(session)
    case = await cases.get_with_parties(case_ref, for_update=True)
    if case is None:
        raise NotFound(f"no case with ref {case_ref}", code="case.not_found")
    earlier = await cases.update_by_reference(case.id, data.reference)
    if earlier is not None:
        message = (
            f"update {data.reference!r} of case {case.ref} is already recorded as {earlier.update_id} "
            f"({earlier.kind}, by {earlier.recorded_by}); nothing to do"
        )
        raise Conflict(
            message,
            code="case_update.duplicate",
            errors=[ErrorItem("reference", "case_update.duplicate", message)],
        )
    # What the debtor still owes: the case's balance less what the offices collected on it.
    collected = await ledger.collected_on_case(session, case)
    errors = update_errors(case, data, today=now.date(), collected_cents=collected)
    if errors:
        raise InvalidInput(f"the update of case {case.ref} is refused", errors=errors)

    apply_update(case, data)
    address = data.address.model_dump() if data.address is not None else None
    if address is not None and address["departement"]:
        address["departement"] = address["departement"].strip().upper()
    update = CaseUpdate(
        update_id=f"UPD-{uuid.uuid4().hex}",
        case_id=case.id,
        reference=data.reference,
        kind=data.kind.value,
        effective_on=data.effective_on,
        amount_cents=data.payment.amount_cents if data.payment else None,
        currency=data.payment.currency if data.payment else case.currency,
        received_on=data.payment.received_on if data.payment else None,
        address=address,
        insolvency_kind=data.insolvency_kind.value if data.insolvency_kind else None,
        comment=data.comment,
        outstanding_cents=max(case.outstanding_cents - collected, 0),
        recorded_by=actor,
        recorded_at=now,
    )
    await cases.add(update)

    repo = MandateRepository(session)
    live: dict[uuid.UUID, list[Mandate]] = defaultdict(list)
    waiting: list[Mandate] = []  # drafts and held mandates: they never left
    for mandate in await repo.of_case(case.id):
        if mandate.status in AT_OFFICE:
            live[mandate.office_id].append(mandate)
        elif mandate.status in NOT_SENT:
            waiting.append(mandate)
    cleared = data.kind is v1.CaseUpdateKind.PAYMENT_RECEIVED and update.outstanding_cents == 0
    offices = OfficeRepository(session)
    notices: list[NoticeView] = []
    for office_id, mandates in live.items():
        office = await offices.get(office_id)
        assert office is not None  # foreign key
        due = now + ack_window()
        refs = [m.ref for m in mandates]
        wire = messages.case_update(update, case, office, refs, ack_due_by=due, work_stops=cleared)
        await send_to_office(session, office, wire, case_id=case.id)
        notice = CaseUpdateNotice(
            message_id=wire.envelope.message_id,
            update_id=update.id,
            office_id=office.id,
            sent_at=now,
            ack_due_by=due,
        )
        await repo.add(notice)
        notices.append(NoticeView(notice, office.code, overdue=False))
    if data.kind is v1.CaseUpdateKind.LIMITATION_REACHED:
        # A hold too: the offices are told to stop (hold_notice) and their coercive acts from the
        # day they acknowledge are flagged hold_breached.
        comment = f"limitation reached on {data.effective_on.isoformat()} (case update {update.update_id})"
        await raise_hold(
            session,
            case.ref,
            LIMITATION,
            actor=actor,
            comment=f"{comment}: {data.comment}" if data.comment else comment,
            now=now,
            case=case,
        )
    ended: list[str] = []
    if cleared:
        assert data.payment is not None
        reason = (
            f"balance cleared by a payment of {data.payment.amount_cents} cents received on "
            f"{data.payment.received_on.isoformat()} (case update {update.update_id})"
        )
        for mandates in [*live.values(), waiting]:
            for mandate in mandates:
                await end_at_office(
                    session,
                    mandate,
                    S.CANCELLED,
                    actor=actor,
                    reason=reason,
                    cause=v1.CancelCause.BALANCE_CLEARED,
                )
                ended.append(mandate.ref)
    return UpdateView(update, case.ref, sorted(notices, key=lambda n: n.office_code), sorted(ended))


async def list_updates(
    session: AsyncSession, case_ref: str, *, after: int | None, limit: int, now: datetime | None = None
) -> list[UpdateView]:
    """A case's updates in the order they were recorded, ``limit`` after the cursor ``after``, each
    with the offices it was sent to and their acknowledgements. 404 ``case.not_found``."""
    now = now or utcnow()
    cases = CaseRepository(session)
    case = await cases.get_by_ref(case_ref)
    if case is None:
        raise NotFound(f"no case with ref {case_ref}", code="case.not_found")
    updates = await cases.updates(case.id, after=after, limit=limit)
    by_update: dict[int, list[NoticeView]] = defaultdict(list)
    for notice, code in await MandateRepository(session).case_update_notices([u.id for u in updates]):
        overdue = notice.acknowledged_at is None and notice.ack_due_by < now
        by_update[notice.update_id].append(NoticeView(notice, code, overdue))
    return [UpdateView(u, case.ref, by_update[u.id], []) for u in updates]


async def acknowledge_case_update(
    session: AsyncSession, office: Office, ack: v1.CaseUpdateAck, *, now: datetime | None = None
) -> CaseUpdateNotice:
    """Records the office's acknowledgement of a case update sent to it, once: a second one is
    refused as a duplicate (409 ``case_update.already_acknowledged``), another office's update
    answers like an unknown one (404 ``case_update.not_found``). A late one is recorded all the
    same; the update's list shows when it came."""
    now = now or utcnow()
    found = await MandateRepository(session).case_update_notice(ack.update_id, for_update=True)
    if found is None or found[0].office_id != office.id or found[1] != ack.case_ref:
        raise not_sent(
            f"no case update {ack.update_id} about case {ack.case_ref} was sent to this office",
            code="case_update",
            path="/update_id",
        )
    notice, _ = found
    acknowledge_once(
        notice, ack.envelope.message_id, now, what="case update", code="case_update", path="/update_id"
    )
    await session.flush()
    return notice
