"""Issuing mandates: clear ones leave through the outbox, flagged ones are held with their reasons,
hard legal blocks are refused; approvals, refusals and every transition logged."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.updates import CaseUpdateIn
from hub.kit.errors import Conflict, InvalidInput, NotFound
from hub.ledger import service as ledger
from hub.ledger.models import LedgerTransaction
from hub.mandates import service
from hub.mandates.models import Approval, Mandate, MandateKind, MandateStatus
from hub.mandates.service import TRANSITIONS, MandateIn
from hub.messaging import sealing
from hub.messaging.inbound import decode
from hub.messaging.models import StoredMessage
from schemas import v1
from tests.hub.mandates.factories import POOR, RICH, a_case, an_office, reported

STAFF = "handler@agence.example"


async def sent_mandates(session: AsyncSession, mandate: Mandate) -> list[v1.Mandate]:
    rows = await session.scalars(
        select(StoredMessage).where(
            StoredMessage.kind == "mandate", StoredMessage.correlation_id == mandate.ref
        )
    )
    found = [decode(await sealing.open_body(session, row), row.content_type) for row in rows]
    assert all(isinstance(m, v1.Mandate) for m in found)
    return found  # type: ignore[return-value]


async def test_a_clear_mandate_is_issued_to_the_office_of_the_departement(session: AsyncSession) -> None:
    office = await an_office(session, departements=["2A"])
    case = await a_case(
        session,
        debtor={
            "kind": "person",
            "name": "Corse",
            "address": {
                "line1": "1 cours Napoléon",
                "postcode": "20000",
                "city": "Ajaccio",
                "departement": "2A",
            },
        },
        **RICH,
    )
    data = MandateIn(
        case_ref=case.ref, kind=MandateKind.PER_ACT, acts=["BANK_GARNISHMENT", "GARNISHMENT_NOTICE"]
    )
    mandate = await service.create_mandate(session, data, actor=STAFF)

    assert mandate.status == MandateStatus.ISSUED and mandate.office_id == office.id
    [sent] = await sent_mandates(session, mandate)
    assert sent.envelope.recipient == office.code and sent.approval_id is None
    assert sent.terms.kind == "per_act" and sent.terms.act_codes == ["BANK_GARNISHMENT", "GARNISHMENT_NOTICE"]
    assert sent.debtor.last_name == "Corse" and sent.claim.principal_cents == 500_000
    log = [(e.from_status, e.to_status, e.actor) for e in await service.events(session, mandate)]
    assert log == [(None, "draft", STAFF), ("draft", "issued", STAFF)]


async def test_a_flagged_act_holds_the_mandate_with_its_reasons_and_sends_nothing(
    session: AsyncSession,
) -> None:
    office = await an_office(session)
    case = await a_case(session, **POOR)
    data = MandateIn(
        case_ref=case.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=["PAYMENT_ORDER"]
    )
    mandate = await service.create_mandate(session, data, actor=STAFF)

    assert mandate.status == MandateStatus.HELD
    assert await sent_mandates(session, mandate) == []
    assert mandate.assessment is not None
    codes = [r["code"] for r in mandate.assessment["reasons"]]
    assert "cost.creditor_loses" in codes
    [held] = [e for e in await service.events(session, mandate) if e.to_status == "held"]
    assert held.reason is not None and "Flagged" in held.reason


async def test_approval_issues_the_held_mandate_with_its_approval_id(session: AsyncSession) -> None:
    office = await an_office(session)
    case = await a_case(session, **POOR)
    data = MandateIn(
        case_ref=case.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=["PAYMENT_ORDER"]
    )
    mandate = await service.create_mandate(session, data, actor=STAFF)

    approval = await service.approve(
        session, mandate.ref, actor="chief@agence.example", comment="employer known"
    )
    assert mandate.status == MandateStatus.ISSUED and mandate.approval_id == approval.approval_id
    assert approval.decision == "approved" and approval.decided_by == "chief@agence.example"
    [sent] = await sent_mandates(session, mandate)
    assert sent.approval_id == approval.approval_id
    with pytest.raises(Conflict) as again:
        await service.approve(session, mandate.ref, actor=STAFF, comment="twice")
    assert again.value.code == "mandate.not_held"


async def test_refusal_cancels_the_held_mandate_for_good(session: AsyncSession) -> None:
    office = await an_office(session)
    case = await a_case(session, evidence={"bank_balance_cents": 2_000_000, "vulnerable": True})
    data = MandateIn(
        case_ref=case.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=["BANK_GARNISHMENT"]
    )
    mandate = await service.create_mandate(session, data, actor=STAFF)
    assert mandate.status == MandateStatus.HELD
    assert mandate.assessment is not None
    assert [r["code"] for r in mandate.assessment["reasons"]] == ["guardrail.vulnerable_debtor"]

    await service.refuse(session, mandate.ref, actor=STAFF, comment="amicable plan first")
    assert mandate.status == MandateStatus.CANCELLED and await sent_mandates(session, mandate) == []
    decided = await session.scalar(select(Approval).where(Approval.mandate_id == mandate.id))
    assert decided is not None and decided.decision == "refused"


async def test_a_hard_guardrail_refuses_the_mandate_with_readable_reasons(session: AsyncSession) -> None:
    office = await an_office(session)
    case = await a_case(session, title=None, **RICH)
    data = MandateIn(
        case_ref=case.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=["BANK_GARNISHMENT"]
    )
    with pytest.raises(InvalidInput) as refused:
        await service.create_mandate(session, data, actor=STAFF)
    assert refused.value.code == "mandate.refused_by_guardrails"
    [error] = refused.value.errors
    assert error.path == "acts[0]" and error.code == "guardrail.no_enforceable_title"
    assert "No enforceable title" in error.message
    assert await session.scalar(select(Mandate).where(Mandate.case_id == case.id)) is None


async def test_every_error_of_a_request_is_listed(session: AsyncSession) -> None:
    case = await a_case(session, debtor={"kind": "person", "name": "X", "address": {"departement": "13"}})
    data = MandateIn(case_ref=case.ref, kind=MandateKind.PER_ACT, acts=["TELEPORT"], fee_budget_cents=100)
    with pytest.raises(InvalidInput) as caught:
        await service.create_mandate(session, data, actor=STAFF)
    assert {e.code for e in caught.value.errors} == {
        "office.none_for_departement",
        "mandate.budget_unexpected",
        "act.unknown",
        "case.address_incomplete",
    }
    with pytest.raises(NotFound):
        await service.create_mandate(
            session, MandateIn(case_ref="NONE", kind=MandateKind.WHOLE_FILE), actor=STAFF
        )


async def test_a_whole_file_budget_above_the_balance_is_held(session: AsyncSession) -> None:
    office = await an_office(session)
    case = await a_case(session, **POOR)
    data = MandateIn(
        case_ref=case.ref, office_code=office.code, kind=MandateKind.WHOLE_FILE, fee_budget_cents=50_000
    )
    mandate = await service.create_mandate(session, data, actor=STAFF)
    assert mandate.status == MandateStatus.HELD
    assert mandate.assessment is not None
    assert [r["code"] for r in mandate.assessment["reasons"]] == ["cost.budget_above_balance"]

    modest = MandateIn(
        case_ref=case.ref, office_code=office.code, kind=MandateKind.WHOLE_FILE, fee_budget_cents=1_500
    )
    issued = await service.create_mandate(session, modest, actor=STAFF)
    [sent] = await sent_mandates(session, issued)
    assert sent.terms.kind == "whole_file" and sent.terms.fee_budget_cents == 1_500


async def test_insolvency_refuses_any_mandate_with_its_legal_basis(session: AsyncSession) -> None:
    office = await an_office(session)
    case = await a_case(session, evidence={"insolvency_proceedings": True, "bank_balance_cents": 2_000_000})
    whole_file = MandateIn(
        case_ref=case.ref, office_code=office.code, kind=MandateKind.WHOLE_FILE, fee_budget_cents=1_500
    )
    with pytest.raises(InvalidInput) as refused:
        await service.create_mandate(session, whole_file, actor=STAFF)
    assert refused.value.code == "mandate.refused_by_guardrails"
    [error] = refused.value.errors
    assert error.path == "case_ref" and error.code == "guardrail.insolvency_proceedings"
    assert "Art. L722-2 Code de la consommation" in error.message
    per_act = MandateIn(
        case_ref=case.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=["BANK_GARNISHMENT"]
    )
    with pytest.raises(InvalidInput) as refused:
        await service.create_mandate(session, per_act, actor=STAFF)
    [error] = refused.value.errors
    assert error.path == "acts[0]" and error.code == "guardrail.insolvency_proceedings"
    assert await session.scalar(select(Mandate).where(Mandate.case_id == case.id)) is None


async def test_each_act_stored_says_until_when_the_title_may_be_enforced(session: AsyncSession) -> None:
    office = await an_office(session)
    case = await a_case(session, **RICH)
    data = MandateIn(
        case_ref=case.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=["SERVE_TITLE"]
    )
    mandate = await service.create_mandate(session, data, actor=STAFF)
    assert mandate.assessment is not None
    [stored] = mandate.assessment["acts"]
    assert case.title_issued_on is not None
    assert f"The title of {case.title_issued_on.isoformat()} may be enforced until" in stored["title_period"]


async def test_the_state_machine_refuses_what_its_table_does_not_allow(session: AsyncSession) -> None:
    office = await an_office(session)
    case = await a_case(session, **RICH)
    data = MandateIn(
        case_ref=case.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=["SERVE_TITLE"]
    )
    mandate = await service.create_mandate(session, data, actor=STAFF)
    assert MandateStatus.COMPLETED not in TRANSITIONS[MandateStatus.ISSUED]
    with pytest.raises(Conflict) as caught:
        await service.transition(session, mandate, MandateStatus.COMPLETED, actor=STAFF, reason="skip")
    assert caught.value.code == "mandate.transition_forbidden"
    await service.cancel(session, mandate.ref, actor=STAFF, reason="paid in full")
    assert all(
        not TRANSITIONS[s] for s in (MandateStatus.CANCELLED, MandateStatus.REFUSED, MandateStatus.COMPLETED)
    )
    with pytest.raises(Conflict):
        await service.cancel(session, mandate.ref, actor=STAFF, reason="again")


async def test_a_hard_block_arising_while_held_cannot_be_approved(session: AsyncSession) -> None:
    office = await an_office(session)
    case = await a_case(session, **POOR)
    data = MandateIn(
        case_ref=case.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=["PAYMENT_ORDER"]
    )
    mandate = await service.create_mandate(session, data, actor=STAFF)
    case.title_kind = case.title_issued_on = case.title_served_on = None  # the title was set aside
    await session.flush()
    with pytest.raises(InvalidInput) as caught:
        await service.approve(session, mandate.ref, actor=STAFF, comment="go")
    assert caught.value.code == "mandate.refused_by_guardrails"
    assert mandate.status == MandateStatus.HELD and mandate.approval_id is None


async def test_a_whole_file_budget_tracks_the_fees_reported(session: AsyncSession) -> None:
    office = await an_office(session)
    case = await a_case(session, **RICH)
    data = MandateIn(
        case_ref=case.ref, office_code=office.code, kind=MandateKind.WHOLE_FILE, fee_budget_cents=10_000
    )
    mandate = await service.create_mandate(session, data, actor=STAFF)
    assert await service.budget_of(session, mandate) == {
        "fee_budget_cents": 10_000,
        "consumed_cents": 0,
        "remaining_cents": 10_000,
        "overrun": False,
    }
    await reported(session, mandate, "garnishment_fruitful", emoluments_cents=6_000, disbursements_cents=880)
    second = await reported(session, mandate, "garnishment_fruitful", emoluments_cents=3_500, vat_cents=700)
    budget = await service.budget_of(session, mandate)
    # Emoluments and disbursements, excl. VAT, summed from the ledger.
    assert budget is not None and budget["consumed_cents"] == 10_380 and budget["overrun"] is True
    assert budget["remaining_cents"] == -380
    # The office waived the second act's fees: the reversal gives the budget back.
    [fees] = await session.scalars(
        select(LedgerTransaction).where(
            LedgerTransaction.source == f"act_report:{second.id}", LedgerTransaction.kind == "act_fees"
        )
    )
    await ledger.reverse(session, fees.id, reason="fees waived", effective_on=date.today())
    await session.flush()
    budget = await service.budget_of(session, mandate)
    assert budget is not None and budget["consumed_cents"] == 6_880 and budget["overrun"] is False
    per_act = MandateIn(
        case_ref=case.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=["SERVE_TITLE"]
    )
    assert (
        await service.budget_of(session, await service.create_mandate(session, per_act, actor=STAFF)) is None
    )


async def test_expected_recovery_is_learned_from_the_act_reports(session: AsyncSession) -> None:
    office = await an_office(session)
    case = await a_case(session, **RICH)
    data = MandateIn(
        case_ref=case.ref, office_code=office.code, kind=MandateKind.WHOLE_FILE, fee_budget_cents=9_000
    )
    mandate = await service.create_mandate(session, data, actor=STAFF)
    before = (await service.learned_rates(session)).rate("BANK_GARNISHMENT", office.code)
    await reported(session, mandate, "garnishment_empty")
    await reported(session, mandate, "garnishment_empty")
    await reported(session, mandate, "garnishment_fruitful", collected_cents=10_000)
    await reported(session, mandate, "no_such_outcome")  # success is money: its outcome does not matter

    rates = await service.learned_rates(session)
    overall = rates.overall["BANK_GARNISHMENT"]
    share = 10_000 * 10_000 // case.outstanding_cents  # the money over the case's balance, in bp
    assert overall.reports >= 4 and overall.recovered_bp >= share > 0
    mine = rates.by_office[("BANK_GARNISHMENT", office.code)]
    assert (mine.recovered_bp, mine.reports) == (share, 4)
    assert rates.rate("BANK_GARNISHMENT", office.code).sample_size > before.sample_size


async def test_fees_past_the_stop_loss_with_nothing_recovered_hold_the_next_mandate(
    session: AsyncSession,
) -> None:
    office = await an_office(session)
    case = await a_case(session, **RICH)  # 5,000 EUR owed: the stop-loss line is 1,000 EUR of fees
    whole = MandateIn(
        case_ref=case.ref, office_code=office.code, kind=MandateKind.WHOLE_FILE, fee_budget_cents=200_000
    )
    first = await service.create_mandate(session, whole, actor=STAFF)
    assert first.status == MandateStatus.ISSUED
    await reported(session, first, "served_at_home", act_code="SERVE_TITLE", emoluments_cents=60_000)
    empty = await reported(session, first, "served_at_home", act_code="SERVE_TITLE", emoluments_cents=45_000)
    net = await ledger.case_net(session, case)
    assert (net.recovered_cents, net.fees_borne_cents, net.net_cents) == (0, 105_000, -105_000)

    per_act = MandateIn(
        case_ref=case.ref, office_code=office.code, kind=MandateKind.PER_ACT, acts=["BANK_GARNISHMENT"]
    )
    held = await service.create_mandate(session, per_act, actor=STAFF)
    assert held.status == MandateStatus.HELD and held.assessment is not None
    [reason] = [r for r in held.assessment["reasons"] if r["code"] == "cost.stop_loss"]
    assert "1050.00 EUR of fees" in reason["message"] and "(1000.00 EUR)" in reason["message"]

    # The office waives a fee: back under the line, the next act is judged on its own again.
    [fees] = await session.scalars(
        select(LedgerTransaction).where(
            LedgerTransaction.source == f"act_report:{empty.id}", LedgerTransaction.kind == "act_fees"
        )
    )
    await ledger.reverse(session, fees.id, reason="fees waived", effective_on=date.today())
    await session.flush()
    again = await service.create_mandate(session, per_act, actor=STAFF)
    assert again.status == MandateStatus.ISSUED, again.assessment

    # Money recovered lifts it whatever the fees: collected by an office, or paid to the agency.
    await reported(session, first, "served_at_home", act_code="SERVE_TITLE", emoluments_cents=90_000)
    assert (await service.create_mandate(session, per_act, actor=STAFF)).status == MandateStatus.HELD
    paid = {"amount_cents": 2_500, "currency": "EUR", "received_on": date.today().isoformat()}
    direct = CaseUpdateIn.model_validate(
        {"kind": "payment_received", "reference": "R-1", "effective_on": paid["received_on"], "payment": paid}
    )
    await service.record_update(session, case.ref, direct, actor=STAFF)
    assert (await ledger.case_net(session, case)).recovered_cents == 2_500
    assert (await service.create_mandate(session, per_act, actor=STAFF)).status == MandateStatus.ISSUED
    await reported(session, first, "partial_payment", act_code="SERVE_TITLE", collected_cents=1_000)
    net = await ledger.case_net(session, case)
    assert (net.recovered_cents, net.fees_borne_cents) == (3_500, 150_000)
