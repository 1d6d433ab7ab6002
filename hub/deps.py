"""Typed FastAPI dependencies: the request's session (its one transaction) and the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.errors import Unauthorized
from hub.offices import service as offices
from hub.offices.models import Office
from hub.settings import Settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    # scope="function" below: the commit happens before the response is sent, so a 2xx is only
    # ever returned for work that is durably stored.
    async with request.app.state.sessions() as session, session.begin():
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]

_bearer = HTTPBearer(auto_error=False, description="An office API key from `hub keys create CODE`")


async def get_current_office(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Office:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized(
            "send the office API key as `Authorization: Bearer <key>`",
            code="auth.missing_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return await offices.authenticate(session, credentials.credentials)


CurrentOffice = Annotated[Office, Depends(get_current_office)]
