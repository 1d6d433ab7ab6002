"""What a handler is told of a delivery: the broker's counts read whatever RabbitMQ sends (no broker
needed: the headers are the input)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest
from aio_pika.abc import AbstractIncomingMessage

from adapters.amqp.consumer import to_delivery


def _message(headers: dict[str, Any] | None) -> AbstractIncomingMessage:
    fields = dict.fromkeys(
        ("exchange", "routing_key", "message_id", "correlation_id", "content_type", "user_id", "timestamp")
    )
    return cast(
        AbstractIncomingMessage, SimpleNamespace(body=b"x", headers=headers, redelivered=False, **fields)
    )


@pytest.mark.parametrize(
    ("headers", "counts"),
    [
        (None, (0, 0)),  # a first delivery has no count
        ({"x-delivery-count": 3}, (3, 3)),  # RabbitMQ 3.x: one count for failures and deaths
        ({"x-delivery-count": 1, "x-acquired-count": 7}, (1, 7)),  # 4.3: deaths only acquired
        ({"x-delivery-count": "3"}, (0, 0)),  # not an integer: not a count
        ({"x-delivery-count": True, "x-acquired-count": 2}, (0, 2)),
    ],
)
def test_the_counts_come_from_the_quorum_queues_headers(
    headers: dict[str, Any] | None, counts: tuple[int, int]
) -> None:
    delivery = to_delivery("hub.inbound", _message(headers))
    assert (delivery.delivery_count, delivery.acquired_count) == counts
