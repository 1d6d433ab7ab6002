"""Mandates: the list with filters, one mandate with its log, issuing one, importing a CSV file."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from itertools import islice
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile

from adapters.csv import read_rows
from hub.cases.repository import CaseRepository
from hub.console.web import (
    PAGE_SIZE,
    CheckedForm,
    Signed,
    done,
    field,
    fragment,
    needs,
    page,
    page_pieces,
    refusal_text,
)
from hub.database import failure_message, unit_of_work
from hub.deps import SessionDep, SettingsDep
from hub.kit.errors import HubError
from hub.kit.http import validation_errors
from hub.mandates import service as mandates
from hub.mandates.models import MandateKind, MandateStatus
from hub.offices.repository import OfficeRepository
from hub.staff.models import Role

log = structlog.get_logger()
router = APIRouter()
Staff = Annotated[Signed, needs(Role.STAFF)]
EXPLAIN = (
    "Every mandate sent (or held) to an office: per act (mandat à l'acte) or for the whole file "
    "(mandat au dossier). Issue one, or import a CSV file: each row goes through the same rules, and "
    "a held one waits under To decide."
)
CSV_HEADER = "case_ref,office_code,kind,acts[],fee_budget_cents,instructions,priority"
ROW_BYTES = 80  # a typical line of the file, for the page's "about N lines"


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
        "chunk": mandates.CHUNK,
        "max_import_mb": round(request.app.state.settings.max_import_bytes / 2**20, 1),
        "max_import_rows": request.app.state.settings.max_import_bytes // ROW_BYTES // 1000 * 1000,
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


async def _kept(upload: UploadFile, path: Path, limit: int) -> str | None:
    """The upload copied to ``path`` a chunk at a time (memory stays flat), or why it is refused."""
    size = 0
    with path.open("wb") as copy:
        while chunk := await upload.read(1 << 16):
            size += len(chunk)
            if size > limit:
                return (
                    f"The file is over {limit:,} bytes (HUB_MAX_IMPORT_BYTES): split it, or import it "
                    "with `hub mandates import` on the server. Nothing was imported."
                )
            copy.write(chunk)
    return None


@router.post("/mandates/import", response_model=None)
async def import_csv(
    request: Request, session: SessionDep, settings: SettingsDep, signed: Staff, form: CheckedForm
) -> HTMLResponse | StreamingResponse:
    """Checks the whole file first (UTF-8 CSV, a mandates header, its rows counted), refusing it at
    once on the mandates page; then answers a page streamed as the import goes: a line per chunk of
    rows, each chunk committed in its own transaction, then the report of every refused line."""
    upload = form.get("file")
    folder = Path(tempfile.mkdtemp(prefix="hub-console-"))
    path = folder / "mandates.csv"
    error: str | None = None
    total = 0
    if not isinstance(upload, UploadFile) or not upload.filename:
        error = "Choose a CSV file to import."
    elif (error := await _kept(upload, path, settings.max_import_bytes)) is None:
        try:
            total = mandates.checked_rows(path)
        except ValueError as exc:
            error = f"Refused: {exc}. Nothing was imported."
    if error is None and total == 0:
        error = "Refused: the file has a header but no rows. Nothing was imported."
    if error is not None:
        shutil.rmtree(folder, ignore_errors=True)
        context = await _listing(request, session, signed, status="", office="", after=None, limit=PAGE_SIZE)
        return page(
            request,
            signed,
            "mandates.html",
            status_code=400,
            title="Mandates",
            explain=EXPLAIN,
            report={"error": error, "file": getattr(upload, "filename", None)},
            **context,
        )
    assert isinstance(upload, UploadFile)
    head, middle, tail = page_pieces(
        request,
        signed,
        "mandates_import.html",
        title="Import mandates",
        explain="Each row of the file issued or held by the same rules as one issued by hand.",
        file=upload.filename,
        total=total,
        chunk=mandates.CHUNK,
    )
    return StreamingResponse(
        _import(
            request.app.state.sessions,
            path,
            (head, middle, tail),
            file=upload.filename or "",
            total=total,
            actor=signed.user.email,
            busy_timeout=settings.sqlite_busy_timeout,
        ),
        media_type="text/html; charset=utf-8",
        headers={"X-Accel-Buffering": "no"},  # a proxy passes each line on as it comes
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


async def _import(
    sessions: async_sessionmaker[AsyncSession],
    path: Path,
    pieces: tuple[str, str, str],
    *,
    file: str,
    total: int,
    actor: str,
    busy_timeout: float,
) -> AsyncIterator[str]:
    """The page of the import as it runs, a transaction per chunk: the page's head, a progress line
    per chunk once it is committed, the report, the footer. A failure (the database busy or gone)
    stops it: the chunks committed before stay, the report says so. The rows are read from the file
    as they go: memory holds one chunk."""
    head, middle, tail = pieces
    yield head
    summary = mandates.ImportSummary()
    rows = read_rows(path)
    done_rows = part = 0
    failure = failed_rows = None
    while chunk := list(islice(rows, mandates.CHUNK)):
        before = (summary.imported, summary.held, summary.already, len(summary.rejected))
        try:
            async with unit_of_work(sessions) as session:
                await mandates.import_rows(session, chunk, actor=actor, summary=summary)
        except Exception as exc:  # the chunk rolled back: the page says what stays
            failure = failure_message(exc, busy_timeout=busy_timeout)
            failed_rows = f"{done_rows + 1:,}-{done_rows + len(chunk):,}"
            summary.imported, summary.held, summary.already = before[:3]
            for row in chunk:
                summary.rejected.pop(row.line, None)
            log.warning("console_import_stopped", file=file, committed=done_rows, error=failure)
            break
        part += 1
        done_rows += len(chunk)
        yield fragment(
            "import_progress.html",
            part=part,
            first=done_rows - len(chunk) + 1,
            last=done_rows,
            total=total,
            created=summary.imported - before[0],
            already=summary.already - before[2],
            refused=len(summary.rejected) - before[3],
        )
    yield middle
    log.info(
        "console_import",
        file=file,
        rows=done_rows,
        imported=summary.imported,
        rejected=len(summary.rejected),
        stopped=failure is not None,
    )
    yield fragment(
        "import_report.html",
        report={
            "file": file,
            "imported": summary.imported,
            "held": summary.held,
            "already": summary.already,
            "rejected": sorted(summary.rejected.items()),
            "failure": failure,
            "failed_rows": failed_rows,
            "committed": done_rows,
            "chunk": mandates.CHUNK,
        },
    )
    yield tail


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
