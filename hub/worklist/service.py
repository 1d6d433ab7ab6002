"""Use cases of the worklist (each takes a session and never commits): what needs a person today
across the offices, the reminders staff send an office about it and their acknowledgement.

The worklist is computed when asked from what the other modules record (mandates, act reports,
approvals, hold notices, the ledger's money held, invoices); it stores nothing but the reminders.
Its items are ordered by ``id`` (``<kind>:<since>:<office>:<subject>``: by kind, then the oldest
first), which is the cursor of its keyset pagination: a page collects only the kinds it can hold,
from the cursor's own kind on, and stops at the first kind that fills it; each kind's collector
takes the cursor and the room left on the page, and reads its items from there (docs/adr/0012)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.repository import CaseRepository
from hub.kit.clock import utcnow
from hub.kit.errors import Conflict, ErrorItem, InvalidInput, NotFound
from hub.kit.money import Money
from hub.mandates import service as mandates
from hub.messaging.outbound import send_to_office
from hub.offices.models import Office
from hub.offices.repository import OfficeRepository
from hub.recovery.assumptions import load_assumptions
from hub.settings import get_settings
from hub.tariff.catalogue import load_catalogue
from hub.worklist import next_acts, pace
from hub.worklist.models import Reminder
from hub.worklist.repository import Resume, WorklistRepository
from schemas import v1

AGENCY = v1.AGENCY


class Kind(StrEnum):
    """What an item waits for; the first five are the office's to do (a reminder may be sent), the
    last two the agency's."""

    STALE_MANDATE = "stale_mandate"
    MANDATE_ACK_OVERDUE = "mandate_ack_overdue"
    HOLD_NOTICE_ACK_OVERDUE = "hold_notice_ack_overdue"
    UNREMITTED = "unremitted"
    INVOICE_DISPUTED = "invoice_disputed"
    HELD_MANDATE = "held_mandate"
    COST_REQUEST = "cost_request"


OFFICE_TOPICS = frozenset(t.value for t in v1.ReminderTopic)
ALL = 1_000_000  # no page: every item of a kind


@dataclass(frozen=True)
class Item:
    kind: str
    office_code: str
    subject: str  # what a reminder names: the mandate ref, case ref, invoice number or approval id
    since: date
    explanation: str
    case_ref: str | None = None
    mandate_ref: str | None = None
    invoice_number: str | None = None
    approval_id: str | None = None
    amount_cents: int | None = None
    currency: str | None = None

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.since.isoformat()}:{self.office_code}:{self.subject}"

    @property
    def remindable(self) -> bool:
        return self.kind in OFFICE_TOPICS


@dataclass(frozen=True)
class ItemView:
    item: Item
    age_days: int
    last_reminder: Reminder | None


def _day(at: datetime | None) -> date:
    assert at is not None
    return at.date()


async def _office(session: AsyncSession, code: str | None) -> Office | None:
    if code is None:
        return None
    office = await OfficeRepository(session).get_by_code(code)
    if office is None:
        raise NotFound(f"no office {code}", code="office.not_found")
    return office


async def worklist(
    session: AsyncSession,
    *,
    office_code: str | None = None,
    kinds: frozenset[str] | None = None,
    after: str | None = None,
    limit: int = 100,
    now: datetime | None = None,
) -> tuple[list[ItemView], str | None]:
    """What needs a person today, ``limit`` items after the cursor ``after`` (an item ``id``), of
    ``kinds`` (all when None) and one office (all when None: 404 ``office.not_found`` for an unknown
    code); with the next cursor, None on the last page."""
    now = now or utcnow()
    office = await _office(session, office_code)
    wanted = kinds or frozenset(k.value for k in Kind)
    repo = WorklistRepository(session)
    page: list[Item] = []
    for kind in _in_page_order(wanted, after):
        resume = _resume(kind, after)
        if isinstance(resume, _Past):
            continue
        page += await _COLLECTORS[kind](session, repo, office, now, resume, limit - len(page), None)
        if len(page) >= limit:
            break
    ids = await repo.office_ids({i.office_code for i in page})
    keys = {(ids[i.office_code], i.kind, i.subject) for i in page}
    last = await repo.last_reminders(keys)
    today = now.date()
    views = [
        ItemView(i, (today - i.since).days, last.get((ids[i.office_code], i.kind, i.subject))) for i in page
    ]
    cursor = page[-1].id if len(page) == limit else None
    return views, cursor


