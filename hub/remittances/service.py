"""Remittances from offices: checked line by line against the money each office collected on each
case and still holds, posted to the ledger whole or refused whole; read back by the office that sent
them and by staff; and the money collected and not remitted, with its age. Takes a session, never
commits."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.clock import utcnow
from hub.kit.errors import Conflict, ErrorItem, InvalidInput, NotFound
from hub.ledger import service as ledger
from hub.ledger.repository import LedgerRepository
from hub.messaging.models import StoredMessage
from hub.offices.models import Office
from hub.remittances import ageing
from hub.remittances.models import Remittance, RemittanceLine
from hub.remittances.repository import RemittanceRepository
from schemas import v1

# The source of a remittance's ledger transactions, as for one recorded by staff (``hub ledger
# remit``): a transfer's reference posted once, whichever way it came.
SOURCE = ledger.REMITTANCE_SOURCE


@dataclass(frozen=True)
class RemittanceView:
    remittance: Remittance
    office_code: str
    lines: list[tuple[RemittanceLine, str]] | None = None  # each line with its case ref


def line_errors(
    message: v1.Remittance, cases: dict[str, uuid.UUID], held: dict[uuid.UUID, int]
) -> list[ErrorItem]:
    """Every line that cannot be posted: a case the office holds no mandate on (unknown and another
    office's alike), or an amount above what is left to remit on the case once the remittance's
    earlier lines on it are counted."""
    errors = []
    taken: dict[uuid.UUID, int] = defaultdict(int)
    for i, line in enumerate(message.lines):
        case_id = cases.get(line.case_ref)
        if case_id is None:
            errors.append(
                ErrorItem(
                    f"/lines/{i}/case_ref",
                    "remittance.case_unknown",
                    f"line {i}, case {line.case_ref}: this office holds no mandate on such a case",
                )
            )
            continue
        available = held.get(case_id, 0) - taken[case_id]
        if line.amount_cents > available:
            errors.append(
                ErrorItem(
                    f"/lines/{i}/amount_cents",
                    "remittance.above_collected",
                    f"line {i}, case {line.case_ref}: asks {line.amount_cents} cents {message.currency}, "
                    f"{max(available, 0)} available (collected on the case and not yet remitted)",
                )
            )
        taken[case_id] += line.amount_cents
    return errors


async def receive(
    session: AsyncSession, office: Office, message: v1.Remittance, stored: StoredMessage
) -> Remittance:
    """Posts every line of the office's remittance to the ledger (``remittance``: remitted_to_agency
    / collected_by_office, on the value date), or refuses it whole. The cases are locked before what
    is left to remit is read, so of two remittances sent at once the second is checked after the
    first. Refused: 422 listing every failing line (``remittance.case_unknown``,
    ``remittance.above_collected``); 409 ``remittance.duplicate_reference`` (this bank reference was
    already remitted by the office, by message or by staff)."""
    repo = RemittanceRepository(session)
    cases = await repo.mandated_cases(office.id, {line.case_ref for line in message.lines})
    await repo.lock_cases(set(cases.values()))
    await LedgerRepository(session).lock_office(office.id)  # the bank reference, as staff postings do
    source = f"{SOURCE}{message.bank_reference}"
    earlier = await repo.by_bank_reference(office.id, message.bank_reference)
    if earlier is not None or await LedgerRepository(session).standing(ledger.REMITTANCE, office.id, source):
        detail = f"the transfer {message.bank_reference!r} was already remitted by office {office.code}"
        raise Conflict(
            detail,
            code="remittance.duplicate_reference",
            errors=[ErrorItem("/bank_reference", "remittance.duplicate_reference", detail)],
        )
    held = await repo.held(office.id, set(cases.values()), message.currency)
    if errors := line_errors(message, cases, held):
        raise InvalidInput(
            f"{len(errors)} line(s) of the remittance cannot be posted; nothing was",
            code=errors[0].code,
            errors=errors,
        )
    remittance = Remittance(
        id=uuid.uuid4(),
        office_id=office.id,
        message_pk=stored.id,
        message_id=message.envelope.message_id,
        bank_reference=message.bank_reference,
        value_date=message.value_date,
        currency=message.currency,
        total_cents=sum(line.amount_cents for line in message.lines),
        received_at=utcnow(),
    )
    lines = []
    for i, line in enumerate(message.lines):
        transaction = await ledger.post(
            session,
            ledger.REMITTANCE,
            ledger.remittance_postings(remitted_cents=line.amount_cents, currency=message.currency),
            effective_on=message.value_date,
            source=source,
            case_id=cases[line.case_ref],
            office_id=office.id,
        )
        lines.append(
            RemittanceLine(
                remittance_id=remittance.id,
                position=i,
                case_id=cases[line.case_ref],
                amount_cents=line.amount_cents,
                transaction_id=transaction.id,
            )
        )
    repo.add(remittance, lines)
    return remittance


async def list_remittances(
    session: AsyncSession,
    *,
    office: Office | None,
    office_code: str | None = None,
    after: uuid.UUID | None = None,
    limit: int = 100,
) -> list[RemittanceView]:
    """``office``: the caller's own only; None (staff): all, or ``office_code``'s."""
    rows = await RemittanceRepository(session).list(
        office_id=None if office is None else office.id,
        office_code=office_code,
        after=after,
        limit=limit,
    )
    return [RemittanceView(remittance, code) for remittance, code in rows]


async def remittance_for(
    session: AsyncSession, remittance_id: uuid.UUID, office: Office | None
) -> RemittanceView:
    """One remittance with its lines; 404 ``remittance.not_found`` for an unknown one and, for an
    office, another office's."""
    repo = RemittanceRepository(session)
    found = await repo.get(remittance_id)
    if found is None or (office is not None and found[0].office_id != office.id):
        raise NotFound(f"no remittance {remittance_id}", code="remittance.not_found")
    remittance, code = found
    return RemittanceView(remittance, code, await repo.lines_of(remittance.id))


async def unremitted(
    session: AsyncSession, *, deadline_days: int, office: Office | None = None, today: date | None = None
) -> list[ageing.OfficeUnremitted]:
    """Per office (all, or ``office``) and currency, the money collected and not remitted, per case,
    with the age of the oldest unremitted collection and whether it is past ``deadline_days``."""
    cases = await RemittanceRepository(session).unremitted(None if office is None else office.id)
    return ageing.unremitted(cases, today=today or utcnow().date(), deadline_days=deadline_days)
