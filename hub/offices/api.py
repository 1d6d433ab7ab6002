"""Routes of the offices module, for an office's own software."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from hub.deps import CurrentOffice, KeyCacheDep, SessionDep, SettingsDep, staff_with
from hub.kit.openapi import problems
from hub.offices import service
from hub.offices.models import DeliveryChannel, Office
from hub.staff.models import Role, StaffUser

router = APIRouter(prefix="/v1", tags=["offices"])


class OfficeOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "CJ75001",
                    "name": "Office Paris 1",
                    "departements": ["75"],
                    "delivery_channel": "pull",
                }
            ]
        }
    )

    code: str
    name: str
    departements: list[str]
    delivery_channel: str


@router.get("/me", summary="The office the API key belongs to", response_model=OfficeOut)
async def me(office: CurrentOffice) -> OfficeOut:
    """Who the hub takes the caller for: the office code, name, départements and delivery channel of the
    office whose `Authorization: Bearer` API key was sent. An office's IT team calls it to check a key
    before sending messages; 401 for a missing, unknown or revoked key.
    """
    return OfficeOut(
        code=office.code,
        name=office.name,
        departements=list(office.departements),
        delivery_channel=office.delivery_channel,
    )


class RevokedKey(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"key_id": "3f9c2a7b1d4e5f60", "office_code": "CJ75001", "revoked_at": "2026-12-04T14:05:00Z"}
            ]
        }
    )

    key_id: str
    office_code: str
    revoked_at: datetime


@router.post(
    "/keys/{key_id}/revoke",
    response_model=RevokedKey,
    summary="Revoke an office API key (admin)",
    description=(
        "The key is refused from now on by this process, and by every other hub process within "
        "`HUB_KEY_CACHE_SECONDS` (they keep a key's check that long). Revoking a revoked key "
        "answers the same, with its first revocation time."
    ),
    responses=problems(
        {
            401: "No staff token, or one unknown or revoked; an office key",
            403: "Not an admin",
            404: "No API key with this id",
        }
    ),
)
async def revoke_key(
    key_id: Annotated[
        str,
        Path(
            description="The key's id: the second part of `hub_<key_id>_<secret>`",
            examples=["3f9c2a7b1d4e5f60"],
        ),
    ],
    session: SessionDep,
    cache: KeyCacheDep,
    user: Annotated[StaffUser, staff_with(Role.ADMIN)],
) -> RevokedKey:
    key = await service.revoke_key(session, key_id)
    office = await session.get(Office, key.office_id)
    assert key.revoked_at is not None and office is not None
    revoked = RevokedKey(key_id=key.key_id, office_code=office.code, revoked_at=key.revoked_at)
    await session.commit()  # evicted once stored: a request checking the key meanwhile cannot keep it
    cache.evict(key_id)
    return revoked


class OfficeChangesIn(BaseModel):
    """The details to change; a field left out stays as it is."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "siret": "75200190900015",
                    "iban": "FR76 3000 4008 2000 0101 2340 185",
                    "bic": "BNPAFRPP",
                    "webhook_url": "https://martin-cj.example/hub/webhooks",
                }
            ]
        },
    )

    name: str | None = Field(default=None, max_length=200, description="The office's name")
    departements: list[str] | None = Field(
        default=None,
        max_length=120,
        description='The départements covered (replaces them), e.g. ["75", "92"]',
    )
    delivery_channel: DeliveryChannel | None = Field(
        default=None, description="How messages reach the office"
    )
    siret: str | None = Field(default=None, max_length=20, description="The office's SIRET, 14 digits (Luhn)")
    iban: str | None = Field(
        default=None,
        max_length=50,
        description="The IBAN the agency pays the office's fees to; spaces allowed",
    )
    bic: str | None = Field(default=None, max_length=20, description="The BIC of the office's bank, 8 or 11")
    webhook_url: str | None = Field(
        default=None, max_length=500, description="The https:// endpoint the hub POSTs messages to"
    )


