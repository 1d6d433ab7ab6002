"""RabbitMQ's management HTTP API, for the one thing the hub does with it: broker users for offices.

Each AMQP office logs in as its own RabbitMQ user, named by its office code, whose permissions
(:func:`office_permissions`) let it read only its own queue ``office.<code>`` and write only to the
``hub.inbound`` exchange. RabbitMQ checks a published message's ``user-id`` property against the
logged-in user, and the hub's consumer takes the sender from that property, so an office can
neither read another's messages nor publish as another office.

The API needs the ``rabbitmq_management`` plugin and an administrator login (the one of
``HUB_RABBITMQ_MANAGEMENT_URL``, never an office's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx

from adapters.amqp.topology import INBOUND_EXCHANGE, office_queue

DEFAULT_MANAGEMENT_PORT = 15672
TIMEOUT_S = 10.0


class ManagementError(RuntimeError):
    """The management API refused or could not be reached; the message says which and why."""


@dataclass(frozen=True)
class Permissions:
    """Regular expressions over resource names, as RabbitMQ's ``set_permissions`` takes them."""

    configure: str
    write: str
    read: str


def office_permissions(code: str) -> Permissions:
    """Nothing to declare or delete (the hub declares the queues); publish only to ``hub.inbound``;
    consume only from the office's own queue. ``office_queue`` validates the code."""
    return Permissions(
        configure="^$",
        write=f"^{re.escape(INBOUND_EXCHANGE)}$",
        read=f"^{re.escape(office_queue(code))}$",
    )


def management_url_for(amqp_url: str) -> str:
    """The management API beside an AMQP URL: same host and credentials, port 15672."""
    parts = urlsplit(amqp_url)
    credentials = ""
    if parts.username:
        credentials = parts.username + (f":{parts.password}" if parts.password is not None else "") + "@"
    host = parts.hostname or "127.0.0.1"
    return urlunsplit(("http", f"{credentials}{host}:{DEFAULT_MANAGEMENT_PORT}", "", "", ""))


def vhost_of(amqp_url: str) -> str:
    """The virtual host an AMQP URL names (``/`` when it names none)."""
    path = urlsplit(amqp_url).path
    return "/" if path in ("", "/") else unquote(path[1:])


class ManagementClient:
    """A thin client of the endpoints used here; each call raises :class:`ManagementError` with the
    broker's reason on a refusal, and on an unreachable API."""

    def __init__(self, url: str, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ManagementError(
                f"the management API URL must be http(s)://user:pass@host:port, not {url!r}"
            )
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        self.base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        auth = (unquote(parts.username or ""), unquote(parts.password or ""))
        self._client = httpx.AsyncClient(auth=auth, timeout=TIMEOUT_S, transport=transport)

    async def __aenter__(self) -> ManagementClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._client.aclose()

    async def _call(self, method: str, path: str, json: object | None = None) -> httpx.Response:
        try:
            response = await self._client.request(method, f"{self.base}/api/{path}", json=json)
        except httpx.HTTPError as exc:
            raise ManagementError(
                f"the RabbitMQ management API at {self.base} is unreachable: {exc}"
            ) from exc
        if response.status_code == 401:
            raise ManagementError(f"the RabbitMQ management API at {self.base} refused the login")
        return response

    @staticmethod
    def _refused(response: httpx.Response, what: str) -> ManagementError:
        try:
            reason = response.json().get("reason", response.text)
        except ValueError:
            reason = response.text
        return ManagementError(f"{what}: RabbitMQ answered {response.status_code} ({reason})")

    async def user_exists(self, name: str) -> bool:
        response = await self._call("GET", f"users/{quote(name, safe='')}")
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise self._refused(response, f"reading user {name}")
        return True

    async def put_user(self, name: str, password: str) -> None:
        """Creates the user, or sets a new password on an existing one; no tags (no management access)."""
        response = await self._call(
            "PUT", f"users/{quote(name, safe='')}", {"password": password, "tags": ""}
        )
        if response.status_code not in (201, 204):
            raise self._refused(response, f"writing user {name}")

    async def set_permissions(self, vhost: str, name: str, permissions: Permissions) -> None:
        response = await self._call(
            "PUT",
            f"permissions/{quote(vhost, safe='')}/{quote(name, safe='')}",
            {"configure": permissions.configure, "write": permissions.write, "read": permissions.read},
        )
        if response.status_code not in (201, 204):
            raise self._refused(response, f"setting the permissions of {name} on {vhost}")

    async def delete_user(self, name: str) -> bool:
        """Deletes the user; False when there was none."""
        response = await self._call("DELETE", f"users/{quote(name, safe='')}")
        if response.status_code == 404:
            return False
        if response.status_code != 204:
            raise self._refused(response, f"deleting user {name}")
        return True

    async def close_connections_of(self, name: str) -> int:
        """Closes the user's open connections (a rotated password or a revoked user stops working
        now, not at its next login); returns how many were closed."""
        response = await self._call("GET", "connections?columns=name,user")
        if response.status_code != 200:
            raise self._refused(response, "listing connections")
        closed = 0
        for connection in response.json():
            if connection.get("user") != name:
                continue
            done = await self._call("DELETE", f"connections/{quote(connection['name'], safe='')}")
            if done.status_code in (204, 404):  # 404: it closed by itself meanwhile
                closed += done.status_code == 204
            else:
                raise self._refused(done, f"closing connection {connection['name']}")
        return closed
