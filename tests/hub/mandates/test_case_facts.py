"""The case facts the mandate rules read come from what really happened: the offices' accepted act
reports (act, act date, outcome), plus the acts a mandate at the office ordered that no report
answers yet. A PV de carence, a failed garnishment or a PV 659 reported by an office lowers recovery;
pacing counts reported coercive acts by their act date, within ``HUB_PACING_*``."""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from fractions import Fraction

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.acts.models import ActReport
from hub.cases.models import Case
from hub.kit.clock import utcnow
from hub.kit.errors import InvalidInput
from hub.mandates import service
from hub.mandates.models import Mandate, MandateKind, MandateStatus
from hub.mandates.service import MandateIn
from hub.messaging import service as messaging
from hub.messaging.service import Envelope
from hub.offices.models import Office
from hub.policy.settings import DEFAULT_SETTINGS
from hub.recovery import plausibility
from hub.recovery.facts import OutcomeCode
from hub.settings import Settings, get_settings
from tests.hub.mandates.factories import a_case, an_office
from tests.hub.worklist.factories import days_ago

STAFF = "handler@agence.example"
GOODS = {"seizable_goods_value_cents": 2_000_000}  # 20,000 EUR of goods: 6,000 at auction


async def mandate(
    session: AsyncSession, office: Office, case: Case, acts: list[str] | None = None, *, issued: int = 60
) -> Mandate:
    """A mandate issued to ``office`` ``issued`` days ago: per act with ``acts``, else whole file."""
    data = (
        MandateIn(case_ref=case.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=acts)
        if acts
        else MandateIn(
            case_ref=case.ref, office_code=office.code, kind=MandateKind.WHOLE_FILE, fee_budget_cents=10_000
        )
    )
    made = await service.create_mandate(session, data, actor=STAFF)
    assert made.status == MandateStatus.ISSUED, made.assessment
    assert made.issued_at is not None
    made.issued_at -= timedelta(days=issued)
    await session.flush()
    return made


async def reported(
    session: AsyncSession, under: Mandate, act_code: str, outcome: OutcomeCode, on: date, **amounts: int
) -> str:
    """An accepted act report of ``under``'s office, stored as the acts module stores one; its
    office reference."""
    office = await session.get(Office, under.office_id)
    assert office is not None
    reference = f"A/{secrets.token_hex(3)}"
    stored = await messaging.store_inbound(
        session, Envelope(f"CR-{reference}", "act_report", office.code, "AGENCY"), b"{}", "application/json"
    )
    session.add(
        ActReport(
            mandate_id=under.id,
            case_id=under.case_id,
            office_id=office.id,
            message_pk=stored.id,
            act_code=act_code,
            act_date=on,
            outcome_code=outcome.value,
            office_reference=reference,
            **amounts,
        )
    )
    await session.flush()
    return reference


def ask(case: Case, *acts: str, office: Office | None = None) -> MandateIn:
    code = office.code if office is not None else None
    return MandateIn(case_ref=case.ref, office_code=code, kind=MandateKind.PER_ACT, acts=list(acts))


async def verdict_codes(session: AsyncSession, case: Case, *acts: str) -> list[str]:
    """Every reason a mandate of ``acts`` would be held or refused for today (nothing written)."""
    verdict = service.judge(await service.facts_of(session, case), ask(case, *acts), utcnow().date(), None)
    return [f.reason_code for f in verdict.holds + verdict.blocks]


async def test_a_reported_pv_de_carence_lowers_a_later_seizure_and_its_reason_names_the_report(
    session: AsyncSession,
) -> None:
    office = await an_office(session)
    case = await a_case(session, evidence=GOODS)
    whole_file = await mandate(session, office, case)
    await reported(session, whole_file, "PAYMENT_ORDER", OutcomeCode.SERVED_IN_PERSON, days_ago(40))
    # The payment order reported under a whole-file mandate is on file: the seizure may follow.
    assert await verdict_codes(session, case, "SEIZURE_SALE") == []

    pv = await reported(session, whole_file, "NO_GOODS_REPORT", OutcomeCode.NO_SEIZABLE_GOODS, days_ago(10))
    sale = await service.create_mandate(session, ask(case, "SEIZURE_SALE", office=office), actor=STAFF)
    assert sale.status == MandateStatus.HELD and sale.assessment is not None
    reasons = {r["code"]: r["message"] for r in sale.assessment["reasons"]}
    assert "cost.creditor_loses" in reasons
    named = reasons["cost.no_goods_report"]
    assert f"'PV de carence' on {days_ago(10).isoformat()} (act report {pv} of office {office.code})" in named
    [act] = sale.assessment["acts"]
    # Goods x 0 on the day of a PV de carence, the effect fading over 24 months: 10 days on, 1.4 %.
    assert 0 < act["expected_recovery_cents"] < act["cost_cents"]


