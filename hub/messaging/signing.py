"""Receipt signatures: Ed25519, so any office can verify a receipt with the hub's public key
(``GET /v1/receipts/public-key``) without holding a secret that could forge one.

The signing key is derived from ``HUB_SECRET_KEY``: rotating that secret rotates the key, and the
hub needs no second secret to keep.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALGORITHM = "Ed25519"
_DERIVATION_LABEL = b"hub receipt signing key v1"


def signed_time(at: datetime) -> str:
    """Times in signed payloads: UTC with a ``Z``, as pydantic writes them in the receipt's JSON."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def canonical_json(payload: dict[str, Any]) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, UTF-8 (RFC 8785-like for our fields)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class ReceiptSigner:
    def __init__(self, secret_key: str) -> None:
        seed = hashlib.sha256(_DERIVATION_LABEL + secret_key.encode()).digest()
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._private.public_key()

    def sign(self, payload: dict[str, Any]) -> str:
        return base64.b64encode(self._private.sign(canonical_json(payload))).decode()

    def public_key_b64(self) -> str:
        return base64.b64encode(self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def verify(public_key_b64: str, payload: dict[str, Any], signature_b64: str) -> bool:
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    try:
        key.verify(base64.b64decode(signature_b64), canonical_json(payload))
    except (InvalidSignature, ValueError):
        return False
    return True
