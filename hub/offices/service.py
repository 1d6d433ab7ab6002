"""Use cases of the offices module: register offices, issue and revoke their API keys.

An API key reads ``hub_<key_id>_<secret>``. Only the SHA-256 of the whole key is stored: the key
is 256 bits of randomness, so a plain hash is enough (no slow KDF needed) and lookups stay O(1)
through the public ``key_id``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import structlog
from cryptography.fernet import InvalidToken
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from stdnum import bic as bic_number
from stdnum import iban as iban_number
from stdnum.fr import siret as siret_number

from adapters.webhooks import new_secret
from hub.kit.clock import utcnow
from hub.kit.crypto import SecretBox
from hub.kit.errors import Conflict, ErrorItem, InvalidInput, NotFound, Unauthorized
from hub.offices.models import DeliveryChannel, Office, OfficeApiKey, OfficeEvent
from hub.offices.repository import OfficeRepository

log = structlog.get_logger()

KEY_PREFIX = "hub"
OFFICE_CODE = re.compile(r"^[A-Z0-9]{2,16}$")
# Metropolitan départements 01-95 (Corsica 2A/2B) and overseas 971-976.
DEPARTEMENT = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])$")


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    office_code: str
    secret: str  # shown once, never stored


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _field_errors(
    *,
    code: str | None = None,
    name: str | None = None,
    departements: list[str] | None = None,
    siret: str | None = None,
    iban: str | None = None,
    bic: str | None = None,
    webhook_url: str | None = None,
) -> list[ErrorItem]:
    """Every error in the office's details given (``None``: not given, not checked)."""
    errors: list[ErrorItem] = []
    if code is not None and not OFFICE_CODE.match(code):
        errors.append(
            ErrorItem("code", "office.code_invalid", "use 2-16 capital letters or digits, e.g. CJ75001")
        )
    if name is not None and not name.strip():
        errors.append(ErrorItem("name", "office.name_missing", "give the office's name"))
    for index, dep in enumerate(departements or []):
        if not DEPARTEMENT.match(dep):
            errors.append(
                ErrorItem(
                    f"departements[{index}]",
                    "office.departement_invalid",
                    f"{dep!r} is not a French département",
                )
            )
    if siret is not None and not siret_number.is_valid(siret):
        errors.append(
            ErrorItem("siret", "office.siret_invalid", f"{siret!r} is not a valid SIRET (14 digits, Luhn)")
        )
    if iban is not None and not iban_number.is_valid(iban):
        errors.append(
            ErrorItem(
                "iban",
                "office.iban_invalid",
                f"{iban!r} is not a valid IBAN (country, check digits and account number, e.g. FR76...)",
            )
        )
    if bic is not None and not bic_number.is_valid(bic):
        errors.append(
            ErrorItem("bic", "office.bic_invalid", f"{bic!r} is not a valid BIC (8 or 11 letters and digits)")
        )
    if webhook_url is not None and not webhook_url.startswith(("https://", "http://")):
        errors.append(
            ErrorItem("webhook_url", "webhook.url_invalid", "give an https:// URL the hub can POST to")
        )
    return errors


def _compact(value: str | None, compact: Callable[[str], str]) -> str | None:
    """A SIRET, IBAN or BIC as stored: no spaces, capitals (what is not one is kept as given, to
    be named in the error)."""
    if value is None:
        return None
    try:
        return compact(value)
    except Exception:  # stdnum refuses some inputs outright: the check then says why
        return value.strip()


async def add_office(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    departements: list[str] | None = None,
    delivery_channel: DeliveryChannel = DeliveryChannel.PULL,
    siret: str | None = None,
    webhook_url: str | None = None,
    iban: str | None = None,
    bic: str | None = None,
) -> Office:
    cleaned = [d.strip().upper() for d in departements or []]
    siret = _compact(siret, siret_number.compact) if siret else None
    iban = _compact(iban, iban_number.compact) if iban else None
    bic = _compact(bic, bic_number.compact) if bic else None
    errors = _field_errors(code=code, name=name, departements=cleaned, siret=siret, iban=iban, bic=bic)
    if errors:
        raise InvalidInput("the office cannot be registered as given", errors=errors)
    repo = OfficeRepository(session)
    if await repo.get_by_code(code) is not None:
        raise Conflict(
            f"an office with code {code} already exists; change it with hub offices update {code}",
            code="office.exists",
        )
    office = Office(
        code=code,
        name=name.strip(),
        departements=sorted(set(cleaned)),
        delivery_channel=delivery_channel.value,
        siret=siret,
        iban=iban,
        bic=bic,
        webhook_url=webhook_url,
    )
    return await repo.add(office)


@dataclass(frozen=True)
class OfficeChanges:
    """What staff asked to change on an office; ``None`` leaves a detail as it is."""

    name: str | None = None
    departements: list[str] | None = None
    delivery_channel: DeliveryChannel | None = None
    siret: str | None = None
    iban: str | None = None
    bic: str | None = None
    webhook_url: str | None = None


