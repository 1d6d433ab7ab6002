"""Sample verifier of the hub's webhook pushes, for office IT teams (Python standard library only).

The hub signs each push per Standard Webhooks (https://www.standardwebhooks.com/):
    signed content = webhook-id + "." + webhook-timestamp + "." + raw body
    webhook-signature = "v1,<base64 HMAC-SHA256(secret, signed content)>" (several, space-separated,
    while a secret is being rotated)
Refuse a push whose signature does not match, whose timestamp is more than 5 minutes from now, or
whose webhook-id you have already processed (a replay).

    verifier = WebhookVerifier(["whsec_..."])       # your current secret(s) from the hub
    verifier.verify(request_headers, raw_body)       # raises WebhookRefused, else returns
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
        # Use a store shared by your workers and kept at least TOLERANCE_S in production.
        self.seen_ids: MutableSet[str] = seen_ids if seen_ids is not None else set()
        self.now = now

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
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
        if msg_id in self.seen_ids:
            raise WebhookRefused(f"webhook-id {msg_id} already processed (replay)")
        self.seen_ids.add(msg_id)
