"""Signing in to the console: argon2id passwords, one-time sign-in links and server-side sessions.

The browser holds only a random secret in an HttpOnly cookie; the database keeps its SHA-256, the
session's CSRF token and when it was last used. A failed sign-in says nothing of which of the email
and the password was wrong, and costs the same time either way (a hash is always verified)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.console.models import ConsoleSession, SignInLink
from hub.console.repository import ConsoleRepository
from hub.kit.clock import utcnow
from hub.kit.errors import ErrorItem, InvalidInput, NotFound, Unauthorized
from hub.staff.models import StaffUser
from hub.staff.repository import StaffRepository

MIN_PASSWORD = 12
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when the email is unknown, so an unknown email takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            "the password is too short",
            errors=[ErrorItem("password", "staff.password_short", f"use at least {MIN_PASSWORD} characters")],
        )
    return _hasher.hash(password)


def password_matches(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def set_password(session: AsyncSession, email: str, password: str) -> StaffUser:
    user = await StaffRepository(session).by_email(email.strip().lower())
    if user is None:
        raise NotFound(f"no staff account {email}", code="staff.unknown")
    user.password_hash = hash_password(password)
    await session.flush()
    return user


@dataclass(frozen=True)
class Opened:
    """A new session: ``token`` goes in the cookie, never stored."""

    token: str
    row: ConsoleSession


async def _open(session: AsyncSession, user: StaffUser) -> Opened:
    token = secrets.token_urlsafe(32)
    row = ConsoleSession(
        token_hash=_sha256(token),
        staff_user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        last_seen_at=utcnow(),
    )
    await ConsoleRepository(session).add(row)
    return Opened(token, row)


SIGN_IN_REFUSED = "the email or the password is not right"


async def sign_in(session: AsyncSession, email: str, password: str) -> Opened:
    """A session for the active account with this email and password, or 401 saying only that the
    pair is wrong. A password is rehashed when the library's parameters have grown."""
    user = await StaffRepository(session).by_email(email.strip().lower())
    stored = user.password_hash if user is not None else None
    if not password_matches(stored, password) or user is None or user.disabled_at is not None:
        raise Unauthorized(SIGN_IN_REFUSED, code="console.sign_in_refused")
    assert user.password_hash is not None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return await _open(session, user)


async def create_sign_in_link(session: AsyncSession, user: StaffUser, *, valid: timedelta) -> str:
    """A one-time link's secret (the path ``/console/sign-in/link/<secret>``), shown once."""
    token = secrets.token_urlsafe(32)
    await ConsoleRepository(session).add(
        SignInLink(token_hash=_sha256(token), staff_user_id=user.id, expires_at=utcnow() + valid)
    )
    return token


LINK_REFUSED = "this sign-in link is unknown, already used or expired: ask for a new one"


async def use_sign_in_link(session: AsyncSession, token: str) -> Opened:
    repo = ConsoleRepository(session)
    link = await repo.link_by_hash(_sha256(token))
    now = utcnow()
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise Unauthorized(LINK_REFUSED, code="console.link_refused")
    user = await repo.staff_by_id(link.staff_user_id)
    if user is None or user.disabled_at is not None:
        raise Unauthorized(LINK_REFUSED, code="console.link_refused")
    link.used_at = now
    await session.flush()
    return await _open(session, user)


async def current(
    session: AsyncSession, token: str | None, *, idle: timedelta
) -> tuple[ConsoleSession, StaffUser] | None:
    """The session the cookie names, still fresh, of an active account; its use is recorded. An idle
    one is deleted."""
    if not token:
        return None
    repo = ConsoleRepository(session)
    found = await repo.session_by_hash(_sha256(token))
    if found is None:
        return None
    row, user = found
    now = utcnow()
    if row.last_seen_at + idle <= now or user.disabled_at is not None:
        await repo.delete_session(row.id)
        return None
    row.last_seen_at = now
    return row, user


async def sign_out(session: AsyncSession, row: ConsoleSession) -> None:
    await ConsoleRepository(session).delete_session(row.id)


def csrf_ok(row: ConsoleSession, presented: str | None) -> bool:
    return presented is not None and secrets.compare_digest(row.csrf_token, presented)


async def take_flash(row: ConsoleSession) -> str | None:
    flash, row.flash = row.flash, None
    return flash
