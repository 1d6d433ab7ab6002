"""Raw publish rate of the adapter, for ``hub bench`` (timings live here, never in tests).

Publishes persistent messages with confirms into a throwaway quorum queue, once pipelined (as the
relay does) and once awaiting each confirm in turn, so the report shows the ratio measured in one
run on one machine (DESIGN.md: compare ratios, not absolute figures across runs).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from adapters.amqp.connection import connect
from adapters.amqp.publisher import OutgoingMessage, Publisher, Status


async def measure_publish_rate(
    url: str,
    *,
    messages: int = 5000,
    body_size: int = 512,
    serial_messages: int = 500,
    max_in_flight: int = 1000,
) -> dict[str, Any]:
    """Returns ``{"pipelined_msg_per_s", "serial_msg_per_s", "speedup", ...}``.

    Uses a queue named ``bench.<random>`` on the default exchange of ``url``'s virtual host and
    deletes it afterwards, so it can run against a broker in use.
    """
    connection = await connect(url, name="hub-bench")
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        queue_name = f"bench.{secrets.token_hex(4)}"
        queue = await channel.declare_queue(
            queue_name, durable=True, arguments={"x-queue-type": "quorum"}, robust=False
        )
        try:
            publisher = Publisher(channel, max_in_flight=max_in_flight)
            body = b"x" * body_size

            def batch(prefix: str, count: int) -> list[OutgoingMessage]:
                return [
                    OutgoingMessage(f"{prefix}-{i}", "", queue_name, body, "application/octet-stream", {})
                    for i in range(count)
                ]

            pipelined = batch("p", messages)
            started = time.perf_counter()
            outcomes = await publisher.publish_many(pipelined)
            pipelined_s = time.perf_counter() - started

            serial = batch("s", serial_messages)
            started = time.perf_counter()
            serial_outcomes = [await publisher.publish(m) for m in serial]
            serial_s = time.perf_counter() - started
        finally:
            await queue.delete(if_unused=False, if_empty=False)
    finally:
        await connection.close()

    pipelined_rate = messages / pipelined_s if pipelined_s else 0.0
    serial_rate = serial_messages / serial_s if serial_s else 0.0
    failed = sum(1 for o in [*outcomes, *serial_outcomes] if o.status is not Status.OK)
    return {
        "messages": messages,
        "body_size": body_size,
        "max_in_flight": max_in_flight,
        "pipelined_msg_per_s": round(pipelined_rate, 1),
        "serial_msg_per_s": round(serial_rate, 1),
        "speedup": round(pipelined_rate / serial_rate, 2) if serial_rate else None,
        "failed": failed,
    }
