"""Sample receiver of the hub's webhook pushes, for office IT teams (Python standard library only).

The hub signs each push per Standard Webhooks (https://www.standardwebhooks.com/):
    signed content = webhook-id + "." + webhook-timestamp + "." + raw body
    webhook-signature = "v1,<base64 HMAC-SHA256(secret, signed content)>" (several, space-separated,
    while a secret is being rotated)
Refuse (401) a push whose signature does not match or whose timestamp is more than 5 minutes from
now. A push whose webhook-id you have already processed is the hub delivering it again (your 2xx
answer got lost, or came too late): answer 2xx without processing it a second time. Refusing it
would make the hub retry it for hours.

    verifier = WebhookVerifier(["whsec_..."])          # your current secret(s) from the hub
    status = verifier.receive(headers, raw_body, process)  # the HTTP status to answer with

``process(raw_body)`` is your handling of the message; the webhook-id is remembered only once it
returned, so a crash in it makes the hub's next try process the message again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping, MutableSet

TOLERANCE_S = 5 * 60


class WebhookRefused(Exception):
    pass


class WebhookVerifier:
    def __init__(
        self,
        secrets: list[str],
        *,
        seen_ids: MutableSet[str] | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.keys = [base64.b64decode(s.removeprefix("whsec_")) for s in secrets]
        # Processed webhook-ids. In production use a store shared by your workers (a table with the
        # id as its primary key, written in the transaction that processes the message), kept at
        # least as long as the hub retries (about 16 hours).
        self.seen_ids: MutableSet[str] = seen_ids if seen_ids is not None else set()
        self.now = now

    def verify(self, headers: Mapping[str, str], body: bytes) -> str:
        """The push's webhook-id once its signature and timestamp are checked; raises
        ``WebhookRefused`` otherwise. Whether it was processed already is ``already_processed``."""
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            msg_id = lowered["webhook-id"]
            timestamp = lowered["webhook-timestamp"]
            signatures = lowered["webhook-signature"].split()
        except KeyError as exc:
            raise WebhookRefused(f"missing header {exc.args[0]}") from exc
        if not timestamp.isdigit() or abs(self.now() - int(timestamp)) > TOLERANCE_S:
            raise WebhookRefused("timestamp outside the 5 minute tolerance")
        signed = f"{msg_id}.{timestamp}.".encode() + body
        digests = [hmac.new(k, signed, hashlib.sha256).digest() for k in self.keys]
        expected = [base64.b64encode(d).decode() for d in digests]
        presented = [s.split(",", 1)[1] for s in signatures if s.startswith("v1,")]
        if not any(hmac.compare_digest(p, e) for p in presented for e in expected):
            raise WebhookRefused("no valid signature")
        return msg_id

    def already_processed(self, msg_id: str) -> bool:
        return msg_id in self.seen_ids

    def processed(self, msg_id: str) -> None:
        self.seen_ids.add(msg_id)

    def receive(self, headers: Mapping[str, str], body: bytes, process: Callable[[bytes], None]) -> int:
        """The HTTP status to answer a push with: 401 refused, 200 processed now or before."""
        try:
            msg_id = self.verify(headers, body)
        except WebhookRefused:
            return 401
        if self.already_processed(msg_id):
            return 200  # a redelivery: acknowledged, not processed twice
        process(body)  # if it raises, answer 5xx: the hub tries again later
        self.processed(msg_id)
        return 200
