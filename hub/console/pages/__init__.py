"""The console's pages, one file per area; ``router`` gathers them (mounted by ``create_app``)."""

from fastapi import APIRouter

from hub.console.pages import (
    auth,
    cases,
    dashboard,
    decide,
    invoices,
    mandates,
    messages,
    offices,
    worklist,
)

router = APIRouter(prefix="/console", include_in_schema=False)
for area in (auth, dashboard, decide, worklist, mandates, cases, offices, invoices, messages):
    router.include_router(area.router)
