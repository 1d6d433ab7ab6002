"""What every office route that takes one message shares: the Idempotency-Key, the rate limit
per key, the documented answers, and the call to the one inbound processor."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse

from hub.deps import Credentials, SessionDep, office_of
from hub.kit import idempotency
from hub.kit.errors import ErrorItem, problem_body
from hub.kit.http import PROBLEM_JSON
from hub.kit.openapi import Problem, problems, request_body, schema_of
from hub.kit.ratelimit import RateLimiter
from hub.messaging.inbound import JSON, OFFICE_KINDS, XML, InboundProcessor, Outcome, Received
from hub.messaging.outbound import receipt_message
from hub.offices.models import Office
from schemas import v1

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Retry safely: the same key and body get the first response again for 24 h",
    ),
]


class MessageProblem(Problem):
    """A refused message: the problem, with the hub's signed receipt of the refusal (or, for a
    duplicate, the first receipt). Errors of the plumbing (key, rate, body size) carry none."""

    receipt: v1.Receipt | None = None


def sample_example(name: str) -> dict[str, Any]:
    """A valid sample of ``schemas/samples/v1/valid`` as an OpenAPI example."""
    path = v1.SAMPLES_DIR / "valid" / name
    return {"summary": f"samples/v1/valid/{name}", "value": json.loads(path.read_text(encoding="utf-8"))}


RECEIPT_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "The hub's signed receipt (kind `receipt`)",
        "model": v1.Receipt,
        "content": {JSON: {"examples": {"receipt_accepted": sample_example("receipt_accepted.json")}}},
    },
    **problems(
        {
            403: "Envelope sender is not the key's office",
            404: "Mandate unknown or not this office's",
            409: "Duplicate message id (its first receipt), or the same Idempotency-Key still in progress",
            415: "Unsupported content type",
            422: "Invalid message, every error listed; or an Idempotency-Key reused",
        },
        MessageProblem,
    ),
    **problems(
        {
            401: "No office API key, or one unknown or revoked",
            413: "Body too large",
            429: "Rate limit of the key exceeded (see Retry-After)",
        }
    ),
}
# Other forms of a body than v1 JSON: read as bytes by the hub's own parsers.
XML_DOCUMENT = {"type": "string", "format": "binary", "description": "Canonical XML (`schemas/xsd/v1`)"}
PDF_DOCUMENT = {"type": "string", "format": "binary", "description": "A Factur-X PDF"}


def message_body(*kinds: str, other_forms: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """``openapi_extra`` of a route that takes one v1 message of ``kinds``: its JSON Schema (from
    ``schemas/``) as ``application/json``, the canonical XML as ``application/xml``, and any
    ``other_forms`` (media type -> schema)."""
    schemas = [schema_of(v1.MESSAGE_TYPES[kind]) for kind in kinds]  # type: ignore[index]
    as_json = schemas[0] if len(schemas) == 1 else {"oneOf": schemas}
    extra = request_body({JSON: as_json, XML: XML_DOCUMENT, **(other_forms or {})})
    content = extra["requestBody"]["content"]
    for media_type, examples in sample_examples(kinds).items():
        content[media_type]["examples"] = examples
    return extra


def sample_examples(kinds: tuple[str, ...]) -> dict[str, dict[str, dict[str, Any]]]:
    """The valid samples of ``kinds`` (``schemas/samples/v1/valid``, checked against the schemas by
    their own tests) as OpenAPI examples, JSON and XML, named after their file."""
    examples: dict[str, dict[str, dict[str, Any]]] = {JSON: {}, XML: {}}
    for path in sorted((v1.SAMPLES_DIR / "valid").glob("*.json")):
        sample = json.loads(path.read_text(encoding="utf-8"))
        if sample.get("envelope", {}).get("kind") not in kinds:
            continue
        examples[JSON][path.stem] = {"summary": f"samples/v1/valid/{path.name}", "value": sample}
        as_xml = path.with_suffix(".xml")
        if as_xml.exists():
            examples[XML][path.stem] = {
                "summary": f"samples/v1/valid/{as_xml.name}",
                "value": as_xml.read_text(encoding="utf-8"),
            }
    return {media_type: found for media_type, found in examples.items() if found}


# Every kind an office may send, for the route that takes any of them.
OFFICE_MESSAGE_BODY = message_body(*sorted(OFFICE_KINDS))


async def rate_limited(request: Request, session: SessionDep, credentials: Credentials) -> Office:
    """``CurrentOffice``, then a token of the key's rate (429 beyond it): one dependency, not the
    office's inside this one (each FastAPI solves costs every message a few tens of microseconds)."""
    office = await office_of(request, session, credentials)
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.check(request.headers.get("authorization", ""))
    return office


LimitedOffice = Annotated[Office, Depends(rate_limited)]


def stored_response(response: JSONResponse) -> idempotency.StoredResponse:
    return idempotency.StoredResponse(
        response.status_code, {"content-type": response.headers["content-type"]}, bytes(response.body)
    )


def replayed(stored: idempotency.StoredResponse) -> Response:
    return Response(
        stored.body, status_code=stored.status, headers={**stored.headers, "Idempotent-Replayed": "true"}
    )


async def receive_office_message(
    request: Request, office: Office, session: SessionDep, key: str | None, *, kind: str | None = None
) -> Response:
    """One message from ``office`` through the inbound processor, answered with its signed receipt;
    with an ``Idempotency-Key``, the first answer is kept and replayed for the same key and body.
    ``kind``: the one kind the route takes (422 ``envelope.kind_not_for_route`` for another)."""
    raw = await request.body()
    processor: InboundProcessor = request.app.state.processor
    kinds = None if kind is None else frozenset({kind})
    received = Received(raw, request.headers.get("content-type", ""), kinds=kinds)
    if key is None:
        return receipt_response(await processor.receive(session, office, received), office)
    fingerprint = idempotency.request_hash("POST", request.url.path, hashlib.sha256(raw).hexdigest())
    earlier = await idempotency.claim_in(session, office.id, key, fingerprint)
    if earlier is not None:
        return replayed(earlier)
    response = receipt_response(await processor.receive(session, office, received), office)
    await idempotency.complete(session, office.id, key, stored_response(response))
    return response


BODY_DOC = (
    "One v1 message, `application/xml` (canonical XML, `schemas/xsd/v1`) or `application/json` "
    "(`schemas/json/v1`); `Content-Type` decides. 202 returns the hub's signed receipt; a refusal is "
    "problem+json listing every error, with the signed receipt under `receipt`."
)


def receipt_response(outcome: Outcome, office: Office) -> JSONResponse:
    """202 with the receipt, or the refusal as problem+json carrying the receipt (both signed).
    A refusal is a normal return, so the refused message and its receipt are committed."""
    receipt = receipt_message(outcome.receipt, office.code).model_dump(mode="json", exclude_none=True)
    if outcome.accepted and not outcome.duplicate:
        return JSONResponse(receipt, status_code=202)
    if outcome.duplicate:
        detail = f"message {outcome.message.message_id} was already received; this is its receipt"
        body = problem_body(409, "Duplicate message", detail, "message.duplicate")
    else:
        errors = [ErrorItem(**e) for e in outcome.receipt.errors]
        detail = f"{len(errors)} error(s); the message was not applied"
        body = problem_body(outcome.status, "Message refused", detail, errors[0].code, errors)
    return JSONResponse({**body, "receipt": receipt}, status_code=outcome.status, media_type=PROBLEM_JSON)
