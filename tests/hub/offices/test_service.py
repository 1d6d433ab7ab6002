from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.errors import Conflict, InvalidInput, NotFound, Unauthorized
from hub.offices import service
from hub.offices.models import DeliveryChannel, OfficeApiKey


async def test_add_office_normalises_the_territory(session: AsyncSession) -> None:
    office = await service.add_office(
        session, code="CJ92001", name=" Étude Hauts-de-Seine ", departements=["93", " 92", "92", "2a"]
    )
    assert office.name == "Étude Hauts-de-Seine"
    assert office.departements == ["2A", "92", "93"]
    assert office.delivery_channel == DeliveryChannel.PULL.value
    assert [o.code for o in await service.list_offices(session)] == ["CJ92001"]


async def test_add_office_lists_every_error_at_once(session: AsyncSession) -> None:
    with pytest.raises(InvalidInput) as raised:
        await service.add_office(
            session, code="cj-1", name=" ", departements=["75", "99", "00"], siret="12345678901234"
        )
    assert [(e.path, e.code) for e in raised.value.errors] == [
        ("code", "office.code_invalid"),
        ("name", "office.name_missing"),
        ("departements[1]", "office.departement_invalid"),
        ("departements[2]", "office.departement_invalid"),
        ("siret", "office.siret_invalid"),
    ]
    assert await service.list_offices(session) == []


async def test_a_valid_siret_is_kept(session: AsyncSession) -> None:
    office = await service.add_office(session, code="CJ75002", name="Étude", siret="732 829 320 00074")
    assert office.siret == "73282932000074"


async def test_office_code_is_unique(session: AsyncSession) -> None:
    await service.add_office(session, code="CJ75003", name="A")
    with pytest.raises(Conflict):
        await service.add_office(session, code="CJ75003", name="B")


async def test_only_a_hash_of_the_key_is_stored_and_it_authenticates(session: AsyncSession) -> None:
    office = await service.add_office(session, code="CJ75004", name="Étude")
    issued = await service.create_key(session, "CJ75004")
    stored = await session.scalar(select(OfficeApiKey).where(OfficeApiKey.key_id == issued.key_id))
    assert stored is not None
    assert issued.secret not in (stored.key_hash, stored.key_id)
    assert stored.key_hash == service.hash_key(issued.secret)
    assert (await service.authenticate(session, issued.secret)).id == office.id


@pytest.mark.parametrize("presented", ["", "nonsense", "hub_unknown_secret", "Bearer hub_x_y"])
async def test_unknown_or_malformed_keys_are_refused(session: AsyncSession, presented: str) -> None:
    with pytest.raises(Unauthorized):
        await service.authenticate(session, presented)


async def test_a_revoked_key_is_refused_and_revoking_twice_is_harmless(session: AsyncSession) -> None:
    await service.add_office(session, code="CJ75005", name="Étude")
    issued = await service.create_key(session, "CJ75005")
    first = await service.revoke_key(session, issued.key_id)
    revoked_at = first.revoked_at
    assert (await service.revoke_key(session, issued.key_id)).revoked_at == revoked_at
    with pytest.raises(Unauthorized) as raised:
        await service.authenticate(session, issued.secret)
    assert raised.value.code == "auth.revoked_key"


async def test_key_for_unknown_office_is_not_found(session: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await service.create_key(session, "NOPE")
