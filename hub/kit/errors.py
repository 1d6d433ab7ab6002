"""Typed errors: each carries an HTTP status, a stable machine code and what the sender must change.

Rendered everywhere as RFC 9457 problem+json:
``{"type", "title", "status", "detail", "code", "errors": [{"path", "code", "message"}]}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.v1.errors import wire_code, wire_message, wire_text

MAX_ERRORS = 100
PROBLEM_TYPE_BASE = "https://hub.invalid/problems/"


MAX_TEXT = 500  # the wire's longest path and message


@dataclass(frozen=True)
class ErrorItem:
    """One error, in the wire form whatever found it: the code through ``wire_code`` (an EN 16931
    rule id ``BR-CO-10`` becomes ``en16931.br_co_10``, the message then starting ``BR-CO-10:``),
    path and message cut to the wire's length. What the HTTP answer, the signed receipt and the
    negative acknowledgement carry is then one and the same, and always valid on the wire."""

    path: str
    code: str
    message: str
    line: int | None = None  # in the received XML document, when known

    def __post_init__(self) -> None:
        message = wire_message(self.code, self.message) or "invalid"
        object.__setattr__(self, "path", wire_text(self.path or "/", limit=MAX_TEXT))
        object.__setattr__(self, "code", wire_code(self.code))
        object.__setattr__(self, "message", wire_text(message, limit=MAX_TEXT))
        if self.line is not None and self.line < 1:
            object.__setattr__(self, "line", None)

    def as_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {"path": self.path, "code": self.code, "message": self.message}
        if self.line is not None:
            item["line"] = self.line
        return item


class HubError(Exception):
    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[ErrorItem] | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = (errors or [])[:MAX_ERRORS]
        if code is not None:
            self.code = wire_code(code)
        self.headers = headers or {}

    def problem(self) -> dict[str, Any]:
        return problem_body(self.status, self.title, self.detail, self.code, self.errors)


def problem_body(
    status: int, title: str, detail: str, code: str, errors: list[ErrorItem] | None = None
) -> dict[str, Any]:
    return {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": [e.as_dict() for e in (errors or [])[:MAX_ERRORS]],
    }


class InvalidInput(HubError):
    status = 422
    code = "invalid_input"
    title = "The request is not valid"


class NotFound(HubError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(HubError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Unauthorized(HubError):
    status = 401
    code = "unauthorized"
    title = "Authentication required"


class Forbidden(HubError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class PayloadTooLarge(HubError):
    status = 413
    code = "payload_too_large"
    title = "Request body too large"


class Gone(HubError):
    """The object existed and was destroyed on purpose (a message of an erased case)."""

    status = 410
    code = "gone"
    title = "Gone"
