"""The connection to RabbitMQ: robust, so the hub survives a broker restart without a redeploy."""

from __future__ import annotations

import aio_pika
from aio_pika.abc import AbstractRobustConnection

DEFAULT_RECONNECT_INTERVAL_S = 1.0
DEFAULT_CONNECT_TIMEOUT_S = 10.0


async def connect(
    url: str,
    *,
    name: str = "hub",
    reconnect_interval: float = DEFAULT_RECONNECT_INTERVAL_S,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S,
) -> AbstractRobustConnection:
    """Connects (failing at once if the broker is unreachable now) and later reconnects by itself.

    After a broker restart the connection re-opens its channels and re-declares what was declared
    through them, consumers included, retrying every ``reconnect_interval`` seconds (aio-pika's
    default of 5 s would leave the hub deaf for longer than needed). Publishes during the outage
    fail with a connection error outcome; nothing is replayed automatically.
    ``name`` shows in the broker's connection list (``rabbitmqctl list_connections client_properties``).
    """
    return await aio_pika.connect_robust(
        url,
        timeout=connect_timeout,
        reconnect_interval=reconnect_interval,
        client_properties={"connection_name": name},
    )
