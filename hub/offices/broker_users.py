"""Each AMQP office's own RabbitMQ user: created, rotated and revoked through the management API.

The user is named by the office code, because the hub's consumer takes the sender of a message on
``hub.inbound`` from its ``user-id`` property, which RabbitMQ checks against the logged-in user
(``adapters/amqp/management.py`` says what the permissions allow). The password is made here,
returned once and stored nowhere: a lost password is rotated, never read back. Every change is
recorded in ``office_events`` with who made it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.amqp.management import (
    ManagementClient,
    ManagementError,
    management_url_for,
    office_permissions,
    vhost_of,
)
from hub.kit.errors import Conflict, HubError, NotFound
from hub.offices.models import DeliveryChannel, Office, OfficeEvent
from hub.offices.repository import OfficeRepository
from hub.settings import Settings

log = structlog.get_logger()


class BrokerUnavailable(HubError):
    status = 503
    code = "broker.management_unavailable"
    title = "The broker's management API is unavailable"


@dataclass(frozen=True)
class AmqpCredentials:
    username: str
    password: str
    url: str  # what the office's IT team configures: amqp://CODE:password@host:port/vhost
    rotated: bool  # the user existed: its old password stopped working, its connections were closed


def _management(settings: Settings) -> ManagementClient:
    if not settings.amqp_url:
        raise Conflict(
            "the hub runs without a broker (HUB_AMQP_URL is empty): offices have no AMQP users",
            code="broker.not_configured",
        )
    url = settings.rabbitmq_management_url or management_url_for(settings.amqp_url)
    try:
        return ManagementClient(url)
    except ManagementError as exc:
        raise BrokerUnavailable(str(exc)) from exc


def _office_url(amqp_url: str, username: str, password: str) -> str:
    parts = urlsplit(amqp_url)
    host = (parts.hostname or "127.0.0.1") + (f":{parts.port}" if parts.port else "")
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", "", ""))


async def _known_office(session: AsyncSession, code: str) -> Office:
    office = await OfficeRepository(session).get_by_code(code)
    if office is None:
        raise NotFound(f"no office with code {code}", code="office.not_found")
    return office


async def issue_amqp_user(
    session: AsyncSession, settings: Settings, code: str, *, actor: str
) -> AmqpCredentials:
    """Creates the office's broker user with its permissions, or gives an existing one a new
    password (closing its open connections, so the old password stops working now). Only for an
    office whose channel is ``amqp``: 409 ``office.not_amqp`` otherwise."""
    office = await _known_office(session, code)
    if office.delivery_channel != DeliveryChannel.AMQP.value:
        raise Conflict(
            f"office {code} receives its messages by {office.delivery_channel}, not AMQP; "
            f"`hub offices update {code} --channel amqp` first",
            code="office.not_amqp",
        )
    password = secrets.token_urlsafe(32)
    try:
        async with _management(settings) as api:
            existed = await api.user_exists(office.code)
            await api.put_user(office.code, password)
            await api.set_permissions(
                vhost_of(settings.amqp_url), office.code, office_permissions(office.code)
            )
            if existed:
                await api.close_connections_of(office.code)
    except ManagementError as exc:
        raise BrokerUnavailable(str(exc)) from exc
    event = "rotated" if existed else "created"
    await OfficeRepository(session).log(
        OfficeEvent(office_id=office.id, actor=actor, changes={"amqp_user": [None, event]})
    )
    log.info("office_amqp_user", office=office.code, actor=actor, change=event)
    return AmqpCredentials(
        username=office.code,
        password=password,
        url=_office_url(settings.amqp_url, office.code, password),
        rotated=existed,
    )


async def revoke_amqp_user(session: AsyncSession, settings: Settings, code: str, *, actor: str) -> bool:
    """Deletes the office's broker user and closes its connections; False when it had none. The
    office's queue and the messages in it stay: a new user (``issue_amqp_user``) reads them."""
    office = await _known_office(session, code)
    try:
        async with _management(settings) as api:
            await api.close_connections_of(office.code)
            deleted = await api.delete_user(office.code)
    except ManagementError as exc:
        raise BrokerUnavailable(str(exc)) from exc
    if deleted:
        await OfficeRepository(session).log(
            OfficeEvent(office_id=office.id, actor=actor, changes={"amqp_user": [None, "revoked"]})
        )
        log.info("office_amqp_user", office=office.code, actor=actor, change="revoked")
    return deleted
