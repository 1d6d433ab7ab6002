"""Routes of a bailiff office's software: act reports (one, or a streamed batch file), mandate
acknowledgements, batch results. The office is the key's, never the URL's or the body's. Every POST
accepts an ``Idempotency-Key`` and is rate-limited per key."""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from hub.acts import batch as batches
from hub.deps import CurrentOffice, SessionDep
from hub.kit import idempotency
from hub.kit.errors import ErrorItem, HubError, NotFound, problem_body
from hub.kit.http import PROBLEM_JSON
from hub.kit.openapi import Problem, ProblemItem, problems, request_body
from hub.messaging.receiving import (
    BODY_DOC,
    RECEIPT_RESPONSES,
    IdempotencyKey,
    LimitedOffice,
    message_body,
    receive_office_message,
    replayed,
    stored_response,
)
from hub.messaging.repository import MessageRepository

router = APIRouter(prefix="/v1", tags=["offices"])


SPOOL_IN_MEMORY = 1 << 20  # a batch file beyond 1 MiB is spooled to a temporary file


class UnsupportedMedia(HubError):
    status = 415
    code = "content_type.unsupported"
    title = "Unsupported media type"


class BatchRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=1, description="Its place in the file, from 1")
    message_id: str
    id: uuid.UUID = Field(description="The hub's id of the record's message (`GET /v1/messages/{id}`)")


class RefusedRecord(BatchRecord):
    status: int | None = Field(
        None, description="The HTTP status it would have got alone (in the answer to the POST only)"
    )
    errors: list[ProblemItem]


class BatchResultOut(BaseModel):
    """What became of every record of a batch file."""

    model_config = ConfigDict(extra="forbid")

    batch_id: uuid.UUID
    accepted_count: int = Field(ge=0)
    refused_count: int = Field(ge=0)
    accepted: list[BatchRecord]
    refused: list[RefusedRecord]
    file_errors: list[ProblemItem] = Field(description="Why the file stopped being readable, if it did")
    next_after: int | None = Field(
        description=(
            f"Records are listed {batches.LISTED:,} places of the file at a time: the rest from "
            "`GET /v1/batches/{id}?after=` this place; null when the listing reached the end"
        )
    )


class BatchProblem(Problem):
    batch_id: uuid.UUID | None = Field(None, description="The refused file's batch, when one was started")


@router.post(
    "/act-reports",
    status_code=202,
    summary="Report one act performed under a mandate",
    description=BODY_DOC,
    responses=RECEIPT_RESPONSES,
    openapi_extra=message_body("act_report"),
)
async def post_act_report(
    request: Request, office: LimitedOffice, session: SessionDep, key: IdempotencyKey = None
) -> Response:
    return await receive_office_message(request, office, session, key, kind="act_report")


@router.post(
    "/mandate-acks",
    status_code=202,
    summary="Accept or refuse a mandate, with a coded reason",
    description=BODY_DOC,
    responses=RECEIPT_RESPONSES,
    openapi_extra=message_body("mandate_ack"),
)
async def post_mandate_ack(
    request: Request, office: LimitedOffice, session: SessionDep, key: IdempotencyKey = None
) -> Response:
    return await receive_office_message(request, office, session, key, kind="mandate_ack")


@router.post(
    "/act-reports/batch",
    summary="Send a file of act reports (actReportBatch XML, any size, streamed)",
    description=(
        "Every record is processed on its own, as a message of its own with its signed receipt; the "
        "run continues after bad records. The answer (also at `GET /v1/batches/{id}`) lists the "
        "accepted records and the refused ones with every error."
    ),
    responses={
        200: {"description": "The batch result", "model": BatchResultOut},
        **problems(
            {
                401: "No office API key, or one unknown or revoked",
                409: "The same Idempotency-Key still in progress",
                413: "File larger than the batch limit",
                415: "Not XML",
                422: "Not one record could be read (every error listed), or an Idempotency-Key reused",
                429: "Rate limit of the key exceeded",
            },
            BatchProblem,
        ),
    },
    openapi_extra=request_body(
        {"application/xml": {"type": "string", "format": "binary"}},
        "An `actReportBatch` document (`schemas/xsd/v1/edi.xsd`): `actReport` records, any number",
    ),
)
async def post_batch(
    request: Request, office: LimitedOffice, session: SessionDep, key: IdempotencyKey = None
) -> Response:
    content_type = request.headers.get("content-type", "")
    base = content_type.split(";", 1)[0].strip().lower()
    if base not in ("application/xml", "text/xml") and not base.endswith("+xml"):
        raise UnsupportedMedia(f"send the batch as application/xml, not {content_type!r}")
    # The request's own transaction (the key's lookup) ends here, before the body is read: the batch
    # message, each chunk of records and the Idempotency-Key commit in transactions of their own,
    # and on SQLite one left open would hold the write lock they all wait for (a deadlock).
    await session.commit()
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        digest = hashlib.sha256()
        async for block in request.stream():
            digest.update(block)
            spool.write(block)
        spool.seek(0)
        sessions = request.app.state.sessions
        fingerprint = idempotency.request_hash("POST", request.url.path, digest.hexdigest())
        if key is not None:
            earlier = await idempotency.claim(sessions, office.id, key, fingerprint)
            if earlier is not None:
                return replayed(earlier)
        try:
            # The batch message is committed first: its records are committed by chunks after it.
            async with sessions() as own, own.begin():
                batch = await batches.start_batch(own, office, digest.hexdigest())
            result = await batches.run_batch(
                sessions,
                request.app.state.processor,
                office,
                batch.id,
                spool,  # type: ignore[arg-type]
                listed=batches.LISTED,
            )
            if result.file_errors and not (result.accepted_count or result.refused_count):
                # Not one record could be read: the file itself is refused, like a single message.
                errors = [ErrorItem(**e) for e in result.file_errors]
                body = problem_body(
                    422, "Batch refused", "the file could not be read", errors[0].code, errors
                )
                response = JSONResponse(
                    {**body, "batch_id": str(batch.id)}, status_code=422, media_type=PROBLEM_JSON
                )
            else:
                response = JSONResponse(result.as_dict(), status_code=200)
            if key is not None:
                async with sessions() as own, own.begin():
                    await idempotency.complete(own, office.id, key, stored_response(response))
        except BaseException:
            if key is not None:
                await idempotency.release(sessions, office.id, key)
            raise
    return response


@router.get(
    "/batches/{batch_id}",
    summary="The result of a batch this office sent",
    responses={
        200: {"description": "The batch result", "model": BatchResultOut},
        **problems(
            {
                401: "No office API key, or one unknown or revoked",
                404: "No batch of this office with this id",
                422: "Not a UUID",
            }
        ),
    },
)
async def get_batch(
    batch_id: uuid.UUID,
    office: CurrentOffice,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, description="List the records after this place of the file")] = 0,
    limit: Annotated[int, Query(ge=1, le=batches.LISTED)] = batches.LISTED,
) -> JSONResponse:
    batch = await MessageRepository(session).get(batch_id)
    if batch is None or batch.kind != batches.BATCH_KIND or batch.sender != office.code:
        raise NotFound(f"no batch {batch_id}", code="batch.not_found")
    result = await batches.stored_result(session, batch, after=after, limit=limit)
    return JSONResponse(result.as_dict())
