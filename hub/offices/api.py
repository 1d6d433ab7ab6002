"""Routes of the offices module, for an office's own software."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from hub.deps import CurrentOffice

router = APIRouter(prefix="/v1", tags=["offices"])


class OfficeOut(BaseModel):
    code: str
    name: str
    departements: list[str]
    delivery_channel: str


@router.get("/me", summary="The office the API key belongs to", response_model=OfficeOut)
async def me(office: CurrentOffice) -> OfficeOut:
    return OfficeOut(
        code=office.code,
        name=office.name,
        departements=list(office.departements),
        delivery_channel=office.delivery_channel,
    )
