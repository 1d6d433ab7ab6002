"""A rotation of HUB_SECRET_KEY: the cases' data keys wrapped with the old secret still open while it
is listed in HUB_PREVIOUS_SECRET_KEYS, new keys are wrapped with the new one, and without the old
secret the refusal says which setting is missing."""

from __future__ import annotations

import uuid

import pytest

from hub.kit.crypto import new_data_key
from hub.messaging import sealing
from hub.settings import Settings

OLD, NEW = "o" * 40, "n" * 40


def test_a_key_wrapped_before_a_rotation_opens_with_the_previous_secret_only() -> None:
    case_id, data_key = uuid.uuid4(), new_data_key()
    wrapped = sealing._wrap(OLD).wrap(data_key, case_id.bytes)
    assert sealing._unwrap((NEW, OLD), wrapped, case_id) == data_key
    with pytest.raises(sealing.KeyUnusable, match="HUB_PREVIOUS_SECRET_KEYS"):
        sealing._unwrap((NEW,), wrapped, case_id)


def test_the_current_secret_wraps_and_the_previous_ones_only_open() -> None:
    before = list(sealing._configured)  # what the test session's app configured: put back after
    sealing.use_secret_key(NEW, [OLD])
    try:
        assert sealing._secret_keys() == (NEW, OLD)
        assert sealing._secret_key() == NEW
    finally:
        sealing._configured[:] = before
    settings = Settings(secret_key=NEW, previous_secret_keys=f" {OLD} ,, x{'y' * 39} ")
    assert settings.previous_secrets() == [OLD, "x" + "y" * 39]
