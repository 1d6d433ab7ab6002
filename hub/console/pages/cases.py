"""A case: its facts, mandates, acts, ledger and holds, with the cost flag's explanation; the next
acts ranked by the creditor's expected net; the messages about it."""

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
from hub.worklist import service as worklist

router = APIRouter()
Staff = Annotated[Signed, needs(Role.STAFF)]
CASE_MESSAGES = 30  # the newest; the rest in the message log, by correlation id


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
    its_mandates = await MandateRepository(session).of_case(case.id)
    # The messages stored with the case's id, and older ones whose correlation id is the case's ref or
    # one of its mandates', the newest first.
    refs = [case.ref, *(m.ref for m in its_mandates)]
    messages = await ConsoleRepository(session).messages_of_case(case.id, refs, limit=CASE_MESSAGES + 1)
    return page(
        request,
        signed,
        "case.html",
        title=f"Case {case.ref}",
        explain=(
            "Everything the hub knows of the case: the claim and the evidence the cost flag weighs, the "
            "acts it could order next ranked by what the creditor can expect to net, the mandates sent, "
            "the acts reported, the ledger, the holds and the messages about it."
        ),
        case=case,
        balance=balance_cents(case),
        net=await ledger.case_net(session, case),
        mandates=its_mandates,
        next_acts=await worklist.next_acts_of(session, case.ref),
        acts=await ConsoleRepository(session).acts_of_case(case.id),
        entries=book.entries,
        holds=holds,
        messages=messages[:CASE_MESSAGES],
        more_messages=len(messages) > CASE_MESSAGES,
        refs=refs,
        can_read_log=signed.can(Role.ADMIN),
    )
