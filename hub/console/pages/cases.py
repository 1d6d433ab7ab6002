"""A case: its facts, mandates, acts, ledger and holds, with the cost flag's explanation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.cases import service as cases
from hub.cases.repository import CaseRepository
from hub.console.pages.decide import balance_cents
from hub.console.repository import ConsoleRepository
from hub.console.web import Signed, needs, page
from hub.deps import SessionDep
from hub.kit.errors import HubError
from hub.kit.pagination import MAX_LIMIT
from hub.ledger import service as ledger
from hub.mandates import service as mandates
from hub.mandates.repository import MandateRepository
from hub.staff.models import Role

router = APIRouter()
Staff = Annotated[Signed, needs(Role.STAFF)]


@router.get("/cases/{ref}")
async def one(ref: str, request: Request, session: SessionDep, signed: Staff) -> HTMLResponse:
    try:
        found = await cases.get_case(session, ref)
    except HubError as exc:
        return page(request, signed, "missing.html", title="No such case", detail=exc.detail)
    case = await CaseRepository(session).get_with_parties_by_id(found.id)
    assert case is not None
    book = await ledger.case_ledger(session, ref)
    holds, _ = await mandates.list_holds(session, ref, limit=MAX_LIMIT)  # a case has a handful
    return page(
        request,
        signed,
        "case.html",
        title=f"Case {case.ref}",
        explain=(
            "Everything the hub knows of the case: the claim and the evidence the cost flag weighs, the "
            "mandates sent, the acts reported, the ledger and the holds."
        ),
        case=case,
        balance=balance_cents(case),
        net=await ledger.case_net(session, case),
        mandates=await MandateRepository(session).of_case(case.id),
        acts=await ConsoleRepository(session).acts_of_case(case.id),
        entries=book.entries,
        holds=holds,
    )
