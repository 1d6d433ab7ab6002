from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.errors import Conflict, Forbidden, InvalidInput, Unauthorized
from hub.offices import service as offices
from hub.staff import service
from hub.staff.models import Role


async def test_a_staff_token_authenticates_its_account(session: AsyncSession) -> None:
    user, token = await service.add_staff(session, " Claire.Durand@Agence.example ", Role.FINANCE)
    assert user.email == "claire.durand@agence.example" and token.startswith("staff_")
    assert token not in (user.token_hash, user.token_id)
    assert (await service.authenticate(session, token)).id == user.id


async def test_office_keys_are_not_staff_tokens(session: AsyncSession) -> None:
    await offices.add_office(session, code="CJ75101", name="Étude")
    key = (await offices.create_key(session, "CJ75101")).secret
    with pytest.raises(Unauthorized) as raised:
        await service.authenticate(session, key)
    assert raised.value.code == "auth.not_staff_token"


async def test_disabled_accounts_duplicates_and_bad_emails_are_refused(session: AsyncSession) -> None:
    _, token = await service.add_staff(session, "a@agence.example", Role.STAFF)
    with pytest.raises(Conflict):
        await service.add_staff(session, "A@agence.example", Role.ADMIN)
    with pytest.raises(InvalidInput):
        await service.add_staff(session, "not-an-email", Role.STAFF)
    await service.disable_staff(session, "a@agence.example")
    with pytest.raises(Unauthorized):
        await service.authenticate(session, token)


@pytest.mark.parametrize(
    ("role", "allowed", "ok"),
    [
        (Role.STAFF, (Role.STAFF,), True),
        (Role.FINANCE, (Role.STAFF,), False),
        (Role.ADMIN, (Role.FINANCE,), True),
        (Role.STAFF, (Role.ADMIN,), False),
    ],
)
async def test_roles(session: AsyncSession, role: Role, allowed: tuple[Role, ...], ok: bool) -> None:
    user, _ = await service.add_staff(session, f"{role.value}@agence.example", role)
    if ok:
        service.require_role(user, *allowed)
    else:
        with pytest.raises(Forbidden):
            service.require_role(user, *allowed)
