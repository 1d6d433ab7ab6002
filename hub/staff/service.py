"""Staff accounts: a token per person, with a role. Tokens read ``staff_<token_id>_<secret>``, so
an office key (``hub_...``) can never pass for one, nor the reverse."""

from __future__ import annotations

import hmac
import re
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.clock import utcnow
from hub.kit.errors import Conflict, ErrorItem, Forbidden, InvalidInput, Unauthorized
from hub.offices.service import hash_key
from hub.staff.models import Role, StaffUser
from hub.staff.repository import StaffRepository

TOKEN_PREFIX = "staff"  # noqa: S105 - the token format, not a secret
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


async def add_staff(session: AsyncSession, email: str, role: Role) -> tuple[StaffUser, str]:
    """Creates the account and returns its token, shown once (a new token replaces nothing)."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput(
            "the staff account cannot be created",
            errors=[ErrorItem("email", "staff.email_invalid", f"{email!r} is not an email address")],
        )
    repo = StaffRepository(session)
    if await repo.by_email(email) is not None:
        raise Conflict(f"a staff account for {email} already exists", code="staff.exists")
    token_id = secrets.token_hex(8)
    token = f"{TOKEN_PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
    user = await repo.add(
        StaffUser(email=email, role=role.value, token_id=token_id, token_hash=hash_key(token))
    )
    return user, token


async def disable_staff(session: AsyncSession, email: str) -> None:
    user = await StaffRepository(session).by_email(email.strip().lower())
    if user is not None and user.disabled_at is None:
        user.disabled_at = utcnow()
        await session.flush()


async def authenticate(session: AsyncSession, presented: str) -> StaffUser:
    parts = presented.split("_")
    if len(parts) < 3 or parts[0] != TOKEN_PREFIX:
        raise Unauthorized("this route needs a staff token (`hub staff add`)", code="auth.not_staff_token")
    user = await StaffRepository(session).by_token_id(parts[1])
    if user is None or not hmac.compare_digest(user.token_hash, hash_key(presented)):
        raise Unauthorized("the staff token is not valid", code="auth.invalid_token")
    if user.disabled_at is not None:
        raise Unauthorized("this staff account is disabled", code="auth.disabled_account")
    return user


def require_role(user: StaffUser, *allowed: Role) -> None:
    if user.role != Role.ADMIN.value and user.role not in {r.value for r in allowed}:
        raise Forbidden(
            f"the {user.role} role cannot do this; it needs {' or '.join(r.value for r in allowed)}",
            code="auth.role_forbidden",
        )


async def active_email(session: AsyncSession, email: str) -> str:
    """The email of an active staff member, as stored, to name who did something from the command
    line (``--by``); an unknown or disabled account is refused."""
    user = await StaffRepository(session).by_email(email.strip().lower())
    if user is None or user.disabled_at is not None:
        raise InvalidInput(f"no active staff member {email}", code="staff.unknown")
    return user.email
