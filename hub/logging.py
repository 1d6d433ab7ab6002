"""Structured logs (structlog): one JSON object a line on stderr (readable lines on a terminal).

The standard library's loggers (uvicorn's, aio-pika's, alembic's...) go through the same processors
and the same renderer, so a log collector reads one format. Whatever a process logs goes to stderr:
stdout is the command line's output (a key, a URL, a table), never mixed with logs.

What a line carries beyond its event: the context bound with ``structlog.contextvars`` where the
work starts, so every line inside it names it: ``correlation_id`` (an HTTP request's
``X-Request-ID``, or an AMQP message's correlation id), ``message_id`` and ``office`` (or ``staff``,
a staff account's id); and, when traces are on (``hub.observability.tracing``), ``trace_id`` and
``span_id`` of the span the line was logged in, so a log line leads to its trace and a trace to its
lines. No debtor's data is ever logged: events name ids and codes, never a body,
an error's message (which may quote the body) or a name (docs/adr/0014-observability.md).
"""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.typing import EventDict, WrappedLogger

from hub.observability.tracing import current_trace

# uvicorn logs an exception that escaped the app; the hub's own request line has logged it already
# with its traceback (hub.kit.http.RequestLogMiddleware), so uvicorn's copy is dropped.
_ESCAPED = "Exception in ASGI application"
# Chatty at INFO (every connection and channel): warnings only.
_QUIET = ("aio_pika", "aiormq")


class _HubHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module puts on the root logger (and replaces when configured again)."""


class _DropEscaped(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _ESCAPED


def add_trace_ids(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """A structlog processor: the line's ``trace_id`` and ``span_id`` (``current_trace``)."""
    for key, value in current_trace().items():
        event_dict.setdefault(key, value)
    return event_dict


def configure_logging(level: str = "INFO", *, json_lines: bool | None = None) -> None:
    """``json_lines``: JSON (the default when stderr is not a terminal) or readable lines."""
    as_json = not sys.stderr.isatty() if json_lines is None else json_lines
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_trace_ids,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    numeric = logging.getLevelName(level.upper())
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = _HubHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _HubHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()  # uvicorn's own plain-text handlers, if its config ran
        logger.propagate = True
    escaped = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropEscaped) for f in escaped.filters):
        escaped.addFilter(_DropEscaped())
    # One line per request is the hub's own (with its route, office and duration): no access log.
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
