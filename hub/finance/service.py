"""Finance reports: the reconciliation of one office's fees over a period and the offices'
scorecards. Money the ledger holds comes from its entries (``LedgerRepository.statement``), the rest
from act reports, mandates and invoices; the arithmetic is ``hub.finance.reports`` (pure). Reads only,
never commits. Periods are ``[from, to)`` on dates: act dates, ledger effective dates, invoice issue
dates, and mandates' issue time in UTC."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from hub.finance import journal as journals
from hub.finance import reports
from hub.finance.repository import FinanceRepository
from hub.kit.errors import ErrorItem, InvalidInput, NotFound
from hub.ledger.repository import LedgerRepository
from hub.offices.models import Office
from hub.offices.repository import OfficeRepository
from hub.remittances import ageing
from hub.remittances import service as remittances
from hub.tariff.catalogue import (
    Catalogue,
    InvalidClaim,
    NoTariffInForce,
    UnknownAct,
    act_cost,
    load_catalogue,
)

DEFAULT_CURRENCY = "EUR"
DEFAULT_REMITTANCE_DEADLINE_DAYS = 30  # HUB_REMITTANCE_DEADLINE_DAYS's default


def check_period(start: date, end: date) -> None:
    if end <= start:
        raise InvalidInput(
            f"the period [{start.isoformat()}, {end.isoformat()}) is empty: `to` must be after `from`",
            code="finance.bad_period",
            errors=[
                ErrorItem(
                    "/to",
                    "finance.bad_period",
                    f"`to` ({end.isoformat()}) must be after `from` ({start.isoformat()}); the day `to` "
                    "itself is not included",
                )
            ],
        )


async def office_by_code(session: AsyncSession, code: str) -> Office:
    office = await OfficeRepository(session).get_by_code(code)
    if office is None:
        raise NotFound(
            f"no office {code}",
            code="office.not_found",
            errors=[ErrorItem("/office", "office.not_found", f"no office has the code {code!r}")],
        )
    return office


def _pricer(catalogue: Catalogue) -> Callable[[reports.ActRow, bool], reports.TariffCost | None]:
    def price(act: reports.ActRow, already_charged: bool) -> reports.TariffCost | None:
        try:
            cost = act_cost(
                act.act_code,
                act.claim_cents,
                act.act_date,
                engagement_fee_already_charged=already_charged,
                catalogue=catalogue,
            )
        except (UnknownAct, NoTariffInForce, InvalidClaim):
            return None
        return reports.TariffCost(cost.total_cents, cost.engagement_fee_cents)

    return price


async def reconciliation(
    session: AsyncSession,
    office_code: str,
    start: date,
    end: date,
    *,
    currency: str = DEFAULT_CURRENCY,
    catalogue: Catalogue | None = None,
) -> reports.Reconciliation:
    """Fees reported (ledger), the tariff of the same acts, invoiced and paid (ledger), invoices
    received and their lines with findings, for one office over ``[start, end)``."""
    check_period(start, end)
    office = await office_by_code(session, office_code)
    statement = await LedgerRepository(session).statement(office.id, start, end)
    repo = FinanceRepository(session)
    acts = await repo.acts_for_tariff(office.id, start, end)
    tariff = reports.tariff_per_act_type(acts, start, end, currency, _pricer(catalogue or load_catalogue()))
    return reports.reconciliation(
        office_code=office.code,
        start=start,
        end=end,
        currency=currency,
        lines=statement.lines,
        tariff=tariff,
        disputes=await repo.disputed_lines(office.id, start, end, currency),
        invoices_received=await repo.invoices_received(office.id, start, end, currency),
    )


async def scorecards(
    session: AsyncSession,
    start: date,
    end: date,
    *,
    office_code: str | None = None,
    currency: str = DEFAULT_CURRENCY,
    remittance_deadline_days: int = DEFAULT_REMITTANCE_DEADLINE_DAYS,
) -> list[reports.Scorecard]:
    """The scorecard of one office, or of every office, over ``[start, end)``, by office code, with
    the money each holds today collected and not remitted (overdue past ``remittance_deadline_days``)."""
    check_period(start, end)
    if office_code is not None:
        offices = [await office_by_code(session, office_code)]
    else:
        offices = sorted(await OfficeRepository(session).list_all(), key=lambda o: o.code)
    if not offices:
        return []
    ids = [o.id for o in offices]
    repo = FinanceRepository(session)
    counts = await repo.act_counts(ids, start, end)
    cases = await repo.cases_worked(ids, start, end)
    mandates = await repo.mandates_sent(ids, start, end)
    ledger = LedgerRepository(session)
    held = await remittances.unremitted(
        session,
        deadline_days=remittance_deadline_days,
        office=offices[0] if office_code is not None else None,
    )
    unremitted = {u.office_code: u for u in held if u.currency == currency}
    cards = []
    for office in offices:
        statement = await ledger.statement(office.id, start, end)
        cards.append(
            reports.scorecard(
                office_code=office.code,
                start=start,
                end=end,
                currency=currency,
                lines=statement.lines,
                acts=counts.get(office.id, {}),
                cases=cases.get(office.id, 0),
                mandates=mandates.get(office.id, []),
            )
        )
        if (owed := unremitted.get(office.code)) is not None:
            cards[-1] = dataclasses.replace(
                cards[-1],
                unremitted_cents=owed.cents,
                unremitted_oldest_on=owed.oldest_on,
                unremitted_overdue=owed.overdue,
            )
    return cards


async def unremitted(
    session: AsyncSession, *, deadline_days: int, office_code: str | None = None
) -> list[ageing.OfficeUnremitted]:
    """Per office (all, or ``office_code``'s: 404 for an unknown one) and currency, the money
    collected and not remitted per case, its oldest collection and whether it is overdue."""
    office = None if office_code is None else await office_by_code(session, office_code)
    return await remittances.unremitted(session, deadline_days=deadline_days, office=office)


async def journal(
    session: AsyncSession, start: date, end: date, *, currency: str = DEFAULT_CURRENCY
) -> list[journals.JournalLine]:
    """The ledger's transactions effective in ``[start, end)`` as balanced journal entries."""
    check_period(start, end)
    return journals.lines(await LedgerRepository(session).journal_rows(start, end, currency))