@dataclass(frozen=True)
class OfficeUpdate:
    office: Office
    # Each field changed, with its value before and after (what ``office_events`` records).
    changed: dict[str, list[Any]]
    # A new webhook signing secret, shown once: made when the office had none and got a webhook URL.
    webhook_secret: str | None = None


async def update_office(
    session: AsyncSession, box: SecretBox, code: str, changes: OfficeChanges, *, actor: str
) -> OfficeUpdate:
    """Changes an office's details (its name, territory, delivery channel, SIRET, bank details,
    webhook URL) and records who changed what, and when, in ``office_events``. Every error is
    listed and nothing is written when any detail is wrong. A channel ``webhook`` needs a webhook
    URL (given now or already set); an office getting its first webhook URL gets a signing secret,
    returned once. Its API keys, and its webhook secrets otherwise, are left as they are."""
    office = await _office(session, code)
    departements = None if changes.departements is None else [d.strip().upper() for d in changes.departements]
    siret = _compact(changes.siret, siret_number.compact)
    iban = _compact(changes.iban, iban_number.compact)
    bic = _compact(changes.bic, bic_number.compact)
    webhook_url = changes.webhook_url.strip() if changes.webhook_url is not None else None
    errors = _field_errors(
        name=changes.name,
        departements=departements,
        siret=siret,
        iban=iban,
        bic=bic,
        webhook_url=webhook_url,
    )
    if (
        changes.delivery_channel is DeliveryChannel.WEBHOOK
        and webhook_url is None
        and office.webhook_url is None
    ):
        errors.append(
            ErrorItem(
                "delivery_channel",
                "office.webhook_missing",
                f"office {code} has no webhook URL; give one with the channel webhook",
            )
        )
    if errors:
        raise InvalidInput(f"office {code} cannot be changed as given", errors=errors)

    wanted: dict[str, Any] = {
        "name": changes.name.strip() if changes.name is not None else None,
        "departements": None if departements is None else sorted(set(departements)),
        "delivery_channel": changes.delivery_channel.value if changes.delivery_channel else None,
        "siret": siret,
        "iban": iban,
        "bic": bic,
        "webhook_url": webhook_url,
    }
    changed: dict[str, list[Any]] = {}
    for field, value in wanted.items():
        before = getattr(office, field)
        if value is not None and value != before:
            changed[field] = [list(before) if isinstance(before, list) else before, value]
            setattr(office, field, value)
    secret = None
    if "webhook_url" in changed:
        office.webhook_disabled_at = None  # a new endpoint: pushes may start again
        if not office.webhook_secrets:
            secret = new_secret()
            office.webhook_secrets = [box.seal(secret)]
    if changed:
        await OfficeRepository(session).log(OfficeEvent(office_id=office.id, actor=actor, changes=changed))
        log.info("office_updated", office=office.code, actor=actor, fields=sorted(changed))
    return OfficeUpdate(office=office, changed=changed, webhook_secret=secret)


async def list_offices(session: AsyncSession) -> list[Office]:
    return await OfficeRepository(session).list_all()


async def create_key(session: AsyncSession, office_code: str) -> IssuedKey:
    repo = OfficeRepository(session)
    office = await repo.get_by_code(office_code)
    if office is None:
        raise NotFound(f"no office with code {office_code}", code="office.not_found")
    key_id = secrets.token_hex(8)
    secret = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    await repo.add_key(OfficeApiKey(key_id=key_id, office_id=office.id, key_hash=hash_key(secret)))
    return IssuedKey(key_id=key_id, office_code=office.code, secret=secret)


async def revoke_key(session: AsyncSession, key_id: str) -> OfficeApiKey:
    key = await OfficeRepository(session).get_key(key_id)
    if key is None:
        raise NotFound(f"no API key with id {key_id}", code="key.not_found")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.flush()
    return key


