"""Who a dead letter is applied as on requeue: read only from what an office cannot forge."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from hub.messaging.dead_letters import describe


def letter(user_id: str | None = None, **headers: Any) -> Any:
    return SimpleNamespace(user_id=user_id, headers=headers, message_id="7", body=b"<x/>")


def death(queue: str, reason: str = "delivery_limit") -> dict[str, Any]:
    return {"queue": queue, "reason": reason, "count": 1, "exchange": "hub.inbound"}


@pytest.mark.parametrize(
    ("message", "sender", "reason"),
    [
        # Moved here by the broker from hub.inbound: the user RabbitMQ validated, not the office's
        # own headers claiming another office.
        (
            letter(
                "CJA", **{"x-death": [death("hub.inbound")], "x-hub-sender": "CJB", "x-hub-user-id": "CJB"}
            ),
            "CJA",
            "delivery_limit",
        ),
        # A message the hub sent to an office, dead in that office's queue: no office's message.
        (
            letter(None, **{"x-death": [death("office.CJA")], "x-hub-sender": "AGENCY"}),
            None,
            "delivery_limit",
        ),
        (letter("CJA", **{"x-death": [death("hub.inbound"), death("office.CJA")]}), None, "delivery_limit"),
        # Put here by the hub: an office unknown then, kept under its AMQP user.
        (
            letter(
                None,
                **{
                    "x-hub-reason": "sender.unknown",
                    "x-hub-sender": "UNKNOWN",
                    "x-hub-user-id": "CJNEW",
                    "x-hub-detail": "AMQP user 'CJNEW' is not a registered office",
                },
            ),
            "CJNEW",
            "sender.unknown",
        ),
        # ... kept before the hub wrote x-hub-user-id: the user is named in the detail.
        (
            letter(
                None,
                **{
                    "x-hub-reason": "sender.unknown",
                    "x-hub-sender": "UNKNOWN",
                    "x-hub-detail": "AMQP user 'CJOLD' is not a registered office",
                },
            ),
            "CJOLD",
            "sender.unknown",
        ),
        # ... sent with no AMQP user at all: nobody to apply it as.
        (
            letter(
                None,
                **{
                    "x-hub-reason": "sender.unknown",
                    "x-hub-sender": "UNKNOWN",
                    "x-hub-user-id": "",
                    "x-hub-detail": "AMQP user None is not a registered office",
                },
            ),
            None,
            "sender.unknown",
        ),
        # An unreadable message of a registered office.
        (
            letter(None, **{"x-hub-reason": "xml.malformed", "x-hub-sender": "CJA", "x-hub-user-id": "CJA"}),
            "CJA",
            "xml.malformed",
        ),
    ],
)
def test_the_sender_of_a_dead_letter_is_its_validated_amqp_user(
    message: Any, sender: str | None, reason: str
) -> None:
    described = describe(message)
    assert (described.sender, described.reason) == (sender, reason)


async def test_a_letter_kept_without_its_body_stays_in_hub_dead() -> None:
    """Over the body limit the hub kept the reason, not the body: requeue has nothing to apply
    (it would refuse an empty body as that office's message), so the letter stays; the office
    resends."""
    from hub.messaging.dead_letters import DeadLetter, _requeue_one

    kept = DeadLetter("7", "CJA", "payload_too_large", "52428800 bytes", 0)
    assert await _requeue_one(None, None, kept, b"", "application/json") is None  # type: ignore[arg-type]