class OfficeDetails(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "CJ75001",
                    "name": "SCP Martin & Associés, Commissaires de justice",
                    "departements": ["75", "92", "93", "94"],
                    "delivery_channel": "pull",
                    "siret": "75200190900015",
                    "iban": "FR7630004008200001012340185",
                    "bic": "BNPAFRPP",
                    "webhook_url": "https://martin-cj.example/hub/webhooks",
                    "active": True,
                    "changed": {
                        "siret": [None, "75200190900015"],
                        "webhook_url": [None, "https://martin-cj.example/hub/webhooks"],
                    },
                    "webhook_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw3BNuLrFIZVM=",
                }
            ]
        }
    )

    code: str
    name: str
    departements: list[str]
    delivery_channel: str
    siret: str | None
    iban: str | None
    bic: str | None
    webhook_url: str | None
    active: bool
    changed: dict[str, list[Any]] = Field(
        description="Each field this request changed, with its value before and after (as recorded)"
    )
    webhook_secret: str | None = Field(
        description="A new webhook signing secret, shown only now (the office's first webhook URL)"
    )


@router.patch(
    "/offices/{code}",
    response_model=OfficeDetails,
    summary="Change an office's details (admin)",
    description=(
        "Changes the office's name, départements, delivery channel, SIRET, bank details (IBAN, BIC) or "
        "webhook URL; a field left out stays as it is. SIRET, IBAN and BIC are checked (check digits, "
        "format) and stored without spaces. Every error is listed and nothing is written when any field "
        "is wrong. Who changed what, and when, is recorded with each field's value before and after. "
        "The office's keys see the new details at once in this process, and within "
        "`HUB_KEY_CACHE_SECONDS` in the others."
    ),
    responses=problems(
        {
            401: "No staff token, or one unknown or revoked; an office key",
            403: "Not an admin",
            404: "No office with this code",
            422: "Invalid details, every error listed with its field and code",
        }
    ),
)
async def update_office(
    code: Annotated[str, Path(description="The office's code", examples=["CJ75001"], max_length=16)],
    body: OfficeChangesIn,
    session: SessionDep,
    settings: SettingsDep,
    cache: KeyCacheDep,
    user: Annotated[StaffUser, staff_with(Role.ADMIN)],
) -> OfficeDetails:
    changes = service.OfficeChanges(**body.model_dump())
    update = await service.update_office(session, settings.secret_box(), code, changes, actor=user.email)
    office = update.office
    details = OfficeDetails(
        code=office.code,
        name=office.name,
        departements=list(office.departements),
        delivery_channel=office.delivery_channel,
        siret=office.siret,
        iban=office.iban,
        bic=office.bic,
        webhook_url=office.webhook_url,
        active=office.active,
        changed=update.changed,
        webhook_secret=update.webhook_secret,
    )
    await session.commit()  # forgotten once stored: a request reading the office meanwhile cannot keep it
    cache.forget_office(office.id)
    return details


class OfficeEventOut(BaseModel):
    id: int = Field(description="The event's id: pass the last one read as `after` for the next page")
    at: datetime
    actor: str = Field(description="The staff member who made the change")
    changes: dict[str, list[Any]] = Field(description="Each field changed, with its value before and after")


class OfficeEventPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": 7,
                            "at": "2026-12-04T17:45:00Z",
                            "actor": "admin@agence.example",
                            "changes": {"iban": [None, "FR7630004008200001012340185"]},
                        }
                    ],
                    "next_after": 7,
                }
            ]
        }
    )

    items: list[OfficeEventOut]
    next_after: int | None = Field(description="Pass as `after` to read the next page; null on the last")


@router.get(
    "/offices/{code}/events",
    response_model=OfficeEventPage,
    summary="Who changed an office's details, and when (staff)",
    description=(
        "Every change staff made to the office (`PATCH /v1/offices/{code}`, `hub offices update`), "
        "oldest first, `limit` at a time after the id `after` (the answer's `next_after`): who, when, "
        "and each field's value before and after. Staff, finance and admin; 404 `office.not_found`."
    ),
    responses=problems(
        {
            401: "No staff token, or one unknown or revoked; an office key",
            404: "No office with this code",
            422: "Invalid query, every error listed",
        }
    ),
)
async def list_office_events(
    code: Annotated[str, Path(description="The office's code", examples=["CJ75001"], max_length=16)],
    session: SessionDep,
    _user: Annotated[StaffUser, staff_with(Role.STAFF, Role.FINANCE)],
    after: Annotated[int | None, Query(ge=0, description="The last event id already read")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Events per page")] = 100,
) -> OfficeEventPage:
    events = await service.office_events(session, code, after=after, limit=limit)
    items = [OfficeEventOut(id=e.id, at=e.at, actor=e.actor, changes=e.changes) for e in events]
    return OfficeEventPage(items=items, next_after=items[-1].id if len(items) == limit else None)