def _in_page_order(wanted: frozenset[str], after: str | None) -> list[Kind]:
    """The kinds to collect for a page after the cursor ``after``, in the items' order. An item's
    ``id`` starts with its kind and no kind's name starts another's, so the kinds sort as their
    items do: a kind before the cursor's has nothing for the page, and the page is full before the
    kinds after it are collected."""
    cursor_kind = None if after is None else after.split(":", 1)[0]
    return sorted(
        (k for k in Kind if k.value in wanted and (cursor_kind is None or k.value >= cursor_kind)),
        key=lambda k: k.value,
    )


class _Past:
    """A cursor after every item of a kind."""


PAST = _Past()


def _resume(kind: Kind, after: str | None) -> Resume | _Past | None:
    """Where ``kind``'s items resume after the cursor ``after``: None, all of them; ``PAST``, none.
    An item's id is ``<kind>:<YYYY-MM-DD>:<office>:<subject>``, its day of fixed width, so the ids of
    a kind sort as (day, ``<office>:<subject>``) do, and any string, an item's id or not, falls
    among them where this says."""
    prefix = f"{kind.value}:"
    if after is None or after < prefix:
        return None
    if not after.startswith(prefix):
        return PAST
    head, rest = after[len(prefix) : len(prefix) + 11], after[len(prefix) + 11 :]
    if len(head) == 11 and head[10] == ":":
        try:
            day = date.fromisoformat(head[:10])
        except ValueError:
            day = None
        if day is not None and day.isoformat() == head[:10]:
            return Resume(day, rest)
    # Not an item's day: every item from the first day whose "YYYY-MM-DD:" sorts after ``head``.
    low, high = date.min.toordinal(), date.max.toordinal() + 1
    while low < high:
        middle = (low + high) // 2
        if f"{date.fromordinal(middle).isoformat()}:" > head:
            high = middle
        else:
            low = middle + 1
    return PAST if low > date.max.toordinal() else Resume(date.fromordinal(low), None)


async def _stale(
    session: AsyncSession,
    repo: WorklistRepository,
    office: Office | None,
    now: datetime,
    after: Resume | None,
    limit: int,
    subject: str | None,
) -> list[Item]:
    """Each office's threshold first (its pace, one row an office from the database), then the
    mandates quiet past their office's, in the database: a mandate is stale when
    ``(today - since).days > threshold``, that is when its ``since`` is before ``today - threshold``."""
    office_id = None if office is None else office.id
    settings = get_settings()
    today = now.date()
    window = today - timedelta(days=settings.worklist_pace_window_days)
    paces = {row[0]: pace.pace_of(*row) for row in await repo.office_paces(window, office_id)}

    def threshold(office_pace: pace.Pace | None) -> int:
        return pace.stale_threshold(
            office_pace, stale_days=settings.worklist_stale_days, factor=settings.worklist_pace_factor
        )

    cutoffs = {code: today - timedelta(days=threshold(p)) for code, p in paces.items()}
    rows = await repo.stale_mandates(
        office_id, cutoffs, today - timedelta(days=threshold(None)), after, limit, subject
    )
    found = []
    for mandate_ref, code, case_ref, issued_at, last_act_on in rows:
        since = last_act_on or _day(issued_at)
        explanation = pace.stale_explanation(
            mandate_ref,
            (today - since).days,
            since,
            last_act_on is not None,
            paces.get(code),
            stale_days=settings.worklist_stale_days,
            factor=settings.worklist_pace_factor,
        )
        found.append(
            Item(
                Kind.STALE_MANDATE,
                code,
                mandate_ref,
                since,
                explanation,
                case_ref=case_ref,
                mandate_ref=mandate_ref,
            )
        )
    return found


async def _ack_overdue(
    session: AsyncSession,
    repo: WorklistRepository,
    office: Office | None,
    now: datetime,
    after: Resume | None,
    limit: int,
    subject: str | None,
) -> list[Item]:
    office_id = None if office is None else office.id
    hours = get_settings().mandate_ack_hours
    rows = await repo.unacknowledged_mandates(now - timedelta(hours=hours), office_id, after, limit, subject)
    return [
        Item(
            Kind.MANDATE_ACK_OVERDUE,
            code,
            ref,
            _day(issued_at),
            f"Mandate {ref} was issued on {issued_at:%Y-%m-%d %H:%M} UTC and the office has neither accepted "
            f"nor refused it within HUB_MANDATE_ACK_HOURS = {hours} h.",
            case_ref=case_ref,
            mandate_ref=ref,
        )
        for ref, code, case_ref, issued_at in rows
    ]


