"""OpenTelemetry traces: the HTTP requests (FastAPI), their SQL (SQLAlchemy) and what goes through
RabbitMQ (aio-pika), exported over OTLP/HTTP when an endpoint is configured, and nothing at all
otherwise (not even imported: a hub without a collector pays nothing).

The endpoint: ``HUB_OTEL_ENDPOINT``, else OpenTelemetry's own ``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (read by the exporter itself, with the other ``OTEL_*``
variables: headers, timeout). The tracer provider is the app's own, passed to each
instrumentation, never installed as the process's global one.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from sqlalchemy.ext.asyncio import AsyncEngine

    from hub.settings import Settings

SERVICE_NAME = "bailiff-hub"
STANDARD_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
# Probes and scrapes, every few seconds from every replica: not worth a trace.
EXCLUDED_URLS = "/healthz,/readyz,/metrics"


def current_trace() -> dict[str, str]:
    """The OpenTelemetry trace and span the current work runs in; empty when there is none (traces
    off: the SDK was never set up, so no span is ever current). Looked up only when the tracing API
    is loaded already: a hub without traces never imports it for its logs."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return {}
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {
        "trace_id": trace.format_trace_id(context.trace_id),
        "span_id": trace.format_span_id(context.span_id),
    }


def endpoint_configured(settings: Settings) -> bool:
    return bool(settings.otel_endpoint or any(os.environ.get(name) for name in STANDARD_ENDPOINTS))


def tracer_provider(settings: Settings, exporter: SpanExporter | None = None) -> TracerProvider | None:
    """The app's tracer provider, exporting to ``exporter`` (tests: an in-memory one) or to the
    configured OTLP endpoint in batches; None when there is neither."""
    if exporter is None and not endpoint_configured(settings):
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    resource = Resource.create(
        {
            "service.name": SERVICE_NAME,
            "service.instance.role": settings.role,
            "deployment.environment": settings.env,
        }
    )
    provider = TracerProvider(resource=resource)
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        provider.add_span_processor(BatchSpanProcessor(_otlp_exporter(settings)))
    return provider


def _otlp_exporter(settings: Settings) -> Any:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    if not settings.otel_endpoint:
        return OTLPSpanExporter()  # OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, read by the exporter
    base = settings.otel_endpoint.rstrip("/")
    return OTLPSpanExporter(endpoint=base if base.endswith("/v1/traces") else f"{base}/v1/traces")


def instrument_app(app: FastAPI, provider: TracerProvider) -> None:
    """A server span per request (before the app starts: it wraps the middleware stack)."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls=EXCLUDED_URLS)


def instrument_process(engine: AsyncEngine, provider: TracerProvider) -> None:
    """A client span per SQL statement of ``engine`` (the statement, never its parameters), and
    spans for aio-pika's publishes and consumed messages. Both instrumentations patch their library
    for the whole process, once: :func:`uninstrument_process` undoes them when the app stops."""
    from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    for instrumentor in (SQLAlchemyInstrumentor(), AioPikaInstrumentor()):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
    # Its declared range stops short of SQLAlchemy 2.1, whose engine events it uses are unchanged.
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine, tracer_provider=provider, skip_dep_check=True
    )
    AioPikaInstrumentor().instrument(tracer_provider=provider)


def uninstrument_process(provider: TracerProvider) -> None:
    """Undoes :func:`instrument_process` and sends the spans still buffered."""
    from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    for instrumentor in (SQLAlchemyInstrumentor(), AioPikaInstrumentor()):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
    provider.shutdown()