async def test_a_failed_bank_garnishment_lowers_the_next_one(session: AsyncSession) -> None:
    office = await an_office(session)
    case = await a_case(session, claim={"principal_cents": 300_000})  # 3,000 EUR, account unknown
    whole_file = await mandate(session, office, case)
    before = plausibility.assess(await service.facts_of(session, case), "BANK_GARNISHMENT", utcnow().date())
    assert not before.explanation.evidence

    empty = await reported(
        session, whole_file, "BANK_GARNISHMENT", OutcomeCode.GARNISHMENT_EMPTY, days_ago(30)
    )
    after = plausibility.assess(await service.facts_of(session, case), "BANK_GARNISHMENT", utcnow().date())
    [effect] = after.explanation.evidence
    assert effect.code == "FAILED_GARNISHMENT"
    assert f"on {days_ago(30).isoformat()} (act report {empty} of office {office.code}) caught nothing" in (
        effect.message
    )
    # x 25 % when fresh, fading over 12 months: 30 days on, a little less severe.
    assert Fraction(1, 4) < effect.factor < Fraction(1, 3)
    assert after.expected_recovery_cents == math.floor(before.expected_recovery_cents * effect.factor)
    assert after.flagged and not before.flagged


async def test_a_reported_pv_659_makes_the_address_unknown(session: AsyncSession) -> None:
    office = await an_office(session)
    case = await a_case(session, evidence=GOODS)
    served = await mandate(session, office, case, ["SERVE_TITLE"])
    pv = await reported(session, served, "SERVE_TITLE", OutcomeCode.ADDRESS_UNKNOWN, days_ago(20))

    sale = plausibility.assess(await service.facts_of(session, case), "SEIZURE_SALE", utcnow().date())
    [effect] = sale.explanation.evidence
    assert effect.code == "ADDRESS_UNKNOWN" and f"'PV 659' on {days_ago(20).isoformat()}" in effect.message
    assert f"act report {pv}" in effect.message


async def test_pacing_counts_reported_coercive_acts_by_their_act_date(session: AsyncSession) -> None:
    office = await an_office(session)
    case = await a_case(session, evidence={"monthly_net_income_cents": 250_000, **GOODS})
    ordered = await mandate(session, office, case, ["BANK_GARNISHMENT", "PAYMENT_ORDER"], issued=60)
    await reported(
        session, ordered, "BANK_GARNISHMENT", OutcomeCode.GARNISHMENT_FRUITFUL, days_ago(10), seized_cents=100
    )
    assert await verdict_codes(session, case, "WAGE_GARNISHMENT_REQUEST") == []  # one in 30 days
    await reported(session, ordered, "PAYMENT_ORDER", OutcomeCode.SERVED_AT_HOME, days_ago(31))
    assert await verdict_codes(session, case, "WAGE_GARNISHMENT_REQUEST") == []  # 31 days ago: out

    await reported(session, ordered, "PAYMENT_ORDER", OutcomeCode.SERVED_AT_HOME, days_ago(5))
    facts = await service.facts_of(session, case)
    verdict = service.judge(facts, ask(case, "WAGE_GARNISHMENT_REQUEST"), utcnow().date(), None)
    [paced] = verdict.holds
    assert paced.reason_code == "guardrail.pacing_exceeded"
    assert f"({days_ago(10).isoformat()}, {days_ago(5).isoformat()})" in paced.message
    # Every act of the mandate has a report: none is left counted on the issue date.
    assert all(a.outcome is not None for a in facts.acts) and len(facts.acts) == 3


