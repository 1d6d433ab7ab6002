"""Routes of the offices module, for an office's own software."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict

from hub.deps import CurrentOffice, KeyCacheDep, SessionDep, staff_with
from hub.kit.openapi import problems
from hub.offices import service
from hub.offices.models import Office
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