async def _hold_notice_overdue(
    session: AsyncSession,
    repo: WorklistRepository,
    office: Office | None,
    now: datetime,
    after: Resume | None,
    limit: int,
    subject: str | None,
) -> list[Item]:
    """One item per office and case, from its earliest overdue notice."""
    office_id = None if office is None else office.id
    found = []
    rows = await repo.overdue_hold_notices(now, office_id, after, limit, subject)
    for notice, mandate_ref, code, case_ref in rows:
        mandate_refs = notice.mandate_refs if mandate_ref is None else [mandate_ref]
        found.append(
            Item(
                Kind.HOLD_NOTICE_ACK_OVERDUE,
                code,
                case_ref,
                _day(notice.sent_at),
                f"The hold notice {notice.message_id} ({notice.situation}) on case {case_ref} was due "
                f"to be acknowledged by {notice.ack_due_by:%Y-%m-%d %H:%M} UTC and is not.",
                case_ref=case_ref,
                mandate_ref=mandate_refs[0] if mandate_refs else None,
            )
        )
    return found


async def _held(
    session: AsyncSession,
    repo: WorklistRepository,
    office: Office | None,
    now: datetime,
    after: Resume | None,
    limit: int,
    subject: str | None,
) -> list[Item]:
    office_id = None if office is None else office.id
    found = []
    for mandate, code, case_ref in await repo.held_mandates(office_id, after, limit, subject):
        reasons = (mandate.assessment or {}).get("reasons")
        first = reasons[0].get("message") if isinstance(reasons, list) and reasons else None
        why = f": {first}" if first else ""
        found.append(
            Item(
                Kind.HELD_MANDATE,
                code,
                mandate.ref,
                _day(mandate.created_at),
                f"Mandate {mandate.ref} is held for a person's approval before it reaches {code}{why}",
                case_ref=case_ref,
                mandate_ref=mandate.ref,
            )
        )
    return found


async def _cost_requests(
    session: AsyncSession,
    repo: WorklistRepository,
    office: Office | None,
    now: datetime,
    after: Resume | None,
    limit: int,
    subject: str | None,
) -> list[Item]:
    office_id = None if office is None else office.id
    found = []
    for approval, mandate_ref, code, case_ref in await repo.pending_cost_requests(
        office_id, after, limit, subject
    ):
        amount = ""
        if approval.amount_cents is not None:
            amount = f" for {Money(approval.amount_cents, 'EUR').display()}"
        found.append(
            Item(
                Kind.COST_REQUEST,
                code,
                approval.approval_id,
                _day(approval.created_at),
                f"{code} asks to perform {approval.act_code}{amount} on mandate {mandate_ref} "
                f"(cost request {approval.approval_id}) and waits for the agency's decision.",
                case_ref=case_ref,
                mandate_ref=mandate_ref,
                approval_id=approval.approval_id,
                amount_cents=approval.amount_cents,
            )
        )
    return found


async def _unremitted(
    session: AsyncSession,
    repo: WorklistRepository,
    office: Office | None,
    now: datetime,
    after: Resume | None,
    limit: int,
    subject: str | None,
) -> list[Item]:
    """The money held, by finance's own ageing of the ledger: overdue when its oldest collection not
    remitted is older than ``HUB_REMITTANCE_DEADLINE_DAYS``."""
    office_id = None if office is None else office.id
    days = get_settings().remittance_deadline_days
    rows = await repo.unremitted_cases(now.date() - timedelta(days=days), office_id, after, limit, subject)
    return [
        Item(
            Kind.UNREMITTED,
            code,
            case_ref,
            oldest_on,
            f"{code} holds {Money(cents, currency).display()} collected on case {case_ref} since "
            f"{oldest_on.isoformat()}, not remitted within HUB_REMITTANCE_DEADLINE_DAYS = {days} days.",
            case_ref=case_ref,
            amount_cents=cents,
            currency=currency,
        )
        for code, case_ref, currency, cents, oldest_on in rows
    ]


