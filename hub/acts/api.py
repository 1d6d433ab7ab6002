"""Routes of a bailiff office's software: act reports (one, or a streamed batch file), mandate
acknowledgements, batch results. The office is the key's, never the URL's or the body's. Every POST
accepts an ``Idempotency-Key`` and is rate-limited per key."""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from contextlib import nullcontext
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from hub.acts import batch as batches
from hub.acts import service
from hub.deps import CurrentOffice, SessionDep, staff_with
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
from hub.staff.models import Role, StaffUser

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


class StoppedAt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record: int = Field(ge=1, description="The place of the file where reading stopped: not read")
    line: int | None = Field(None, ge=1, description="The line of the file, when known")


class BatchResultOut(BaseModel):
    """What became of every record of a batch file."""

    model_config = ConfigDict(extra="forbid")

    batch_id: uuid.UUID
    accepted_count: int = Field(ge=0)
    refused_count: int = Field(ge=0)
    accepted: list[BatchRecord]
    refused: list[RefusedRecord]
    file_status: Literal["complete", "incomplete", "running"] = Field(
        description=(
            "The file as a whole: `complete`, read to its end (each record accepted or refused on "
            "its own); `incomplete`, it stopped being readable at `stopped_at` (the records before "
            "it were each processed, nothing after it was read; the POST answers 422 "
            "`batch.incomplete`): fix the file and send it whole again, the records already "
            "accepted come back as duplicates; `running`, still being read"
        )
    )
    file_errors: list[ProblemItem] = Field(description="Why the file stopped being readable, if it did")
    stopped_at: StoppedAt | None = Field(
        None, description="Where the file stopped being readable (in the answer to the POST only)"
    )
    next_after: int | None = Field(
        description=(
            f"Records are listed {batches.LISTED:,} places of the file at a time: the rest from "
            "`GET /v1/batches/{id}?after=` this place; null when the listing reached the end"
        )
    )


class BatchProblem(Problem):
    """A file refused (not one record read: not an ``actReportBatch``, not well-formed...), or read
    only in part (``batch.incomplete``: with the batch result's fields, ``file_status``
    ``incomplete``)."""

    batch_id: uuid.UUID | None = Field(None, description="The refused file's batch, when one was started")
    file_status: Literal["incomplete"] | None = None
    stopped_at: StoppedAt | None = None
    accepted_count: int | None = Field(None, ge=0)
    refused_count: int | None = Field(None, ge=0)
    accepted: list[BatchRecord] | None = None
    refused: list[RefusedRecord] | None = None
    file_errors: list[ProblemItem] | None = None
    next_after: int | None = None


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


def batch_answer(batch_id: uuid.UUID, result: batches.BatchResult) -> JSONResponse:
    """200 with the batch result when the file was read to its end; 422 when not one record could
    be read (the file is refused, like a single message), or when it stopped being readable midway
    (``batch.incomplete``: never a 2xx, which a client could take for the whole file)."""
    errors = [ErrorItem(**e) for e in result.file_errors]
    if errors and not (result.accepted_count or result.refused_count):
        body = problem_body(422, "Batch refused", "the file could not be read", errors[0].code, errors)
        return JSONResponse({**body, "batch_id": str(batch_id)}, status_code=422, media_type=PROBLEM_JSON)
    if result.file_status == "incomplete":
        where = result.stopped_at or {}
        line = f" (line {where['line']})" if where.get("line") else ""
        detail = (
            f"the file stopped being readable at record {where.get('record')}{line}: the "
            f"{result.accepted_count + result.refused_count} records before it were processed "
            f"({result.accepted_count} accepted, {result.refused_count} refused), nothing after it was "
            "read; fix the file and send it whole again (accepted records come back as duplicates)"
        )
        body = problem_body(422, "Batch incomplete", detail, "batch.incomplete", errors)
        return JSONResponse({**result.as_dict(), **body}, status_code=422, media_type=PROBLEM_JSON)
    return JSONResponse(result.as_dict(), status_code=200)


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
                422: (
                    "Not one record could be read (every error listed: e.g. `xml.unexpected_root`, the "
                    "root is not `actReportBatch`), the file read only in part (`batch.incomplete`: "
                    "the batch result, `file_status` `incomplete`, `stopped_at`), or an Idempotency-Key "
                    "reused"
                ),
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
        lease = timedelta(seconds=request.app.state.settings.idempotency_lease_seconds)
        if key is not None:
            earlier = await idempotency.claim(sessions, office.id, key, fingerprint, lease=lease)
            if earlier is not None:
                return replayed(earlier)
        # A batch runs long: its key is kept while it runs, and lost within the lease if it dies.
        renewing = idempotency.renewing(sessions, office.id, key, lease=lease) if key else nullcontext()
        async with renewing:
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
                response = batch_answer(batch.id, result)
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
    """The result of an act report batch file the calling office sent: each record accepted or refused
    (with every error), and whether the file was read to its end (`file_status`). Poll it while
    `running`. Office API key only; another office's batch answers 404.
    """
    batch = await MessageRepository(session).get(batch_id)
    if batch is None or batch.kind != batches.BATCH_KIND or batch.sender != office.code:
        raise NotFound(f"no batch {batch_id}", code="batch.not_found")
    result = await batches.stored_result(session, batch, after=after, limit=limit)
    return JSONResponse(result.as_dict())


