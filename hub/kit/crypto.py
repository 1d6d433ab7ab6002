"""Secrets the hub must read back (webhook signing secrets) are stored encrypted, with a key
derived from ``HUB_SECRET_KEY``: a copy of the database alone does not reveal them."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet

_LABEL = b"hub stored secrets v1"


class SecretBox:
    def __init__(self, secret_key: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(_LABEL + secret_key.encode()).digest()))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()