class KeyCache:
    """The offices of API keys authenticated in the last ``seconds``, so a request with a known key
    sends no query for it (``HUB_KEY_CACHE_SECONDS``; 0 keeps nothing). A key revoked through this
    process (``POST /v1/keys/{key_id}/revoke``) is evicted at once; one revoked elsewhere (``hub keys
    revoke``, another worker) is refused here at the latest ``seconds`` later, as is the key of an
    office made inactive. Keyed by the key's hash: the key itself is never kept."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        # hash -> (until, key id, the office as it was read: a detached copy made from its column
        # values, in no session, so none can expire or change it; ``merge`` only reads it)
        self._entries: dict[str, tuple[float, str, Office]] = {}

    def get(self, key_hash: str) -> Office | None:
        """A detached office (its row as it was read), for ``session.merge(office, load=False)``."""
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        until, _, office = entry
        if self.clock() >= until:
            del self._entries[key_hash]
            return None
        return office

    def put(self, key_hash: str, key_id: str, office: Office) -> None:
        if self.seconds > 0:
            copy = Office(**{c.key: getattr(office, c.key) for c in Office.__table__.columns})
            make_transient_to_detached(copy)
            self._entries[key_hash] = (self.clock() + self.seconds, key_id, copy)

    def evict(self, key_id: str) -> None:
        for key_hash in [h for h, (_, kid, _) in self._entries.items() if kid == key_id]:
            del self._entries[key_hash]

    def forget_office(self, office_id: uuid.UUID) -> None:
        """Drops every key of an office whose details changed: its next request reads them anew."""
        for key_hash in [h for h, (_, _, o) in self._entries.items() if o.id == office_id]:
            del self._entries[key_hash]


async def authenticate(session: AsyncSession, presented: str, *, cache: KeyCache | None = None) -> Office:
    """The office behind an API key; 401 for anything unknown, malformed or revoked. ``cache``: the
    offices of keys authenticated lately (an office found there is the session's own copy, made
    without a query)."""
    parts = presented.split("_")
    if len(parts) < 3 or parts[0] != KEY_PREFIX:
        raise Unauthorized("the API key is malformed", code="auth.invalid_key")
    presented_hash = hash_key(presented)
    if cache is not None and (known := cache.get(presented_hash)) is not None:
        return await session.merge(known, load=False)
    repo = OfficeRepository(session)
    key = await repo.get_key(parts[1])
    if key is None or not hmac.compare_digest(key.key_hash, presented_hash):
        raise Unauthorized("the API key is not valid", code="auth.invalid_key")
    if key.revoked_at is not None:
        raise Unauthorized("the API key has been revoked", code="auth.revoked_key")
    office = await repo.get(key.office_id)
    if office is None or not office.active:
        raise Unauthorized("the office of this API key is not active", code="auth.inactive_office")
    if cache is not None:
        cache.put(presented_hash, key.key_id, office)
    return office


async def _office(session: AsyncSession, code: str) -> Office:
    office = await OfficeRepository(session).get_by_code(code)
    if office is None:
        raise NotFound(f"no office with code {code}", code="office.not_found")
    return office


async def set_webhook(session: AsyncSession, box: SecretBox, code: str, url: str) -> str:
    """Points the office's pushes at ``url`` with a fresh signing secret, returned once."""
    if not url.startswith(("https://", "http://")):
        raise InvalidInput(
            "the webhook URL must be http(s)",
            errors=[ErrorItem("url", "webhook.url_invalid", "give an https:// URL the hub can POST to")],
        )
    office = await _office(session, code)
    secret = new_secret()
    office.webhook_url = url
    office.webhook_secrets = [box.seal(secret)]
    office.webhook_disabled_at = None
    office.delivery_channel = DeliveryChannel.WEBHOOK.value
    await session.flush()
    return secret


async def rotate_webhook_secret(session: AsyncSession, box: SecretBox, code: str) -> str:
    """Adds a new secret; pushes carry both signatures until ``finish_webhook_rotation``."""
    office = await _office(session, code)
    if office.webhook_url is None:
        raise Conflict(f"office {code} has no webhook; set one first", code="webhook.not_configured")
    secret = new_secret()
    office.webhook_secrets = [box.seal(secret), *office.webhook_secrets[:1]]
    await session.flush()
    return secret


@dataclass
class Resealed:
    """What ``reseal_webhook_secrets`` did."""

    resealed: int = 0  # sealed again with the current secret
    current: int = 0  # sealed with it already
    unusable: list[str] = dataclass_field(default_factory=list)  # offices of secrets no secret opens


async def reseal_webhook_secrets(session: AsyncSession, box: SecretBox) -> Resealed:
    """After ``HUB_SECRET_KEY`` was rotated: every office's webhook secrets sealed again with the
    current secret (``box`` opens with the previous ones too), so that the previous secret can be
    dropped. The secrets themselves do not change: the offices verify pushes as before. A secret
    none of the secrets opens is left as it is, and its office named (give it a new one with
    ``hub offices webhook`` or rotate it)."""
    done = Resealed()
    for office in await OfficeRepository(session).list_all(for_update=True):
        sealed = []
        for token in office.webhook_secrets:
            if box.is_current(token):
                done.current += 1
                sealed.append(token)
                continue
            try:
                sealed.append(box.reseal(token))
                done.resealed += 1
            except InvalidToken:
                sealed.append(token)
                if office.code not in done.unusable:
                    done.unusable.append(office.code)
        if sealed != office.webhook_secrets:
            office.webhook_secrets = sealed
    await session.flush()
    return done


async def finish_webhook_rotation(session: AsyncSession, code: str) -> None:
    office = await _office(session, code)
    office.webhook_secrets = office.webhook_secrets[:1]
    await session.flush()


async def office_events(
    session: AsyncSession, code: str, *, after: int | None, limit: int
) -> list[OfficeEvent]:
    """Who changed what on the office, and when, oldest first (``office_events``); 404
    ``office.not_found`` for an unknown code."""
    repo = OfficeRepository(session)
    office = await repo.get_by_code(code)
    if office is None:
        raise NotFound(f"no office with code {code}", code="office.not_found")
    return await repo.events(office.id, after=after, limit=limit)
