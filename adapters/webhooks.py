"""Outbound webhook push, signed per Standard Webhooks (https://www.standardwebhooks.com/).

Headers ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``: a
space-separated list of ``v1,<base64 HMAC-SHA256>`` over ``"{id}.{timestamp}.{body}"``, one per
active secret, so an office can rotate its secret without missing a delivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
PUSH_TIMEOUT_S = 10.0


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature_header(secrets_: Sequence[str], webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(_key(s), signed, hashlib.sha256).digest()).decode()
        for s in secrets_
    )


@dataclass(frozen=True)
class PushResult:
    status: int | None  # None when no HTTP answer came back
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        """410 Gone: the office asks the hub to stop pushing to this endpoint."""
        return self.status == 410


async def push(
    client: httpx.AsyncClient,
    url: str,
    secrets_: Sequence[str],
    webhook_id: str,
    timestamp: int,
    body: bytes,
    content_type: str,
) -> PushResult:
    headers = {
        "content-type": content_type,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_, webhook_id, timestamp, body),
    }
    try:
        response = await client.post(url, content=body, headers=headers, timeout=PUSH_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return PushResult(None, f"{type(exc).__name__}: {exc}"[:500])
    error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return PushResult(response.status_code, error)