async def _disputed(
    session: AsyncSession,
    repo: WorklistRepository,
    office: Office | None,
    now: datetime,
    after: Resume | None,
    limit: int,
    subject: str | None,
) -> list[Item]:
    office_id = None if office is None else office.id
    found = []
    for invoice, code in await repo.disputed_invoices(office_id, after, limit, subject):
        since = invoice.dispute_sent_at or invoice.received_at
        found.append(
            Item(
                Kind.INVOICE_DISPUTED,
                code,
                invoice.number,
                _day(since),
                f"Invoice {invoice.number} of {code} "
                f"({Money(invoice.total_gross_cents, invoice.currency).display()}) is disputed since "
                f"{_day(since).isoformat()} and waits for a credit note or a corrected invoice.",
                mandate_ref=invoice.mandate_reference,
                invoice_number=invoice.number,
                amount_cents=invoice.total_gross_cents,
                currency=invoice.currency,
            )
        )
    return found


# Each takes the page's cursor (where its items resume), the room left on the page and a subject
# (None: any; else only the item of that subject), and returns that many of its items at most, in
# order.
_COLLECTORS: dict[
    Kind,
    Callable[
        [AsyncSession, WorklistRepository, Office | None, datetime, Resume | None, int, str | None],
        Awaitable[list[Item]],
    ],
] = {
    Kind.STALE_MANDATE: _stale,
    Kind.MANDATE_ACK_OVERDUE: _ack_overdue,
    Kind.HOLD_NOTICE_ACK_OVERDUE: _hold_notice_overdue,
    Kind.UNREMITTED: _unremitted,
    Kind.INVOICE_DISPUTED: _disputed,
    Kind.HELD_MANDATE: _held,
    Kind.COST_REQUEST: _cost_requests,
}


# Reminders.


@dataclass(frozen=True)
class ReminderIn:
    office_code: str
    topic: str
    mandate_ref: str | None = None
    case_ref: str | None = None
    invoice_number: str | None = None
    comment: str | None = None
    force: bool = False


def _subject(data: ReminderIn) -> str | None:
    if data.topic in (Kind.STALE_MANDATE, Kind.MANDATE_ACK_OVERDUE):
        return data.mandate_ref
    if data.topic in (Kind.HOLD_NOTICE_ACK_OVERDUE, Kind.UNREMITTED):
        return data.case_ref
    return data.invoice_number


def _refused(path: str, code: str, message: str) -> InvalidInput:
    return InvalidInput(message, code=code, errors=[ErrorItem(path, code, message)])


async def send_reminder(
    session: AsyncSession, data: ReminderIn, *, actor: str, now: datetime | None = None
) -> tuple[Reminder, str]:
    """Sends the office a ``reminder`` about the worklist item (``topic``, and its mandate ref, case
    ref or invoice number), through the outbox, and records who sent it; returns it with the office
    code. The item must be on today's worklist (422 ``reminder.not_on_worklist``); a topic that is
    the agency's to decide is refused (422 ``reminder.topic_not_for_office``); the same item
    reminded earlier the same day answers 409 ``reminder.already_sent_today`` unless ``force`` (a
    unique index decides between two staff at once)."""
    now = now or utcnow()
    if data.topic not in OFFICE_TOPICS:
        raise _refused(
            "/topic",
            "reminder.topic_not_for_office",
            f"{data.topic} waits for the agency's own decision, not the office's: decide it instead "
            f"(reminders: {', '.join(sorted(OFFICE_TOPICS))})",
        )
    office = await OfficeRepository(session).get_by_code(data.office_code)
    if office is None:
        raise NotFound(f"no office {data.office_code}", code="office.not_found")
    subject = _subject(data)
    if subject is None:
        field = {"stale_mandate": "mandate_ref", "mandate_ack_overdue": "mandate_ref"}.get(data.topic)
        field = field or ("invoice_number" if data.topic == Kind.INVOICE_DISPUTED else "case_ref")
        raise _refused(f"/{field}", "reminder.subject_missing", f"a {data.topic} reminder names its {field}")
    repo = WorklistRepository(session)
    # The item alone: its kind's collector asked for its subject, of this office, one item.
    found = await _COLLECTORS[Kind(data.topic)](session, repo, office, now, None, 1, subject)
    item = found[0] if found else None
    if item is None:
        raise _refused(
            "/topic",
            "reminder.not_on_worklist",
            f"{subject} of {office.code} is not on today's worklist as {data.topic}: nothing to remind",
        )
    today = now.date()
    if not data.force:
        earlier = await repo.reminded_today(office.id, data.topic, subject, today)
        if earlier is not None:
            raise _already(earlier)
    due = now + timedelta(hours=get_settings().reminder_ack_hours)
    message_id = f"RMD-{uuid.uuid4().hex}"
    reminder = Reminder(
        message_id=message_id,
        office_id=office.id,
        topic=data.topic,
        subject=subject,
        case_ref=item.case_ref,
        mandate_ref=item.mandate_ref,
        invoice_number=item.invoice_number,
        waiting_since=item.since,
        explanation=item.explanation,
        comment=data.comment,
        forced=data.force,
        sent_by=actor,
        sent_at=now,
        sent_on=today,
        ack_due_by=due,
    )
    try:
        # In a savepoint: a reminder that lost the race to another leaves the transaction usable.
        async with session.begin_nested():
            repo.add(reminder)
            await session.flush()
    except IntegrityError:
        winner = await repo.reminded_today(office.id, data.topic, subject, today)
        if winner is None:
            raise
        raise _already(winner) from None
    case = await CaseRepository(session).get_by_ref(item.case_ref) if item.case_ref else None
    # A reminder about a case is sealed with the case's key, like every message about it (ADR 0015).
    await send_to_office(
        session, office, reminder_message(reminder, office), case_id=case.id if case is not None else None
    )
    return reminder, office.code


