"""Typed FastAPI dependencies: the request's session (its one transaction) and the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, TypeVar

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.errors import Unauthorized
from hub.offices import service as offices
from hub.offices.models import Office
from hub.settings import Settings
from hub.staff import service as staff
from hub.staff.models import Role, StaffUser


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    # scope="function" below: the commit happens before the response is sent, so a 2xx is only
    # ever returned for work that is durably stored.
    async with request.app.state.sessions() as session, session.begin():
        yield session


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]

_bearer = HTTPBearer(auto_error=False, description="An office API key from `hub keys create CODE`")


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _key_cache(request: Request) -> offices.KeyCache:
    cache: offices.KeyCache = request.app.state.key_cache
    return cache


async def key_cache(request: Request) -> offices.KeyCache:
    return _key_cache(request)


# For the routes that revoke keys. Authentication reads the cache itself (``_key_cache``): each
# dependency FastAPI solves costs every request more than the lookup.
KeyCacheDep = Annotated[offices.KeyCache, Depends(key_cache)]


async def get_current_office(request: Request, session: SessionDep, credentials: Credentials) -> Office:
    return await office_of(request, session, credentials)


async def office_of(
    request: Request, session: AsyncSession, credentials: HTTPAuthorizationCredentials | None
) -> Office:
    """The office of the request's API key, or 401 (no key, a staff token, a key unknown or
    revoked); the body of ``CurrentOffice``, for a dependency that does more with the office."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized(
            "send the office API key as `Authorization: Bearer <key>`",
            code="auth.missing_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if credentials.credentials.startswith(f"{staff.TOKEN_PREFIX}_"):
        raise Unauthorized(
            "this route needs an office API key, not a staff token", code="auth.not_office_key"
        )
    return _logged(await offices.authenticate(session, credentials.credentials, cache=_key_cache(request)))


Caller = TypeVar("Caller", Office, StaffUser)


def _logged(caller: Caller) -> Caller:
    """The caller, named on every log line of the request from here on: an office by its code, a
    staff account by its id."""
    if isinstance(caller, Office):
        structlog.contextvars.bind_contextvars(office=caller.code)
    else:
        structlog.contextvars.bind_contextvars(staff=str(caller.id))
    return caller


CurrentOffice = Annotated[Office, Depends(get_current_office)]

_staff_bearer = HTTPBearer(
    auto_error=False, description="A staff token from `hub staff add EMAIL --role ROLE`"
)


async def get_current_staff(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_staff_bearer)],
) -> StaffUser:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized(
            "send a staff token as `Authorization: Bearer <token>`",
            code="auth.missing_token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return _logged(await staff.authenticate(session, credentials.credentials))


CurrentStaff = Annotated[StaffUser, Depends(get_current_staff)]


def staff_with(*roles: Role) -> Any:
    """A dependency for routes that need one of ``roles`` (admin passes everywhere)."""

    async def check(user: CurrentStaff) -> StaffUser:
        staff.require_role(user, *roles)
        return user

    return Depends(check)


async def get_caller(request: Request, session: SessionDep, credentials: Credentials) -> Office | StaffUser:
    """For routes shared by both sides: the credential decides what the caller sees."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized(
            "send an office API key or a staff token as `Authorization: Bearer <credential>`",
            code="auth.missing_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if credentials.credentials.startswith(f"{staff.TOKEN_PREFIX}_"):
        return _logged(await staff.authenticate(session, credentials.credentials))
    return _logged(await offices.authenticate(session, credentials.credentials, cache=_key_cache(request)))


CurrentCaller = Annotated[Office | StaffUser, Depends(get_caller)]
