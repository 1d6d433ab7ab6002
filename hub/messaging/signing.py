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

from hub.kit import merkle

ALGORITHM = "Ed25519"
# A batch record's receipt: the Ed25519 signature of its chunk's Merkle root, with its inclusion
# proof (docs/adr/0006-batch-receipts.md).
BATCH_ALGORITHM = "Ed25519-Merkle"
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


def batch_root_payload(root: str, leaves: int) -> dict[str, Any]:
    """The signed fields of a batch chunk's receipt: the Merkle root of its records' receipts."""
    return {"kind": "receipt_batch", "merkle_root": root, "leaves": leaves}


def receipt_leaf(payload: dict[str, Any]) -> bytes:
    """A record's receipt as a leaf of its chunk's tree: the hash of what its receipt alone signs."""
    return merkle.leaf_hash(canonical_json(payload))


def batch_proof(tree: list[list[bytes]], index: int) -> dict[str, Any]:
    return {
        "root": tree[-1][0].hex(),
        "leaves": len(tree[0]),
        "index": index,
        "path": [[side, sibling.hex()] for side, sibling in merkle.proof(tree, index)],
    }


def verify_receipt(
    public_key_b64: str, payload: dict[str, Any], signature_b64: str, proof: dict[str, Any] | None
) -> bool:
    """A receipt checked alone: signed by itself (``proof`` None), or by its batch chunk, whose root
    its inclusion proof leads to from the hash of ``payload``."""
    if proof is None:
        return verify(public_key_b64, payload, signature_b64)
    try:
        path = [(str(side), bytes.fromhex(sibling)) for side, sibling in proof["path"]]
        root = merkle.root_from(receipt_leaf(payload), path).hex()
        leaves = int(proof["leaves"])
    except (KeyError, TypeError, ValueError):
        return False
    if root != proof.get("root"):
        return False
    return verify(public_key_b64, batch_root_payload(root, leaves), signature_b64)
