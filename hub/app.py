"""The FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI
from starlette.types import Receive, Scope, Send

from hub import health
from hub.acts import api as acts_api
from hub.bootstrap import inbound_processor
from hub.broker import Broker
from hub.cases import api as cases_api
from hub.console import pages as console_pages
from hub.console import web as console_web
from hub.database import engine_from_settings, session_factory, unit_of_work
from hub.finance import api as finance_api
from hub.inventory import api as inventory_api
from hub.invoices import api as invoices_api
from hub.kit.heap import settle_collector
from hub.kit.http import (
    BodyLimitMiddleware,
    BodyLimits,
    RequestLogMiddleware,
    install_problem_handlers,
    refuse_duplicate_json_keys,
)
from hub.kit.ratelimit import RateLimiter
from hub.ledger import api as ledger_api
from hub.logging import configure_logging
from hub.mandates import api as mandates_api
from hub.mandates import case_updates_api, decisions_api, holds_api
from hub.mandates.service import lifecycle as mandates_lifecycle
from hub.messaging import api as messaging_api
from hub.messaging import sealing
from hub.messaging.signing import ReceiptKeys, ReceiptSigner
from hub.observability import tracing
from hub.offices import api as offices_api
from hub.offices.repository import OfficeRepository
from hub.offices.service import KeyCache
from hub.payments import api as payments_api
from hub.remittances import api as remittances_api
from hub.runtime import Workers
from hub.settings import Settings, get_settings
from hub.worklist import api as worklist_api

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

DESCRIPTION = """
EDI hub between the collection agency and the bailiff offices ("commissaires de justice").

Every error is RFC 9457 `application/problem+json` with a stable `code` and the list of every
error found (`errors[].path`, `errors[].code`, `errors[].message`, at most 100).
Offices authenticate with `Authorization: Bearer <office API key>`.
"""

# The tags the routes use, in the order the documentation shows them (Spectral's `operation-tag-defined`
# refuses a tag not listed here: tests/hub/kit/test_openapi.py checks both ways).
TAGS = [
    {
        "name": "offices",
        "description": "What a bailiff office sends: act reports, batches, acknowledgements, "
        "cost requests, inventories (office API key)",
    },
    {
        "name": "messaging",
        "description": "Every office's inbox, the message store and the receipts' public key",
    },
    {"name": "invoices", "description": "Fee invoices from offices and finance's decisions on them"},
    {
        "name": "cases",
        "description": "The agency's cases, their updates and the holds raised on them (staff)",
    },
    {"name": "mandates", "description": "Mandates issued to offices, held for approval, cancelled (staff)"},
    {"name": "acts", "description": "What an act would cost and which guardrails it meets (staff)"},
    {"name": "approvals", "description": "Offices' cost requests waiting for staff or finance"},
    {"name": "finance", "description": "Fees per office and offices' net efficiency over a period (finance)"},
    {
        "name": "payments",
        "description": "Payment runs: SEPA credit transfer files paying approved invoices (finance)",
    },
    {
        "name": "ledger",
        "description": "The double-entry ledger of money collected, remitted and fees (finance)",
    },
    {
        "name": "remittances",
        "description": "Money offices collected and handed over to the agency, per bank transfer",
    },
    {"name": "inventory", "description": "An office's open mandates compared with the hub's view"},
    {
        "name": "worklist",
        "description": "What needs a person today across the offices, and reminders to them (staff)",
    },
    {"name": "health", "description": "Liveness and readiness, without credentials"},
]
# Relative: the documentation is served by the hub itself, so the calls go to the host that served it.
SERVERS = [{"url": "/", "description": "The hub that serves this document"}]
# No address is published yet: the deployment's integration team is the contact for offices.
CONTACT = {"name": "The agency's integration team (hub operations)"}


class HubApi(FastAPI):
    """FastAPI with the request log outside everything, Starlette's error middleware (and the
    tracing's) included: it sees the 500 that middleware sends for an unexpected error, and the
    error itself."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await RequestLogMiddleware(super().__call__)(scope, receive, send)


def create_app(settings: Settings | None = None, *, span_exporter: SpanExporter | None = None) -> FastAPI:
    """``span_exporter``: where traces go instead of the configured OTLP endpoint (tests)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    traces = tracing.tracer_provider(settings, span_exporter)  # None: no endpoint, no tracing

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = engine_from_settings(settings)
        if traces is not None:
            tracing.instrument_process(engine, traces)
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        app.state.broker = None
        if not settings.embedded_broker:
            try:
                async with unit_of_work(app.state.sessions) as session:
                    codes = [o.code for o in await OfficeRepository(session).list_all()]
            except Exception:  # the database is down: queues are declared when first needed
                codes = []
            app.state.broker = Broker(settings.amqp_url, codes)
            await app.state.broker.start()
        workers = Workers(settings, app.state.sessions, app.state.broker)
        await workers.start()
        settle_collector()  # set up: full collections leave the process's own objects alone
        try:
            yield
        finally:
            await workers.close()
            if app.state.broker is not None:
                await app.state.broker.stop()
            await engine.dispose()
            if traces is not None:
                tracing.uninstrument_process(traces)

    app = HubApi(
        title="Bailiff hub",
        version="1",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        servers=SERVERS,
        contact=CONTACT,
        lifespan=lifespan,
        dependencies=[Depends(refuse_duplicate_json_keys)],
    )
    app.state.settings = settings
    app.state.signer = ReceiptSigner(settings.secret_key)
    # The key that wraps each case's data key, and the earlier ones that still open older keys.
    sealing.use_secret_key(settings.secret_key, settings.previous_secrets())
    mandates_lifecycle.RATES.configure(settings.learned_rates_seconds)
    app.state.receipt_keys = ReceiptKeys.of(app.state.signer, settings.previous_receipt_keys)
    app.state.processor = inbound_processor(app.state.signer)
    install_problem_handlers(app)
    app.state.rate_limiter = RateLimiter()
    app.state.key_cache = KeyCache(settings.key_cache_seconds)
    app.add_middleware(BodyLimitMiddleware, limits=BodyLimits.from_settings(settings))
    app.include_router(health.router)
    # Act reports first: a request is matched against each route in order, and theirs is the hottest
    # (no path of this router is another's, so the order decides nothing else).
    app.include_router(acts_api.router)
    app.include_router(offices_api.router)
    app.include_router(messaging_api.router)
    app.include_router(cases_api.router)
    app.include_router(decisions_api.router)  # /mandates/held before /mandates/{ref}
    app.include_router(mandates_api.router)
    app.include_router(case_updates_api.router)
    app.include_router(holds_api.router)
    app.include_router(invoices_api.router)
    app.include_router(finance_api.router)
    app.include_router(payments_api.router)
    app.include_router(ledger_api.router)
    app.include_router(remittances_api.router)
    app.include_router(inventory_api.router)
    app.include_router(worklist_api.router)
    # The staff console: server-rendered pages under /console, outside the API's documentation.
    console_web.install(app)
    app.include_router(console_pages.router)
    app.state.tracer_provider = traces
    if traces is not None:
        tracing.instrument_app(app, traces)
    return app
