"""Secrets the hub must read back (webhook signing secrets) are stored encrypted, with a key
derived from ``HUB_SECRET_KEY``: a copy of the database alone does not reveal them. Likewise the
data keys that seal each case's stored messages."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_LABEL = b"hub stored secrets v1"


def _fernet(secret_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(_LABEL + secret_key.encode()).digest()))


class SecretBox:
    """Seals with ``HUB_SECRET_KEY``; opens with it or, after a rotation, with one of the previous
    secrets (``HUB_PREVIOUS_SECRET_KEYS``), until ``hub secrets rewrap`` sealed everything again."""

    def __init__(self, secret_key: str, previous: Sequence[str] = ()) -> None:
        self._current = _fernet(secret_key)
        self._fernet = MultiFernet([self._current, *(_fernet(p) for p in previous)])

    def seal(self, plaintext: str) -> str:
        return self._current.encrypt(plaintext.encode()).decode()

    def open(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()

    def is_current(self, token: str) -> bool:
        """Sealed with the current secret (else with a previous one, or none of them)."""
        try:
            self._current.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def reseal(self, token: str) -> str:
        """``token`` sealed again with the current secret; ``InvalidToken`` if no secret opens it."""
        return self._fernet.rotate(token.encode()).decode()


# Personal data in the message store (docs/adr/0015-personal-data.md): each case's bodies are
# sealed with a random data key of the case's (AES-256-GCM); the data key is stored wrapped
# (AES-256-GCM too) by a key derived from ``HUB_SECRET_KEY``. Destroying the wrapped key erases
# every body of the case at once, without touching them.
_WRAP_LABEL = b"hub case data keys v1"
NONCE_BYTES = 12
DATA_KEY_BYTES = 32


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=DATA_KEY_BYTES * 8)


def seal_bytes(key: bytes, plaintext: bytes, context: bytes) -> bytes:
    """``nonce || ciphertext+tag``; ``context`` (authenticated, not stored) binds it to its row."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, context)


def open_bytes(key: bytes, sealed: bytes, context: bytes) -> bytes:
    """The plaintext of ``seal_bytes``; ``cryptography.exceptions.InvalidTag`` if it was changed."""
    return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context)


class KeyWrap:
    """Wraps and unwraps data keys with the hub's own key (from ``HUB_SECRET_KEY``)."""

    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(_WRAP_LABEL + secret_key.encode()).digest()

    def wrap(self, data_key: bytes, key_id: bytes) -> bytes:
        return seal_bytes(self._key, data_key, key_id)

    def unwrap(self, wrapped: bytes, key_id: bytes) -> bytes:
        return open_bytes(self._key, wrapped, key_id)
