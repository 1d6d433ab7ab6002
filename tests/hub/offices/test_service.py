from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.crypto import SecretBox
from hub.kit.errors import Conflict, InvalidInput, NotFound, Unauthorized
from hub.offices import service
from hub.offices.models import DeliveryChannel, OfficeApiKey
from hub.offices.repository import OfficeRepository


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


BOX = SecretBox("a-test-secret-key-of-some-length-0123456789")


async def test_update_office_changes_what_is_given_and_records_who_and_what(session: AsyncSession) -> None:
    await service.add_office(session, code="CJ75010", name="Étude", departements=["75"])
    update = await service.update_office(
        session,
        BOX,
        "CJ75010",
        service.OfficeChanges(
            siret="752 001 909 00015", iban="fr76 3000 4008 2000 0101 2340 185", bic="bnpafrpp"
        ),
        actor="ops@agence.example",
    )
    office = update.office
    assert (office.siret, office.iban, office.bic) == (
        "75200190900015",
        "FR7630004008200001012340185",
        "BNPAFRPP",
    )
    assert office.name == "Étude" and office.departements == ["75"]  # not given: as it was
    assert update.changed == {
        "siret": [None, "75200190900015"],
        "iban": [None, "FR7630004008200001012340185"],
        "bic": [None, "BNPAFRPP"],
    }
    again = await service.update_office(
        session,
        BOX,
        "CJ75010",
        service.OfficeChanges(departements=["92", "75"], bic="BNPAFRPP"),
        actor="cli:ops",
    )
    assert again.changed == {"departements": [["75"], ["75", "92"]]}  # the BIC is the same: no change
    events = await OfficeRepository(session).events(office.id)
    assert [(e.actor, sorted(e.changes)) for e in events] == [
        ("ops@agence.example", ["bic", "iban", "siret"]),
        ("cli:ops", ["departements"]),
    ]
    nothing = await service.update_office(session, BOX, "CJ75010", service.OfficeChanges(), actor="cli:ops")
    assert nothing.changed == {} and len(await OfficeRepository(session).events(office.id)) == 2


async def test_update_office_lists_every_error_and_writes_nothing(session: AsyncSession) -> None:
    await service.add_office(session, code="CJ75011", name="Étude", departements=["75"])
    with pytest.raises(InvalidInput) as raised:
        await service.update_office(
            session,
            BOX,
            "CJ75011",
            service.OfficeChanges(
                name="Nouvelle étude",
                departements=["75", "99"],
                siret="75200190900016",
                iban="FR7630004008200001012340186",
                bic="BNPA",
                delivery_channel=DeliveryChannel.WEBHOOK,
            ),
            actor="cli:ops",
        )
    assert [(e.path, e.code) for e in raised.value.errors] == [
        ("departements[1]", "office.departement_invalid"),
        ("siret", "office.siret_invalid"),
        ("iban", "office.iban_invalid"),
        ("bic", "office.bic_invalid"),
        ("delivery_channel", "office.webhook_missing"),
    ]
    office = await OfficeRepository(session).get_by_code("CJ75011")
    assert office is not None and (office.name, office.siret, office.iban) == ("Étude", None, None)
    assert await OfficeRepository(session).events(office.id) == []


async def test_update_an_unknown_office_is_not_found(session: AsyncSession) -> None:
    with pytest.raises(NotFound) as raised:
        await service.update_office(session, BOX, "CJ00000", service.OfficeChanges(name="X"), actor="cli:ops")
    assert raised.value.code == "office.not_found"


async def test_a_first_webhook_url_brings_a_secret_and_the_channel_may_follow(session: AsyncSession) -> None:
    await service.add_office(session, code="CJ75012", name="Étude")
    update = await service.update_office(
        session,
        BOX,
        "CJ75012",
        service.OfficeChanges(
            webhook_url="https://etude.example/hub", delivery_channel=DeliveryChannel.WEBHOOK
        ),
        actor="cli:ops",
    )
    assert update.webhook_secret is not None
    assert BOX.open(update.office.webhook_secrets[0]) == update.webhook_secret
    moved = await service.update_office(
        session,
        BOX,
        "CJ75012",
        service.OfficeChanges(webhook_url="https://etude.example/v2"),
        actor="cli:ops",
    )
    assert moved.webhook_secret is None and len(moved.office.webhook_secrets) == 1  # the secret stays