def _already(earlier: Reminder) -> Conflict:
    message = (
        f"{earlier.subject} was reminded to the office today at {earlier.sent_at:%H:%M} UTC by "
        f"{earlier.sent_by} ({earlier.message_id}); send again tomorrow, or with force"
    )
    code = "reminder.already_sent_today"
    return Conflict(message, code=code, errors=[ErrorItem("/topic", code, message)])


def reminder_message(reminder: Reminder, office: Office) -> v1.Reminder:
    return v1.Reminder(
        envelope=v1.Envelope(
            message_id=reminder.message_id,
            kind="reminder",
            version="1",
            sender=AGENCY,
            recipient=office.code,
            sent_at=reminder.sent_at,
            correlation_id=reminder.mandate_ref or reminder.case_ref,
        ),
        topic=v1.ReminderTopic(reminder.topic),
        case_ref=reminder.case_ref,
        mandate_ref=reminder.mandate_ref,
        invoice_number=reminder.invoice_number,
        waiting_since=reminder.waiting_since,
        explanation=reminder.explanation[:500],
        comment=reminder.comment[:500] if reminder.comment else None,
        ack_due_by=reminder.ack_due_by,
    )


async def acknowledge_reminder(
    session: AsyncSession, office: Office, ack: v1.ReminderAck, *, now: datetime | None = None
) -> Reminder:
    """Records the office's acknowledgement of a reminder sent to it, once: a second one is refused
    (409 ``reminder.already_acknowledged``); another office's reminder answers like an unknown one
    (404 ``reminder.not_found``). A late one is recorded all the same."""
    now = now or utcnow()
    reminder = await WorklistRepository(session).reminder(ack.reminder_id, for_update=True)
    if reminder is None or reminder.office_id != office.id:
        message = f"no reminder {ack.reminder_id} was sent to this office"
        code = "reminder.not_found"
        raise NotFound(message, code=code, errors=[ErrorItem("/reminder_id", code, message)])
    if reminder.acknowledged_at is not None:
        message = (
            f"reminder {reminder.message_id} was acknowledged at "
            f"{reminder.acknowledged_at:%Y-%m-%d %H:%M} UTC (message {reminder.ack_message_id}); "
            "nothing to do"
        )
        raise Conflict(
            message,
            code="reminder.already_acknowledged",
            errors=[ErrorItem("/reminder_id", "reminder.already_acknowledged", message)],
        )
    reminder.acknowledged_at = now
    reminder.ack_message_id = ack.envelope.message_id
    reminder.ack_comment = ack.comment
    await session.flush()
    return reminder


# The next acts of a case.


async def next_acts_of(
    session: AsyncSession, case_ref: str, *, office_code: str | None = None, now: datetime | None = None
) -> list[next_acts.NextAct]:
    """The acts the agency could order next on the case, ranked by the creditor's expected net, the
    blocked ones last with their reason (``hub.worklist.next_acts``); judged for ``office_code``'s
    learned recovery when given (404 ``office.not_found`` for an unknown one). 404 ``case.not_found``."""
    today = (now or utcnow()).date()
    await _office(session, office_code)
    case = await CaseRepository(session).get_with_parties(case_ref)
    if case is None:
        raise NotFound(f"no case with ref {case_ref}", code="case.not_found")
    facts = await mandates.facts_of(session, case)
    return next_acts.next_acts(
        facts,
        today,
        catalogue=load_catalogue(),
        assumptions=load_assumptions(),
        settings=mandates.policy_settings(),
        rates=await mandates.learned_rates(session),
        office=office_code,
    )
