"""The finance reports on SQLite and PostgreSQL: every money figure equals a raw SUM over the ledger's
entries to the cent, for each office and period (boundary days included); the other figures (tariff,
disputes, counts, delays, refusals) on a network whose answers are known."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.finance import service
from hub.finance.reports import ALL_ACTS
from hub.kit.errors import InvalidInput, NotFound
from hub.ledger.postings import FEE_ACCOUNTS
from hub.mandates.models import Mandate
from hub.tariff.catalogue import act_cost
from tests.hub.acts.factories import seed
from tests.hub.finance.factories import LineSpec, act, invoice, network

PERIODS = [
    (date(2026, 1, 1), date(2026, 2, 1)),
    (date(2026, 2, 1), date(2026, 3, 1)),
    (date(2026, 3, 1), date(2026, 4, 1)),
    (date(2026, 2, 1), date(2026, 2, 2)),  # one day: the first of the month
    (date(2026, 2, 28), date(2026, 3, 2)),  # across a month end
    (date(2026, 3, 31), date(2026, 4, 2)),
    (date(2026, 1, 1), date(2027, 1, 1)),
]


async def raw_sum(
    session: AsyncSession,
    office_id: object,
    start: date,
    end: date,
    accounts: Collection[str],
    *,
    kind: str | None = None,
    sources: Collection[str] | None = None,
) -> int:
    """SUM(amount_cents) over ledger_entries, written out by hand: nothing of the reports' code."""
    sql = (
        "SELECT COALESCE(SUM(e.amount_cents), 0) FROM ledger_entries e "
        "JOIN ledger_transactions t ON t.id = e.transaction_id "
        "WHERE e.office_id = :office AND e.currency = 'EUR' "
        "AND t.effective_on >= :start AND t.effective_on < :end AND e.account IN :accounts"
    )
    params: dict[str, object] = {"office": office_id, "start": start, "end": end, "accounts": list(accounts)}
    if kind is not None:
        sql += " AND t.kind = :kind"
        params["kind"] = kind
    binds = [bindparam("office", type_=Uuid()), bindparam("accounts", expanding=True)]
    if sources is not None:
        sql += " AND t.source IN :sources"
        params["sources"] = list(sources)
        binds.append(bindparam("sources", expanding=True))
    found = await session.execute(text(sql).bindparams(*binds), params)
    return int(found.scalar_one())


async def test_a_report_for_one_office_over_a_period_equals_the_sum_of_its_ledger_entries(
    session: AsyncSession,
) -> None:
    net = await network(session)
    checked = 0
    for s in net.offices:
        for start, end in PERIODS:
            rec = await service.reconciliation(session, s.office.code, start, end)
            (card,) = await service.scorecards(session, start, end, office_code=s.office.code)
            office = s.office.id

            fees = await raw_sum(session, office, start, end, FEE_ACCOUNTS, kind="act_fees")
            collected = -(await raw_sum(session, office, start, end, ["case_collections"]))
            invoiced = -(await raw_sum(session, office, start, end, ["fees_invoiced"], kind="invoice"))
            paid = -(await raw_sum(session, office, start, end, ["fees_paid"]))
            remitted = await raw_sum(session, office, start, end, ["remitted_to_agency"])
            written_off = await raw_sum(session, office, start, end, ["written_off"])
            assert rec.ledger.fees_cents == fees == card.total.ledger.fees_cents
            assert card.total.ledger.collected_cents == collected == rec.ledger.collected_cents
            assert rec.ledger.invoiced_cents == invoiced
            assert rec.ledger.paid_cents == paid
            assert card.total.ledger.remitted_cents == remitted
            assert card.total.ledger.written_off_cents == written_off
            assert card.total.ledger.net_cents == collected - fees
            assert card.total.act_code == ALL_ACTS

            for code in {a.act_code for a in net.acts}:
                sources = [f"act_report:{a.id}" for a in net.acts if a.act_code == code]
                code_fees = await raw_sum(
                    session, office, start, end, FEE_ACCOUNTS, kind="act_fees", sources=sources
                )
                code_collected = -(
                    await raw_sum(session, office, start, end, ["case_collections"], sources=sources)
                )
                line = next((x for x in rec.act_types if x.act_code == code), None)
                assert (line.reported_cents if line else 0) == code_fees, (s.office.code, start, end, code)
                score = next((x for x in card.act_types if x.act_code == code), None)
                assert (score.ledger.fees_cents if score else 0) == code_fees
                assert (score.ledger.collected_cents if score else 0) == code_collected
            checked += fees != 0
    assert checked >= 8  # most office-periods have movements: the test compares real figures

    # The figures are the ledger's, not the act reports' columns: a reversal counts, a write-off not.
    a = net.offices[0]
    march = await service.reconciliation(session, a.office.code, date(2026, 3, 1), date(2026, 4, 1))
    assert march.ledger.fees_cents == (5158 + 4 + 1032 + 4) + (5158 + 5 + 1032 + 5) - (9999 + 2000)
    feb_all_kinds = await raw_sum(session, a.office.id, date(2026, 2, 1), date(2026, 3, 1), FEE_ACCOUNTS)
    feb = await service.reconciliation(session, a.office.code, date(2026, 2, 1), date(2026, 3, 1))
    assert feb_all_kinds == feb.ledger.fees_cents - 3600