async def test_an_act_ordered_and_not_reported_counts_on_its_issue_date(session: AsyncSession) -> None:
    office = await an_office(session)
    case = await a_case(session, evidence=GOODS)
    ordered = await mandate(session, office, case, ["PAYMENT_ORDER"], issued=0)
    [pending] = (await service.facts_of(session, case)).acts
    assert (pending.act_code, pending.on, pending.outcome) == ("PAYMENT_ORDER", utcnow().date(), None)
    with pytest.raises(InvalidInput) as refused:
        await service.create_mandate(session, ask(case, "SEIZURE_SALE", office=office), actor=STAFF)
    assert [e.code for e in refused.value.errors] == ["guardrail.payment_order_too_recent"]

    # Once reported, the payment order counts on its act date, with its outcome, and only once.
    assert ordered.issued_at is not None
    ordered.issued_at -= timedelta(days=20)
    await reported(session, ordered, "PAYMENT_ORDER", OutcomeCode.SERVED_AT_HOME, days_ago(12))
    [done] = (await service.facts_of(session, case)).acts
    assert (done.act_code, done.on, done.outcome) == (
        "PAYMENT_ORDER",
        days_ago(12),
        OutcomeCode.SERVED_AT_HOME,
    )
    assert await verdict_codes(session, case, "SEIZURE_SALE") == []


async def test_acts_of_an_ended_mandate_count_only_as_reported(session: AsyncSession) -> None:
    office = await an_office(session)
    case = await a_case(session, evidence=GOODS)
    ordered = await mandate(session, office, case, ["PAYMENT_ORDER", "BANK_GARNISHMENT"], issued=0)
    await service.cancel(session, ordered.ref, actor=STAFF, reason="paid directly")
    assert (await service.facts_of(session, case)).acts == ()
    assert await verdict_codes(session, case, "SEIZURE_SALE") == ["guardrail.no_prior_payment_order"]


@pytest.fixture
def pacing(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int, int], None]]:
    """Sets ``HUB_PACING_*`` as an operator would; the hub settings are read again after."""

    def configure(max_acts: int, window_days: int) -> None:
        monkeypatch.setenv("HUB_PACING_MAX_COERCIVE_ACTS", str(max_acts))
        monkeypatch.setenv("HUB_PACING_WINDOW_DAYS", str(window_days))
        get_settings.cache_clear()

    yield configure
    get_settings.cache_clear()


def test_the_pacing_settings_default_to_the_charter_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HUB_PACING_MAX_COERCIVE_ACTS", "HUB_PACING_WINDOW_DAYS"):
        monkeypatch.delenv(name, raising=False)
    hub = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (hub.pacing_max_coercive_acts, hub.pacing_window_days) == (
        DEFAULT_SETTINGS.pacing_max_coercive_acts,
        DEFAULT_SETTINGS.pacing_window_days,
    )


async def test_a_lower_pacing_setting_trips_the_guardrail(
    session: AsyncSession, pacing: Callable[[int, int], None]
) -> None:
    office = await an_office(session)
    case = await a_case(session, evidence={"bank_balance_cents": 2_000_000})
    whole_file = await mandate(session, office, case)
    await reported(session, whole_file, "PAYMENT_ORDER", OutcomeCode.SERVED_AT_HOME, days_ago(20))
    assert await verdict_codes(session, case, "BANK_GARNISHMENT") == []

    pacing(1, 30)
    assert service.policy_settings().pacing_max_coercive_acts == 1
    garnishment = await service.create_mandate(
        session, ask(case, "BANK_GARNISHMENT", office=office), actor=STAFF
    )
    assert garnishment.status == MandateStatus.HELD and garnishment.assessment is not None
    assert [r["code"] for r in garnishment.assessment["reasons"]] == ["guardrail.pacing_exceeded"]
    assert "at most 1" in garnishment.assessment["reasons"][0]["message"]
    pacing(1, 14)  # a shorter window: the payment order of 20 days ago is out of it
    assert await verdict_codes(session, case, "BANK_GARNISHMENT") == []


def test_the_holiday_subdivision_is_a_hub_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUB_HOLIDAY_SUBDIVISION", raising=False)
    get_settings.cache_clear()
    assert service.policy_settings().holiday_subdivision is None
    monkeypatch.setenv("HUB_HOLIDAY_SUBDIVISION", "57")
    get_settings.cache_clear()
    moselle = service.policy_settings()
    get_settings.cache_clear()
    assert moselle.holiday_subdivision == "57"
    assert moselle.procedural_deadline(date(2027, 3, 26)) == date(2027, 3, 30)  # Good Friday there
    with pytest.raises(ValueError, match="HUB_HOLIDAY_SUBDIVISION"):
        Settings(_env_file=None, holiday_subdivision="Alsace-Lorraine")  # type: ignore[call-arg]
