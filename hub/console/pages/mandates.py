"""Mandates: the list with filters, one mandate with its log, issuing one, importing a CSV file."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from adapters.csv import read_rows
from hub.cases.repository import CaseRepository
from hub.console.web import PAGE_SIZE, CheckedForm, Signed, done, field, needs, page, refusal_text
from hub.deps import SessionDep
from hub.kit.errors import HubError
from hub.kit.http import validation_errors
from hub.mandates import service as mandates
from hub.mandates.models import MandateKind, MandateStatus
from hub.offices.repository import OfficeRepository
from hub.staff.models import Role

router = APIRouter()
Staff = Annotated[Signed, needs(Role.STAFF)]
EXPLAIN = (
    "Every mandate sent (or held) to an office: per act (mandat à l'acte) or for the whole file "
    "(mandat au dossier). Issue one, or import a CSV file: each row goes through the same rules, and "
    "a held one waits under To decide."
)
CSV_HEADER = "case_ref,office_code,kind,acts[],fee_budget_cents,instructions,priority"


async def _listing(
    request: Request,
    session: SessionDep,
    signed: Signed,
    *,
    status: str,
    office: str,
    after: str | None,
    limit: int,
) -> dict[str, Any]:
    office_row = await OfficeRepository(session).get_by_code(office) if office else None
    rows: list[Any] = []
    if not office or office_row is not None:
        rows = await mandates.list_mandates(
            session,
            office=office_row,
            status=MandateStatus(status) if status else None,
            after=after,
            limit=limit,
        )
    next_url = None
    if len(rows) == limit:
        query = {"status": status, "office": office, "after": rows[-1][0].ref, "limit": limit}
        next_url = "/console/mandates?" + urlencode({k: v for k, v in query.items() if v})
    return {
        "rows": rows,
        "next_url": next_url,
        "status": status,
        "office": office,
        "statuses": [s.value for s in MandateStatus],
        "kinds": [k.value for k in MandateKind],
        "offices": [o.code for o in await OfficeRepository(session).list_all()],
        "csv_header": CSV_HEADER,
    }


@router.get("/mandates")
async def list_page(
    request: Request,
    session: SessionDep,
    signed: Staff,
    status: Annotated[str, Query(pattern="^[a-z_]*$")] = "",
    office: Annotated[str, Query(max_length=16)] = "",
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
) -> HTMLResponse:
    status = status if status in {s.value for s in MandateStatus} else ""
    context = await _listing(request, session, signed, status=status, office=office, after=after, limit=limit)
    return page(request, signed, "mandates.html", title="Mandates", explain=EXPLAIN, **context)


@router.post("/mandates")
async def issue(session: SessionDep, signed: Staff, form: CheckedForm) -> RedirectResponse:
    budget = field(form, "fee_budget_euros")
    body: dict[str, Any] = {
        "case_ref": field(form, "case_ref"),
        "office_code": field(form, "office_code") or None,
        "kind": field(form, "kind"),
        "acts": [a.strip().upper() for a in field(form, "acts").replace(";", ",").split(",") if a.strip()],
        "instructions": field(form, "instructions") or None,
        "priority": field(form, "priority") or "normal",
    }
    try:
        if budget:
            body["fee_budget_cents"] = round(float(budget.replace(",", ".")) * 100)
        data = mandates.MandateIn.model_validate(body)
        async with session.begin_nested():
            mandate = await mandates.create_mandate(session, data, actor=signed.user.email)
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            items = validation_errors(list(exc.errors()))
            message = "Refused: " + "; ".join(f"{i.path}: {i.message}" for i in items)
        else:
            message = f"Refused: {budget!r} is not an amount in euros."
        return await done(session, signed, "/console/mandates", message)
    except HubError as exc:
        return await done(session, signed, "/console/mandates", refusal_text(exc))
    what = "held for a decision (see To decide)" if mandate.status == "held" else "issued to its office"
    return await done(session, signed, f"/console/mandates/{mandate.ref}", f"Mandate {mandate.ref} {what}.")


@router.post("/mandates/import")
async def import_csv(request: Request, session: SessionDep, signed: Staff, form: CheckedForm) -> HTMLResponse:
    upload = form.get("file")
    report: dict[str, Any] = {}
    if not isinstance(upload, UploadFile) or not upload.filename:
        report["error"] = "Choose a CSV file to import."
    else:
        # Copied to a file a chunk at a time, then streamed row by row: memory stays flat.
        with tempfile.TemporaryDirectory(prefix="hub-console-") as folder:
            path = Path(folder) / "mandates.csv"
            with path.open("wb") as copy:
                while chunk := await upload.read(1 << 16):
                    copy.write(chunk)
            try:
                summary = await mandates.import_rows(session, read_rows(path), actor=signed.user.email)
            except (UnicodeDecodeError, ValueError) as exc:
                report["error"] = f"The file cannot be read as UTF-8 CSV: {exc}"
            else:
                report = {
                    "file": upload.filename,
                    "imported": summary.imported,
                    "held": summary.held,
                    "already": summary.already,
                    "rejected": sorted(summary.rejected.items()),
                }
    context = await _listing(request, session, signed, status="", office="", after=None, limit=PAGE_SIZE)
    return page(request, signed, "mandates.html", title="Mandates", explain=EXPLAIN, report=report, **context)


@router.get("/mandates/{ref}")
async def one(ref: str, request: Request, session: SessionDep, signed: Staff) -> HTMLResponse:
    try:
        mandate = await mandates.get_mandate(session, ref)
    except HubError as exc:
        return page(request, signed, "missing.html", title="No such mandate", detail=exc.detail)
    office = await OfficeRepository(session).get(mandate.office_id)
    case = await CaseRepository(session).get_with_parties_by_id(mandate.case_id)
    return page(
        request,
        signed,
        "mandate.html",
        title=f"Mandate {mandate.ref}",
        explain="What the mandate asks of the office, why it was issued or held, and every step of its life.",
        m=mandate,
        office_code=office.code if office else "?",
        case=case,
        events=await mandates.events(session, mandate),
        budget=await mandates.budget_of(session, mandate),
    )