async def test_reconciliation_compares_reported_with_the_tariff_and_lists_disputed_lines(
    session: AsyncSession,
) -> None:
    s = await seed(session)
    claim = s.case.principal_cents
    first = await act(session, s, date(2026, 3, 2), act_code="SERVE_TITLE")
    await act(session, s, date(2026, 3, 3), act_code="PAYMENT_ORDER", emoluments=9000, vat=1800)
    await act(session, s, date(2026, 3, 4), act_code="NOT_AN_ACT", emoluments=100, vat=20)
    await act(session, s, date(2026, 4, 1), act_code="SERVE_TITLE")  # after the period
    await invoice(
        session, s, date(2026, 3, 31), [LineSpec(5158, 1032, act=first), LineSpec(700, 140, "above_tariff")]
    )
    await invoice(
        session, s, date(2026, 3, 5), [LineSpec(300, 60, "above_tariff"), LineSpec(90, 18, "vat_wrong")]
    )
    await invoice(session, s, date(2026, 4, 1), [LineSpec(999, 0, "act_unknown")])  # after the period

    rec = await service.reconciliation(session, s.office.code, date(2026, 3, 1), date(2026, 4, 1))

    serve = act_cost("SERVE_TITLE", claim, date(2026, 3, 2))
    order = act_cost(
        "PAYMENT_ORDER",
        claim,
        date(2026, 3, 3),
        engagement_fee_already_charged=serve.engagement_fee_cents > 0,
    )
    lines = {line.act_code: line for line in rec.act_types}
    assert set(lines) == {"SERVE_TITLE", "PAYMENT_ORDER", "NOT_AN_ACT"}
    assert (lines["SERVE_TITLE"].acts, lines["SERVE_TITLE"].tariff_cents) == (1, serve.total_cents)
    assert lines["SERVE_TITLE"].reported_cents == 5158 + 1032
    assert lines["PAYMENT_ORDER"].tariff_cents == order.total_cents
    assert lines["PAYMENT_ORDER"].reported_minus_tariff_cents == 10_800 - order.total_cents
    assert (lines["NOT_AN_ACT"].unpriced_acts, lines["NOT_AN_ACT"].tariff_cents) == (1, 0)
    assert (rec.acts, rec.unpriced_acts) == (3, 1)
    assert [(d.code, d.lines, d.cents) for d in rec.disputes] == [
        ("above_tariff", 2, 840 + 360),
        ("vat_wrong", 1, 108),
    ]
    assert (rec.invoices_received, rec.invoices_received_cents) == (2, 5158 + 1032 + 840 + 360 + 108)
    assert rec.ledger.invoiced_cents == 0  # nothing approved yet: not invoiced in the ledger


async def test_scorecard_counts_acts_flags_delays_refusals_and_per_case_figures(
    session: AsyncSession,
) -> None:
    s = await seed(session)  # mandate issued 2026-02-01 09:00 UTC
    other_case = await seed(session, office=s.office)
    refused = Mandate(
        ref=f"M-REF-{s.office.code}",
        case_id=s.case.id,
        office_id=s.office.id,
        kind="per_act",
        acts=["SERVE_TITLE"],
        currency="EUR",
        status="refused",
        created_by="agent@agence.example",
        issued_at=datetime(2026, 2, 27, 23, 59, tzinfo=UTC),
    )
    late = Mandate(
        ref=f"M-LATE-{s.office.code}",
        case_id=s.case.id,
        office_id=s.office.id,
        kind="per_act",
        acts=["SERVE_TITLE"],
        currency="EUR",
        status="issued",
        created_by="agent@agence.example",
        issued_at=datetime(2026, 3, 1, 0, 0, tzinfo=UTC),  # the next period
    )
    session.add_all([refused, late])
    await session.flush()
    await act(session, s, date(2026, 2, 4), collected=10_000)  # 3 days after issue
    await act(session, s, date(2026, 2, 20), act_code="PAYMENT_ORDER", emoluments=4084, vat=817, flagged=True)
    await act(session, other_case, date(2026, 2, 11), emoluments=1000, vat=200, collected=1)  # 10 days

    (card,) = await service.scorecards(session, date(2026, 2, 1), date(2026, 3, 1), office_code=s.office.code)

    assert (card.total.acts, card.total.flagged_acts, card.cases) == (3, 1, 2)
    fees = (5158 + 1032) + (4084 + 817) + (1000 + 200)
    assert card.total.ledger.fees_cents == fees and card.total.ledger.collected_cents == 10_001
    assert card.total.ledger.net_cents == 10_001 - fees
    assert card.cost_per_case_cents == (fees + 1) // 2  # 6145.5 rounded half up
    assert card.recovered_per_case_cents == 5001  # 5000.5 rounded half up
    assert (card.mandates_sent, card.mandates_refused, str(card.refusal_rate)) == (3, 1, "0.3333")
    assert card.first_act_mandates == 2
    assert (str(card.first_act_median_days), str(card.first_act_mean_days)) == ("6.5", "6.5")
    by_code = {line.act_code: line for line in card.act_types}
    assert by_code["PAYMENT_ORDER"].flagged_acts == 1 and by_code["SERVE_TITLE"].acts == 2

    everyone = await service.scorecards(session, date(2026, 2, 1), date(2026, 3, 1))
    assert s.office.code in [c.office_code for c in everyone]
    assert [c.office_code for c in everyone] == sorted(c.office_code for c in everyone)


async def test_unknown_office_and_bad_periods_are_refused(session: AsyncSession) -> None:
    with pytest.raises(NotFound) as unknown:
        await service.reconciliation(session, "CJNOBODY", date(2026, 1, 1), date(2026, 2, 1))
    assert unknown.value.code == "office.not_found"
    for end in (date(2025, 12, 31), date(2026, 1, 1)):
        with pytest.raises(InvalidInput) as bad:
            await service.scorecards(session, date(2026, 1, 1), end)
        assert bad.value.code == "finance.bad_period"
