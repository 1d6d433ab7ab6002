"""Opening cases: unknown evidence stays unknown, every error found at once, batch import."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases import service
from hub.cases.service import CaseIn
from hub.kit.errors import Conflict, InvalidInput
from tests.hub.cases.factories import case_body


async def test_unknown_evidence_is_null_and_known_zero_is_zero(session: AsyncSession) -> None:
    data = CaseIn.model_validate(case_body(evidence={"bank_balance_cents": 0, "vulnerable": None}))
    await service.create_case(session, data)
    case = await service.get_case(session, data.ref)
    assert case.bank_balance_cents == 0
    assert case.monthly_net_income_cents is None and case.vulnerable is None
    facts = service.case_facts(case)
    assert facts.evidence.bank_balance_cents == 0 and facts.evidence.seizable_goods_value_cents is None
    assert facts.outstanding_cents == 500_000 and facts.title is not None


async def test_every_meaning_error_is_listed(session: AsyncSession) -> None:
    body = case_body(
        debtor={"kind": "person", "name": "X", "address": {"departement": "99"}},
        claim={"principal_cents": 100, "paid_cents": 500},
        title={"kind": "judgment", "issued_on": "2030-01-02", "served_on": "2029-01-01"},
    )
    with pytest.raises(InvalidInput) as caught:
        await service.create_case(session, CaseIn.model_validate(body))
    assert {e.code for e in caught.value.errors} == {
        "case.departement_invalid",
        "case.overpaid",
        "case.title_served_before_issued",
        "case.title_in_future",
    }


async def test_a_ref_is_opened_once(session: AsyncSession) -> None:
    data = CaseIn.model_validate(case_body())
    await service.create_case(session, data)
    with pytest.raises(Conflict) as caught:
        await service.create_case(session, data)
    assert caught.value.code == "case.exists"


async def test_import_inserts_a_batch_sharing_creditors(session: AsyncSession) -> None:
    batch = [
        CaseIn.model_validate(case_body(evidence={"last_no_goods_report_on": "2026-01-05"})) for _ in range(3)
    ]
    assert await service.import_cases(session, batch) == 3
    assert await service.existing_refs(session, [d.ref for d in batch]) == {d.ref for d in batch}
    case = await service.get_case(session, batch[0].ref)
    assert case.last_no_goods_report_on == date(2026, 1, 5) and case.debtor.departement == "75"


async def test_the_facts_keep_reported_acts_apart_from_acts_only_ordered(session: AsyncSession) -> None:
    data = CaseIn.model_validate(case_body())
    await service.create_case(session, data)
    case = await service.get_case(session, data.ref)  # with its debtor
    done = service.reported_act(
        act_code="BANK_GARNISHMENT",
        act_date=date(2026, 2, 3),
        outcome_code="garnishment_partial",
        seized_cents=12_000,
        office="CJ75001",
        reference="A26/0815",
    )
    ordered = service.ordered_act("GARNISHMENT_NOTICE", date(2026, 2, 1))
    facts = service.case_facts(
        case, (done, ordered), (service.ordered_act("PAYMENT_ORDER", date(2026, 1, 5)),)
    )
    assert [(a.act_code, a.on, a.outcome) for a in facts.acts] == [
        ("BANK_GARNISHMENT", date(2026, 2, 3), "garnishment_partial"),
        ("GARNISHMENT_NOTICE", date(2026, 2, 1), None),
    ]
    assert (done.reference, done.office, done.brought_money) == ("A26/0815", "CJ75001", True)
    assert ordered.reference is None and [a.act_code for a in facts.debtor_acts_elsewhere] == [
        "PAYMENT_ORDER"
    ]
    with pytest.raises(ValueError, match="served_by_pigeon"):
        service.reported_act(
            act_code="SERVE_TITLE", act_date=date(2026, 2, 3), outcome_code="served_by_pigeon"
        )
