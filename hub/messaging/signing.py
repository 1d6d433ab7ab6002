"""Receipt signatures: Ed25519, so any office can verify a receipt with the hub's public key
(``GET /v1/receipts/public-key``) without holding a secret that could forge one.

The signing key is derived from ``HUB_SECRET_KEY``: rotating that secret rotates the key, and the
hub needs no second secret to keep. Every key has an id (``key_id``: the first 16 hex characters
of the SHA-256 of its raw public key), signed into every receipt it signs; the public keys of
earlier secrets stay published (``HUB_RECEIPT_PREVIOUS_PUBLIC_KEYS``, ``GET
/v1/receipts/public-keys``), so a receipt signed before a rotation still verifies, with the key
its id names. Receipts signed before key ids existed have none, and sign no ``key_id``: they are
checked against every published key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
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
KEY_ID_LENGTH = 16


def signed_time(at: datetime) -> str:
    """Times in signed payloads: UTC with a ``Z``, as pydantic writes them in the receipt's JSON."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def canonical_json(payload: dict[str, Any]) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, UTF-8 (RFC 8785-like for our fields)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_id(public_key_b64: str) -> str:
    """A public key's id: the first 16 hex characters of the SHA-256 of its raw 32 bytes."""
    return hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:KEY_ID_LENGTH]


def public_key_from_b64(public_key_b64: str) -> Ed25519PublicKey:
    """An Ed25519 public key from its raw 32 bytes in base64 (ValueError when it is not one)."""
    raw = base64.b64decode(public_key_b64, validate=True)
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key is 32 bytes, not {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


class ReceiptSigner:
    def __init__(self, secret_key: str) -> None:
        seed = hashlib.sha256(_DERIVATION_LABEL + secret_key.encode()).digest()
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._private.public_key()
        self.key_id = key_id(self.public_key_b64())

    def sign(self, payload: dict[str, Any]) -> str:
        return base64.b64encode(self._private.sign(canonical_json(payload))).decode()

    def public_key_b64(self) -> str:
        return base64.b64encode(self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


@dataclass(frozen=True)
class PublishedKey:
    key_id: str
    public_key_b64: str
    current: bool
    algorithm: str = ALGORITHM


class UnknownKeyId(ValueError):
    """A receipt names a key the hub does not publish (not its own, nor a previous one)."""

    def __init__(self, kid: str) -> None:
        super().__init__(
            f"no published receipt key has the id {kid!r}: neither the current key nor one listed in "
            "HUB_RECEIPT_PREVIOUS_PUBLIC_KEYS (GET /v1/receipts/public-keys lists them)"
        )
        self.key_id = kid


class ReceiptKeys:
    """The keys that verify the hub's receipts: the current one (of ``HUB_SECRET_KEY``) first, then
    the public keys of the secrets it replaced, newest first. Only public keys are kept of those:
    the hub never signs with an old key."""

    def __init__(self, current_public_key_b64: str, previous: Sequence[str] = ()) -> None:
        keys = [PublishedKey(key_id(current_public_key_b64), current_public_key_b64, True)]
        for public in previous:
            public_key_from_b64(public)  # refuses what is not a key
            if key_id(public) not in {k.key_id for k in keys}:
                keys.append(PublishedKey(key_id(public), public, False))
        self.keys: tuple[PublishedKey, ...] = tuple(keys)

    @classmethod
    def of(cls, signer: ReceiptSigner, previous: Sequence[str] = ()) -> ReceiptKeys:
        return cls(signer.public_key_b64(), previous)

    @property
    def current(self) -> PublishedKey:
        return self.keys[0]

    def find(self, kid: str) -> PublishedKey:
        for key in self.keys:
            if key.key_id == kid:
                return key
        raise UnknownKeyId(kid)


def verify(public_key_b64: str, payload: dict[str, Any], signature_b64: str) -> bool:
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    try:
        key.verify(base64.b64decode(signature_b64), canonical_json(payload))
    except (InvalidSignature, ValueError):
        return False
    return True


def batch_root_payload(root: str, leaves: int, kid: str | None = None) -> dict[str, Any]:
    """The signed fields of a batch chunk's receipt: the Merkle root of its records' receipts, and
    the id of the key that signs it (none on chunks signed before key ids)."""
    payload: dict[str, Any] = {"kind": "receipt_batch", "merkle_root": root, "leaves": leaves}
    if kid is not None:
        payload["key_id"] = kid
    return payload


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
    keys: ReceiptKeys | str, payload: dict[str, Any], signature_b64: str, proof: dict[str, Any] | None
) -> bool:
    """A receipt checked alone: signed by itself (``proof`` None), or by its batch chunk, whose root
    its inclusion proof leads to from the hash of ``payload``.

    The key is the one ``payload["key_id"]`` names (:class:`UnknownKeyId` when no published key has
    that id); a receipt without a key id (signed before key ids) is tried with every published key.
    ``keys`` may be a single public key (base64): then a receipt naming another key is False."""
    kid = payload.get("key_id")
    if isinstance(keys, str):
        keys = ReceiptKeys(keys)
        if kid is not None and kid != keys.current.key_id:
            return False
    candidates = (
        [keys.find(str(kid)).public_key_b64] if kid is not None else [k.public_key_b64 for k in keys.keys]
    )
    if proof is None:
        return any(verify(key, payload, signature_b64) for key in candidates)
    try:
        path = [(str(side), bytes.fromhex(sibling)) for side, sibling in proof["path"]]
        root = merkle.root_from(receipt_leaf(payload), path).hex()
        leaves = int(proof["leaves"])
    except (KeyError, TypeError, ValueError):
        return False
    if root != proof.get("root"):
        return False
    signed = batch_root_payload(root, leaves, None if kid is None else str(kid))
    return any(verify(key, signed, signature_b64) for key in candidates)