class FlagOut(BaseModel):
    code: str = Field(description="cost_above_recovery, budget_overrun, hold_breached, approval_refused...")
    message: str


class FlaggedActOut(BaseModel):
    id: uuid.UUID
    office_code: str
    mandate_ref: str
    case_ref: str
    act_code: str
    act_date: date
    outcome_code: str
    office_reference: str = Field(description="The office's act number")
    approval_id: str | None
    fees_cents: int = Field(description="Emoluments, disbursements and VAT claimed, integer cents")
    collected_cents: int
    currency: str
    received_at: datetime
    flags: list[FlagOut] = Field(description="Why the act was flagged, each with its reason")


class FlaggedPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": "5f0c7a52-3c1e-4a8e-9d7b-2b1f0e6c9a10",
                            "office_code": "CJ75001",
                            "mandate_ref": "M-20261204-FC56DCD94D",
                            "case_ref": "C-2026-000117",
                            "act_code": "SEIZURE_SALE",
                            "act_date": "2026-11-30",
                            "outcome_code": "no_seizable_goods",
                            "office_reference": "A26/0815",
                            "approval_id": "APR-2026-0042",
                            "fees_cents": 18940,
                            "collected_cents": 0,
                            "currency": "EUR",
                            "received_at": "2026-12-01T09:12:44Z",
                            "flags": [
                                {
                                    "code": "cost_above_recovery",
                                    "message": "the act cost 189.40 EUR and could be expected to bring in "
                                    "20.00 EUR on 2026-11-30: the creditor could expect to lose 169.40 EUR",
                                }
                            ],
                        }
                    ],
                    "next_after": "5f0c7a52-3c1e-4a8e-9d7b-2b1f0e6c9a10",
                }
            ]
        }
    )

    items: list[FlaggedActOut]
    next_after: uuid.UUID | None = Field(description="Pass as `after` for the next page; null on the last")


@router.get(
    "/act-reports/flagged",
    tags=["acts"],
    response_model=FlaggedPage,
    summary="Flagged act reports, with their reasons (staff)",
    description=(
        "Act reports accepted but flagged for a person (an act whose cost the creditor could expect to "
        "lose, a budget overrun, a broken hold, an approval refused or not counting), oldest id first, "
        "`limit` at a time after the id `after` (the answer's `next_after`). Filters: `office` (its "
        "code), `reason` (one flag code), and the act date between `since` and `until` (included). Staff "
        "and finance; an office key answers 401, an unknown office 404 `office.not_found`."
    ),
    responses=problems(
        {
            401: "No staff token, or one unknown or revoked; an office key (`auth.not_staff_token`)",
            404: "No office with this code (`office.not_found`)",
            422: "Invalid query, every error listed",
        }
    ),
)
async def list_flagged_act_reports(
    session: SessionDep,
    _user: Annotated[StaffUser, staff_with(Role.STAFF, Role.FINANCE)],
    office: Annotated[str | None, Query(max_length=16, description="An office code")] = None,
    reason: Annotated[
        str | None, Query(max_length=64, description="One flag code, e.g. hold_breached")
    ] = None,
    since: Annotated[date | None, Query(description="First act date, YYYY-MM-DD")] = None,
    until: Annotated[date | None, Query(description="Last act date, YYYY-MM-DD (included)")] = None,
    after: Annotated[uuid.UUID | None, Query(description="The last id already read")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Act reports per page")] = 100,
) -> FlaggedPage:
    views, cursor = await service.list_flagged(
        session, office_code=office, reason=reason, since=since, until=until, after=after, limit=limit
    )
    items = [
        FlaggedActOut(
            id=v.act.id,
            office_code=v.office_code,
            mandate_ref=v.mandate_ref,
            case_ref=v.case_ref,
            act_code=v.act.act_code,
            act_date=v.act.act_date,
            outcome_code=v.act.outcome_code,
            office_reference=v.act.office_reference,
            approval_id=v.act.approval_id,
            fees_cents=v.act.emoluments_cents + v.act.disbursements_cents + v.act.vat_cents,
            collected_cents=v.act.collected_cents,
            currency=v.act.currency,
            received_at=v.act.created_at,
            flags=[FlagOut(**flag) for flag in v.flags],
        )
        for v in views
    ]
    return FlaggedPage(items=items, next_after=cursor)
