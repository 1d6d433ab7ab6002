"""A rotation of HUB_SECRET_KEY: the cases' data keys wrapped with the old secret still open while it
is listed in HUB_PREVIOUS_SECRET_KEYS, new keys are wrapped with the new one, and without the old
secret the refusal says which setting is missing; ``hub secrets rewrap`` then wraps the old keys and
webhook secrets again with the new secret, so that the old one can go."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from hub.database import create_engine, session_factory, unit_of_work
from hub.kit.crypto import SecretBox, new_data_key
from hub.mandates import service as mandates
from hub.mandates.service import MandateIn
from hub.messaging import sealing
from hub.messaging.repository import MessageRepository
from hub.offices import service as offices
from hub.offices.repository import OfficeRepository
from hub.settings import Settings
from tests.conftest import database_like
from tests.hub.mandates.factories import a_case, new_code

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


def hub_as_operator(
    url: str, secret: str, *args: str, previous: str = ""
) -> subprocess.CompletedProcess[str]:
    """``hub ARGS`` as an operator runs it, with ``secret`` as HUB_SECRET_KEY (and ``previous``)."""
    env = {
        **os.environ,
        "HUB_DATABASE_URL": url,
        "HUB_SECRET_KEY": secret,
        "HUB_PREVIOUS_SECRET_KEYS": previous,
        "HUB_AMQP_URL": "",
        "HUB_ENV": "development",
    }
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], env=env, capture_output=True, text=True, timeout=120
    )


def rewrap(url: str, secret: str, previous: str = "") -> subprocess.CompletedProcess[str]:
    """``hub secrets rewrap``, after setting the new secret."""
    return hub_as_operator(url, secret, "secrets", "rewrap", previous=previous)


@asynccontextmanager
async def secret_in_use(secret: str, previous: list[str] | None = None) -> AsyncIterator[None]:
    before = list(sealing._configured)  # what the test session's app configured: put back after
    sealing.use_secret_key(secret, previous or [])
    try:
        yield
    finally:
        sealing._configured[:] = before


async def test_rewrap_lets_the_previous_secret_go_and_changes_no_body_nor_office_secret(
    database_url: str, tmp_path: Path
) -> None:
    """Before: a case's mandate sealed, an office's webhook secret sealed, an erased case, all under
    OLD. ``hub secrets rewrap`` with NEW (OLD listed as previous) wraps them again; afterwards NEW
    alone opens everything, the bodies and the office's secret are the same, the erased case stays
    erased, and a second run finds everything current. A secret that opens nothing is refused,
    naming the setting, and nothing changes."""
    async with database_like(database_url, tmp_path) as url:
        engine = create_engine(url)
        sessions = session_factory(engine)
        try:
            async with secret_in_use(OLD):
                async with unit_of_work(sessions) as session:
                    office = new_code()
                    await offices.add_office(session, code=office, name="Étude Rotation")
                    webhook = await offices.set_webhook(
                        session, SecretBox(OLD), office, "https://office.example/hook"
                    )
                    case = await a_case(session)
                    mandate = await mandates.create_mandate(
                        session,
                        MandateIn(
                            case_ref=case.ref, office_code=office, kind="per_act", acts=["SERVE_TITLE"]
                        ),
                        actor="ops@agence.example",
                    )
                    gone = await a_case(session)
                    await sealing.load_keys(session, [gone.id], create=True)
                    await sealing.destroy_key(session, gone.id)
                async with unit_of_work(sessions) as session:
                    [sent] = await MessageRepository(session).case_messages(case.id)
                    assert sent.sealed and mandate.ref.encode() in await sealing.open_body(session, sent)
                    body = await sealing.open_body(session, sent)

            wrong = rewrap(url, "w" * 40)
            assert wrong.returncode == 1
            assert "HUB_PREVIOUS_SECRET_KEYS" in wrong.stderr and str(case.id) in wrong.stderr
            assert f"webhook secrets of {office}" in wrong.stderr

            done = rewrap(url, NEW, OLD)
            assert done.returncode == 0, done.stderr
            assert "case keys: 1 re-wrapped, 0 current already" in done.stdout
            assert "webhook secrets: 1 re-sealed, 0 current already" in done.stdout
            assert "HUB_PREVIOUS_SECRET_KEYS can be emptied" in done.stderr

            async with secret_in_use(NEW), unit_of_work(sessions) as session:
                [stored] = await MessageRepository(session).case_messages(case.id)
                assert stored.body == sent.body  # the body itself is not rewritten
                assert await sealing.open_body(session, stored) == body
                assert (await MessageRepository(session).case_keys([gone.id])) == {gone.id: None}
                found = await OfficeRepository(session).get_by_code(office)
                assert found is not None and [SecretBox(NEW).open(t) for t in found.webhook_secrets] == [
                    webhook
                ]

            again = rewrap(url, NEW)  # the previous secret dropped already
            assert again.returncode == 0, again.stderr
            assert "case keys: 0 re-wrapped, 1 current already" in again.stdout
            assert "webhook secrets: 0 re-sealed, 1 current already" in again.stdout
        finally:
            await engine.dispose()
