"""Routes of the inventory reconciliation: an office posts the mandates it holds open and reads its
last result; finance and staff read any office's last result.

``POST /v1/inventory`` is a plain authenticated route, not a wire message: the office asks a question
and the answer (the differences) is the response itself, where a v1 message on the inbound path gets
a receipt and its effects travel later. It has the other office POSTs' plumbing: the office from the
key only, the body limit (``HUB_MAX_BODY_BYTES``), the rate limit per key and ``Idempotency-Key``."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from hub.deps import CurrentOffice, SessionDep, staff_with
from hub.inventory import compare, service
from hub.kit import idempotency
from hub.kit.openapi import problems
from hub.messaging.receiving import IdempotencyKey, LimitedOffice
from hub.staff.models import Role, StaffUser

router = APIRouter(prefix="/v1/inventory", tags=["inventory"])
Reading = Annotated[StaffUser, staff_with(Role.FINANCE, Role.STAFF)]
MAX_LINES = 20_000
Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Cents = Annotated[StrictInt, Field(ge=0, le=10**13)]


class InventoryLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: Ref = Field(description="The hub's mandate ref")
    status: Literal["open", "closed"] = Field("open", description="The mandate as the office sees it")
    collected_cents: Cents | None = Field(None, description="Money the office collected under it, if stated")
    fees_cents: Cents | None = Field(
        None, description="Fees it claimed under it (incl. VAT and disbursements)"
    )


class InventoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mandates: list[InventoryLine] = Field(max_length=MAX_LINES)


class Difference(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: str
    kind: str = Field(json_schema_extra={"enum": list(compare.KINDS)})
    message: str
    here: dict[str, Any] | None = Field(description="The hub's view (status, or the amounts that differ)")
    there: dict[str, Any] | None = Field(description="The office's view")


class InventoryResultOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    office_code: str
    received_at: datetime
    listed: int = Field(ge=0, description="Lines in the office's list")
    open_here: int = Field(ge=0, description="Mandates of the office the hub holds open")
    agreed: int = Field(ge=0, description="Lines on which both views agree")
    differences: int = Field(ge=0)
    by_kind: dict[str, int] = Field(description="Differences per kind, every kind listed")
    items: list[Difference]


NO_KEY = "No office API key, or one unknown or revoked"
RESULT_DOC = (
    "Differences, each with `ref`, `kind`, `message` and the two views (`here`, `there`): "
    "`open_here_closed_there`, `open_here_unknown_there` (open here, not listed), "
    "`closed_here_open_there`, `unknown_here` (unknown, never sent, or another office's: the same "
    "answer), `amounts_differ` (collected or fees, the hub's from its ledger). Counts per kind under "
    "`by_kind`. The result is kept as the office's last (`GET /v1/inventory/last`)."
)


def _stored(response: JSONResponse) -> idempotency.StoredResponse:
    return idempotency.StoredResponse(
        response.status_code, {"content-type": response.headers["content-type"]}, bytes(response.body)
    )


@router.post(
    "",
    summary="Compare the office's open mandates with the hub's view",
    description=RESULT_DOC,
    responses={
        200: {"description": "The differences (none: the lists agree)", "model": InventoryResultOut},
        **problems(
            {
                401: NO_KEY,
                409: "The same Idempotency-Key still in progress",
                413: "Body too large",
                422: "Invalid list (every error listed), a mandate listed twice, or a key reused",
                429: "Rate limit of the key exceeded",
            }
        ),
    },
)
async def post_inventory(
    request: Request,
    body: InventoryIn,
    office: LimitedOffice,
    session: SessionDep,
    key: IdempotencyKey = None,
) -> Response:
    listed = [
        compare.Listed(line.ref, line.status, line.collected_cents, line.fees_cents) for line in body.mandates
    ]
    if key is not None:
        raw = await request.body()
        fingerprint = idempotency.request_hash("POST", request.url.path, hashlib.sha256(raw).hexdigest())
        earlier = await idempotency.claim_in(session, office.id, key, fingerprint)
        if earlier is not None:
            return Response(
                earlier.body,
                status_code=earlier.status,
                headers={**earlier.headers, "Idempotent-Replayed": "true"},
            )
    response = JSONResponse(await service.reconcile(session, office, listed))
    if key is not None:
        await idempotency.complete(session, office.id, key, _stored(response))
    return response


@router.get(
    "/last",
    summary="The office's last inventory result",
    response_model=None,
    responses={
        200: {"description": "The office's last result", "model": InventoryResultOut},
        **problems({401: NO_KEY, 404: "No inventory from this office yet"}),
    },
)
async def last_inventory(session: SessionDep, office: CurrentOffice) -> dict[str, Any]:
    """The result of the calling office's last inventory (`POST /v1/inventory`): each difference between
    its open mandates and the hub's view, counted by kind. Office API key only; 404 before its first
    inventory.
    """
    return await service.last_result(session, office)


@router.get(
    "/{office_code}",
    summary="An office's last inventory result (finance and staff)",
    response_model=None,
    responses={
        200: {"description": "The office's last result", "model": InventoryResultOut},
        **problems(
            {
                401: "No staff token, or one unknown or revoked; an office key",
                403: "A staff role that may not read it",
                404: "No such office, or no inventory from it yet",
                422: "Invalid request",
            }
        ),
    },
)
async def office_inventory(office_code: str, session: SessionDep, _user: Reading) -> dict[str, Any]:
    """The last inventory result of the office `office_code`, for the agency's follow-up of open mandates.
    Finance and staff.
    """
    return await service.last_result_of(session, office_code)
