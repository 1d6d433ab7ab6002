"""Routes of the finance reports (finance and admin staff only; office keys are refused): the
reconciliation of one office over a period and the offices' scorecards, as JSON or as a CSV
download (``Accept: text/csv`` or ``?format=csv``). The CSV columns are in ``hub.finance.export``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from hub.deps import SessionDep, SettingsDep, staff_with
from hub.finance import export, service
from hub.finance import journal as journals
from hub.kit.clock import utcnow
from hub.staff.models import Role, StaffUser

router = APIRouter(prefix="/v1/finance", tags=["finance"])
Finance = Annotated[StaffUser, staff_with(Role.FINANCE)]
From = Annotated[date, Query(alias="from", description="First day of the period (YYYY-MM-DD), included")]
To = Annotated[date, Query(alias="to", description="Day after the period (YYYY-MM-DD), excluded")]
Format = Annotated[
    Literal["json", "csv"] | None,
    Query(
        alias="format", description="`csv` for a download; without it, `Accept: text/csv` asks for CSV too"
    ),
]
Currency = Annotated[str, Query(pattern=r"^[A-Z]{3}$", description="The figures' currency")]
CSV = "text/csv"
ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV: {}}, "description": "JSON, or CSV with `Content-Disposition: attachment`"},
    401: {"description": "No staff token (an office key is refused)"},
    403: {"description": "A staff role other than finance or admin"},
    404: {"description": "Unknown office code"},
    422: {"description": "A bad period (`to` not after `from`) or parameter"},
}


def _wants_csv(request: Request, format_: str | None) -> bool:
    if format_ is not None:
        return format_ == "csv"
    accept = request.headers.get("accept", "")
    return any(part.split(";", 1)[0].strip().lower() == CSV for part in accept.split(","))


def _download(body: str, filename: str) -> Response:
    return Response(
        body.encode(),
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/reconciliation",
    summary="One office's fees over [from, to): reported, tariff, invoiced, paid, disputed",
    description=(
        "Fees reported in act reports, invoiced (on approval) and paid come from the ledger's "
        "entries; the tariff is that of the same acts on their dates (DEP once per case); disputed "
        "are the lines with a finding of the invoices issued in the period, by code. Integer cents."
    ),
    responses=ANSWERS,
)
async def get_reconciliation(
    request: Request,
    session: SessionDep,
    _user: Finance,
    office: Annotated[str, Query(max_length=16, description="The office's code")],
    start: From,
    end: To,
    format_: Format = None,
    currency: Currency = service.DEFAULT_CURRENCY,
) -> Response:
    report = await service.reconciliation(session, office, start, end, currency=currency)
    if _wants_csv(request, format_):
        body = export.to_csv(export.RECONCILIATION_COLUMNS, export.reconciliation_rows(report))
        return _download(body, f"reconciliation-{report.office_code}-{start}-{end}.csv")
    return JSONResponse(export.reconciliation_json(report))


@router.get(
    "/scorecard",
    summary="Offices' net efficiency over [from, to): collected minus fees, per act type; delays, refusals",
    description=(
        "Per office (all, or `office`) and act type: acts, flagged acts executed, collected and fees "
        "(ledger) and their difference; per office: cases worked, cost and recovery per case, "
        "mandates sent and refused, days from issue to the first act (median, mean); and the money it "
        "holds today, collected and not remitted (`unremitted_cents`, its oldest collection's day, "
        "overdue past `HUB_REMITTANCE_DEADLINE_DAYS`)."
    ),
    responses=ANSWERS,
)
async def get_scorecard(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _user: Finance,
    start: From,
    end: To,
    office: Annotated[str | None, Query(max_length=16, description="One office's code")] = None,
    format_: Format = None,
    currency: Currency = service.DEFAULT_CURRENCY,
) -> Response:
    cards = await service.scorecards(
        session,
        start,
        end,
        office_code=office,
        currency=currency,
        remittance_deadline_days=settings.remittance_deadline_days,
    )
    if _wants_csv(request, format_):
        body = export.to_csv(export.SCORECARD_COLUMNS, export.scorecard_rows(cards))
        return _download(body, f"scorecard-{office or 'all'}-{start}-{end}.csv")
    return JSONResponse(
        {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "currency": currency,
            "offices": export.scorecard_json(cards),
        }
    )


@router.get(
    "/unremitted",
    summary="Money offices collected and have not remitted, per office and case, with its age",
    description=(
        "Per office and currency, then per case: what the office collected (its act reports' "
        "collected amounts) and has not remitted yet, in integer cents; the day of the oldest "
        "collection not remitted (an office remits what it collected first, first); its age in days; "
        "and `overdue` when older than `HUB_REMITTANCE_DEADLINE_DAYS` (the answer's `deadline_days`). "
        "Offices and cases that hold nothing are left out. Finance and admin only."
    ),
    responses={
        200: {
            "description": "The offices holding money, with their cases",
            "content": {
                "application/json": {
                    "example": {
                        "as_of": "2026-05-04",
                        "deadline_days": 30,
                        "offices": [
                            {
                                "office_code": "CJ75001",
                                "currency": "EUR",
                                "amount_cents": 45000,
                                "oldest_collected_on": "2026-03-20",
                                "age_days": 45,
                                "overdue": True,
                                "cases": [
                                    {
                                        "case_ref": "C-2026-000117",
                                        "amount_cents": 45000,
                                        "oldest_collected_on": "2026-03-20",
                                        "age_days": 45,
                                        "overdue": True,
                                    }
                                ],
                            }
                        ],
                    }
                }
            },
        },
        **{code: ANSWERS[code] for code in (401, 403, 404)},
        422: {"description": "A bad parameter"},
    },
)
async def get_unremitted(
    session: SessionDep,
    settings: SettingsDep,
    _user: Finance,
    office: Annotated[str | None, Query(max_length=16, description="One office's code")] = None,
) -> JSONResponse:
    deadline = settings.remittance_deadline_days
    held = await service.unremitted(session, deadline_days=deadline, office_code=office)
    return JSONResponse(export.unremitted_json(held, today=utcnow().date(), deadline_days=deadline))


@router.get(
    "/journal",
    summary="The ledger of [from, to) as an accounting journal: journal CSV or French FEC",
    description=(
        "Every ledger transaction effective in the period (all offices) as one balanced journal entry "
        "of debit and credit lines on the chart of accounts of docs/finance.md (622600 emoluments, "
        "445660 VAT, 408100/401100 offices, 512100 bank...), the office as auxiliary account. "
        "`format=csv` (default): a journal CSV with amounts in integer cents; `format=fec`: the "
        "French FEC layout, 18 columns separated by `|`, dates YYYYMMDD, amounts with a decimal "
        "comma. Totals per account equal the ledger's for the period. Finance and admin only."
    ),
    responses={
        200: {
            "content": {CSV: {}, "text/plain": {}},
            "description": "The journal as an attachment: CSV, or the FEC text file",
        },
        401: {"description": "No staff token (an office key is refused)"},
        403: {"description": "A staff role other than finance or admin"},
        422: {"description": "A bad period (`to` not after `from`) or format"},
    },
)
async def get_journal(
    session: SessionDep,
    _user: Finance,
    start: From,
    end: To,
    format_: Annotated[
        Literal["csv", "fec"],
        Query(alias="format", description="`csv` (journal CSV) or `fec` (Fichier des Écritures Comptables)"),
    ] = "csv",
) -> Response:
    lines = await service.journal(session, start, end)
    if format_ == "fec":
        return Response(
            journals.to_fec(lines).encode(),
            media_type="text/plain; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="FEC-{start}-{end}.txt"'},
        )
    return _download(journals.to_journal_csv(lines), f"journal-{start}-{end}.csv")
