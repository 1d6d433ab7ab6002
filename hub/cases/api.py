"""Routes of the cases module, for agency staff."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel

from hub.cases import service
from hub.cases.models import Case
from hub.cases.service import CaseIn
from hub.deps import SessionDep, staff_with
from hub.staff.models import Role

router = APIRouter(prefix="/v1/cases", tags=["cases"])
STAFF = staff_with(Role.STAFF)


class CaseOut(BaseModel):
    ref: str
    creditor: dict[str, Any]
    debtor: dict[str, Any]
    claim: dict[str, Any]
    outstanding_cents: int
    claim_kind: str
    title: dict[str, Any] | None
    claim_started_on: str | None
    evidence: dict[str, Any]


def case_out(case: Case) -> CaseOut:
    debtor = case.debtor
    title = None
    if case.title_kind is not None:
        title = {
            "kind": case.title_kind,
            "issued_on": case.title_issued_on.isoformat() if case.title_issued_on else None,
            "served_on": case.title_served_on.isoformat() if case.title_served_on else None,
        }
    evidence = {name: getattr(case, name) for name in service.EvidenceIn.model_fields}
    if case.last_no_goods_report_on is not None:
        evidence["last_no_goods_report_on"] = case.last_no_goods_report_on.isoformat()
    return CaseOut(
        ref=case.ref,
        creditor={"name": case.creditor.name},
        debtor={
            "kind": debtor.kind,
            "name": debtor.name,
            "address": {
                "line1": debtor.address_line1,
                "postcode": debtor.postcode,
                "city": debtor.city,
                "departement": debtor.departement,
            },
        },
        claim={
            "principal_cents": case.principal_cents,
            "interest_cents": case.interest_cents,
            "costs_cents": case.costs_cents,
            "paid_cents": case.paid_cents,
            "currency": case.currency,
        },
        outstanding_cents=case.outstanding_cents,
        claim_kind=case.claim_kind,
        title=title,
        claim_started_on=case.claim_started_on.isoformat() if case.claim_started_on else None,
        evidence=evidence,
    )


@router.post("", status_code=status.HTTP_201_CREATED, summary="Open a case", dependencies=[STAFF])
async def create_case(body: CaseIn, session: SessionDep) -> CaseOut:
    """Opens a debt collection case: its reference, creditor, debtor, claim (integer cents) and kind, and
    optionally the enforceable title and evidence. Mandates to offices are issued on a case. Staff only;
    422 lists every error found.
    """
    case = await service.create_case(session, body)
    return case_out(await service.get_case(session, case.ref))


@router.get("/{ref}", summary="A case with its claim, title and evidence", dependencies=[STAFF])
async def get_case(ref: str, session: SessionDep) -> CaseOut:
    """A case by its reference, with its parties, claim, enforceable title and evidence as the agency
    recorded them. Staff only; 404 for an unknown reference.
    """
    return case_out(await service.get_case(session, ref))
