"""HTTP plumbing: problem+json for every error, the body limits of every transport, and the one
log line and latency figure of every request."""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.kit.db import is_unavailable
from hub.kit.errors import MAX_ERRORS, ErrorItem, HubError, InvalidInput, PayloadTooLarge, problem_body
from hub.observability import metrics
from hub.observability.tracing import current_trace
from schemas.v1.message import duplicate_keys

if TYPE_CHECKING:
    from hub.settings import Settings

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger()
BATCH_PATH = "/v1/act-reports/batch"
INVOICES_PATH = "/v1/invoices"
IMPORT_PATH = "/console/mandates/import"
# Room for an import form's other parts (its CSRF token, the multipart boundaries) beside the file,
# so that a file just over HUB_MAX_IMPORT_BYTES is refused on the page, not with problem+json.
FORM_ROOM = 64 * 1024


@dataclass(frozen=True)
class BodyLimits:
    """How many bytes a body may have, whatever carried it: an HTTP request (by its route) or an
    AMQP message (by its content type: it has no route). Checked before anything is parsed or
    stored, by ``BodyLimitMiddleware`` and by the AMQP consumer, through ``body_too_large``."""

    body: int  # HUB_MAX_BODY_BYTES: any message
    invoice: int  # HUB_MAX_INVOICE_BYTES: an invoice, which may be a Factur-X PDF
    batch: int  # HUB_MAX_BATCH_BYTES: a batch file, streamed
    console_import: int = 4 * 1024 * 1024 + FORM_ROOM  # HUB_MAX_IMPORT_BYTES and the form around it

    @classmethod
    def from_settings(cls, settings: Settings) -> BodyLimits:
        return cls(
            settings.max_body_bytes,
            settings.max_invoice_bytes,
            settings.max_batch_bytes,
            settings.max_import_bytes + FORM_ROOM,
        )

    @classmethod
    def defaults(cls) -> BodyLimits:
        from hub.settings import Settings

        fields = Settings.model_fields
        return cls(
            fields["max_body_bytes"].default,
            fields["max_invoice_bytes"].default,
            fields["max_batch_bytes"].default,
            fields["max_import_bytes"].default + FORM_ROOM,
        )

    def for_path(self, path: str) -> int:
        """An HTTP request's: its route's."""
        if path == BATCH_PATH:
            return self.batch
        if path == INVOICES_PATH:
            return max(self.body, self.invoice)
        if path == IMPORT_PATH:
            return max(self.body, self.console_import)
        return self.body

    def for_message(self, content_type: str) -> int:
        """A message without a route (AMQP): a PDF is an invoice (Factur-X), anything else a message."""
        if content_type.split(";", 1)[0].strip().lower() == "application/pdf":
            return max(self.body, self.invoice)
        return self.body


async def refuse_duplicate_json_keys(request: Request) -> None:
    """A dependency of every route: a JSON body that gives a key twice in one object is refused,
    as on the inbound path (``v1.parse_json``), which checks the routes that read their own body."""
    route = request.scope.get("route")
    if getattr(route, "body_field", None) is None:
        return  # no body, or one the route reads itself
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        return
    if duplicates := duplicate_keys(await request.body()):
        errors = [
            ErrorItem(
                _location(("body", *loc)) or "/",
                "json.duplicate_key",
                f"the key {loc[-1]!r} is given more than once in this object",
            )
            for loc in duplicates
        ]
        raise InvalidInput(
            f"{len(errors)} key(s) given more than once; give each key once",
            code="json.duplicate_key",
            errors=errors,
        )


def body_too_large(size: int, limit: int) -> PayloadTooLarge | None:
    """The refusal of a body of ``size`` bytes (so far) under ``limit``, or None when it fits."""
    return PayloadTooLarge(_too_large_detail(limit)) if size > limit else None


