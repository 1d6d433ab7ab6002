"""Sample verifier of the hub's receipts, for office IT teams (needs the ``cryptography`` package).

Every receipt is signed with the hub's Ed25519 key and names it: ``key_id``, the first 16 hex
characters of the SHA-256 of the raw public key. The hub publishes its keys at
``GET /v1/receipts/public-keys`` (no credentials): the current one and the ones it replaced, so a
receipt kept for years still verifies after the hub rotated its key. Keep the keys you fetched; for
an id you do not know, fetch the list again (the hub rotated since); a receipt naming a key the hub
does not publish at all is not the hub's.

    keys = httpx.get(f"{hub}/v1/receipts/public-keys").json()["items"]
    verifier = ReceiptVerifier(keys, refresh=lambda: httpx.get(...).json()["items"])
    verifier.verify(receipt, sender="CJ75001")   # True, False, or UnknownKey

``receipt`` is the receipt as JSON (a receipt message, or ``receipt`` in ``GET /v1/messages/{id}``);
``sender`` is your office code (the receipt's ``envelope.recipient``). Receipts signed before key
ids (no ``key_id``) are tried with every published key. The steps are those of schemas/README.md,
"Receipts".
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PublishedKeys = Sequence[Mapping[str, Any]]


class UnknownKey(Exception):
    """The receipt names a key id the hub does not publish (even after fetching the list again)."""


def key_id(public_key_b64: str) -> str:
    return hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:16]


def canonical(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signed_bytes(receipt: Mapping[str, Any], sender: str) -> bytes | None:
    """What the signature is of (README steps 1-5); None when a batch record's proof does not lead
    to its root."""
    payload = {
        "message_id": receipt["message_id"],
        "sender": sender,
        "sha256": receipt["sha256"],
        "received_at": receipt["received_at"],
        "accepted": receipt["accepted"],
        "errors": receipt.get("errors", []),
    }
    for optional in ("invoice_id", "key_id"):  # signed when the receipt carries them
        if receipt.get(optional) is not None:
            payload[optional] = receipt[optional]
    if receipt["signature_alg"] == "Ed25519":
        return canonical(payload)
    proof = receipt["proof"]
    node = hashlib.sha256(b"\x00" + canonical(payload)).digest()
    for step in proof["path"]:
        sibling = bytes.fromhex(step["sibling"])
        node = hashlib.sha256(
            b"\x01" + (sibling + node if step["side"] == "left" else node + sibling)
        ).digest()
    if node.hex() != proof["root"]:
        return None
    root: dict[str, Any] = {"kind": "receipt_batch", "merkle_root": proof["root"], "leaves": proof["leaves"]}
    if receipt.get("key_id") is not None:
        root["key_id"] = receipt["key_id"]
    return canonical(root)


class ReceiptVerifier:
    def __init__(self, keys: PublishedKeys, *, refresh: Callable[[], PublishedKeys] | None = None) -> None:
        self._refresh = refresh
        self._keys: dict[str, str] = {}
        self._learn(keys)

    def _learn(self, keys: PublishedKeys) -> None:
        for key in keys:
            public = str(key["public_key_base64"])
            # Computed, not trusted from the list: a key is known by what it is.
            self._keys[key_id(public)] = public

    def _keys_for(self, receipt: Mapping[str, Any]) -> list[str]:
        kid = receipt.get("key_id")
        if kid is None:  # signed before key ids: any published key
            return list(self._keys.values())
        if kid not in self._keys and self._refresh is not None:
            self._learn(self._refresh())
        if kid not in self._keys:
            raise UnknownKey(f"the receipt names key {kid!r}, which the hub does not publish")
        return [self._keys[kid]]

    def verify(self, receipt: Mapping[str, Any], sender: str) -> bool:
        keys = self._keys_for(receipt)
        signed = signed_bytes(receipt, sender)
        if signed is None:
            return False
        signature = base64.b64decode(receipt["signature"])
        for public in keys:
            try:
                Ed25519PublicKey.from_public_bytes(base64.b64decode(public)).verify(signature, signed)
            except InvalidSignature:
                continue
            return True
        return False