def problem_response(
    status: int,
    title: str,
    detail: str,
    code: str,
    errors: list[ErrorItem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, title, detail, code, errors),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _location(loc: tuple[Any, ...]) -> str:
    """pydantic's ``("body", "fees", 0, "vat_cents")`` -> ``"fees[0].vat_cents"``."""
    path = ""
    for part in loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def validation_errors(raw: list[Any]) -> list[ErrorItem]:
    return [
        ErrorItem(
            _location(tuple(e.get("loc", ()))), f"schema.{e.get('type', 'invalid')}", str(e.get("msg", ""))
        )
        for e in raw[:MAX_ERRORS]
    ]


_STATUS_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    429: ("rate_limited", "Too many requests"),
}


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(HubError)
    async def _hub_error(_request: Request, exc: HubError) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, exc.code, exc.errors, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(list(exc.errors()))
        for error in errors:
            metrics.VALIDATION_ERRORS.labels(metrics.error_code(error.code)).inc()
        return problem_response(
            422, "The request is not valid", f"{len(errors)} error(s) in the request", "invalid_input", errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, title = _STATUS_CODES.get(exc.status_code, ("http_error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem_response(exc.status_code, title, detail, code, headers=getattr(exc, "headers", None))

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if is_unavailable(exc):
            return _unavailable(request, exc)
        if not isinstance(exc, OperationalError) or "database is locked" not in str(exc.orig):
            raise exc  # unexpected: answered 500 and logged once, with its traceback, as any other
        # The embedded SQLite database has one writer at a time; a request that waited its turn
        # (busy_timeout) in vain was rolled back whole: nothing was applied, the sender retries.
        log.warning("database_busy", path=request.url.path)
        return problem_response(
            503,
            "Database busy",
            "the hub's database was busy with another write; nothing was applied, retry shortly",
            "database.busy",
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(OSError)  # the driver could not connect: refused, reset, timed out
    async def _connection(request: Request, exc: OSError) -> JSONResponse:
        return _unavailable(request, exc)

    def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        # Refused or cut off: the transaction never committed, nothing was applied.
        log.warning("database_unavailable", path=request.url.path, error=type(exc).__name__)
        return problem_response(
            503,
            "Database unavailable",
            "the hub cannot reach its database; nothing was applied, retry shortly",
            "database.unavailable",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Not logged here: the exception goes on to RequestLogMiddleware, whose one line for the
        # request carries it with its traceback.
        return problem_response(
            500, "Internal error", "the hub failed to process the request", "internal_error"
        )


class BodyLimitMiddleware:
    """Refuses bodies over the limit with 413 before they are parsed, chunked bodies included.

    A declared ``Content-Length`` over the limit is refused at once. A body without one is counted
    as it arrives: past the limit the read raises ``PayloadTooLarge`` inside the route (which reads
    the body itself, so nothing is parsed, and its transaction rolls back: nothing is stored), and
    whatever the app answers or raises after that is replaced by the one 413 sent from here. The
    exception must not travel further out: the outermost handler of unexpected errors would turn it
    into a 500 before this middleware could answer. ``limits`` gives each path its limit (the
    streamed batch import, the PDF invoices have their own).
    """

    def __init__(self, app: ASGIApp, *, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"])
        for name, value in scope.get("headers", []):
            if (
                name == b"content-length"
                and value.isdigit()
                and body_too_large(int(value), limit) is not None
            ):
                await _send_too_large(send, limit)
                return

        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise PayloadTooLarge(_too_large_detail(limit))
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if (too_large := body_too_large(received, limit)) is not None:
                    exceeded = True
                    raise too_large
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the app's answer to the oversized body is replaced by the 413 below
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            log.info("body_too_large", path=scope["path"], limit=limit)
            await _send_too_large(send, limit)


def _too_large_detail(limit: int) -> str:
    return f"the body exceeds {limit} bytes; split it or use the batch route"


async def _send_too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        problem_body(
            413,
            PayloadTooLarge.title,
            _too_large_detail(limit),
            PayloadTooLarge.code,
        )
    ).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestLogMiddleware:
    """The outermost layer of the app (``hub.app.HubApi``): one log line per request and its
    latency in ``hub_http_request_duration_seconds``, by route template (never the path: no ids).

    The request's correlation id is its ``X-Request-ID`` (letters, digits, ``._:-``, at most 128),
    else a new one, echoed in the response's ``X-Request-ID``; it is bound in structlog's context
    with whatever the request binds later (the office or staff account, the message id), so every
    line logged inside the request carries them, and so does this one. An exception that escaped
    the app (answered 500 by its handler) is logged here, once, with its traceback in the line's
    ``exception`` field, and goes no further: the server would log it a second time. With traces on,
    the line names the request's ``trace_id``, read as the response starts: the line is logged
    after the request's span has ended.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(correlation_id=request_id)
        status = 500
        responded = False
        trace_id: str | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded, trace_id
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                trace_id = current_trace().get("trace_id")
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            self._done(scope, status, started, trace_id, escaped=True)
            if not responded:
                raise
        else:
            self._done(scope, status, started, trace_id, escaped=False)
        finally:
            structlog.contextvars.clear_contextvars()

    @staticmethod
    def _done(scope: Scope, status: int, started: float, trace_id: str | None, *, escaped: bool) -> None:
        elapsed = time.perf_counter() - started
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        metrics.observe_request(scope["method"], route, status, elapsed)
        line: dict[str, Any] = {"method": scope["method"], "route": route, "status": status}
        if trace_id is not None:
            line["trace_id"] = trace_id
        if escaped:
            log.error("request", **line, duration_ms=round(elapsed * 1000, 1), exc_info=True)
        else:
            log.info("request", **line, duration_ms=round(elapsed * 1000, 1))
