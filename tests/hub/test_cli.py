"""The ``hub`` command line, run as users run it: a subprocess on its own SQLite database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

HUB = [sys.executable, "-m", "hub"]


@pytest.fixture
def hub_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HUB_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", HUB_AMQP_URL="", HUB_ENV="development"
    )
    return env


def hub(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*HUB, *args], env=env, capture_output=True, text=True, timeout=120)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def test_migrate_demo_is_idempotent(hub_env: dict[str, str]) -> None:
    hub(hub_env, "migrate")
    first = hub(hub_env, "demo").stdout
    second = hub(hub_env, "demo").stdout
    assert "3 office(s), 2 creditor(s), 3 case(s) added" in first
    assert "0 office(s), 0 creditor(s), 0 case(s) added" in second
    listing = hub(hub_env, "offices", "list").stdout.splitlines()
    assert [line.split("\t")[0] for line in listing[1:]] == ["CJ13001", "CJ69001", "CJ75001"]


def test_offices_add_keys_create_and_revoke(hub_env: dict[str, str]) -> None:
    hub(hub_env, "migrate")
    added = hub(hub_env, "offices", "add", "CJ33001", "--name", "Étude Bordeaux", "--departements", "33,24")
    assert "office CJ33001 added" in added.stdout
    assert "CJ33001\tÉtude Bordeaux\t24,33\tpull" in hub(hub_env, "offices", "list").stdout

    created = hub(hub_env, "keys", "create", "CJ33001")
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("hub_") and " " not in key
    key_id = key.split("_")[1]
    assert f"API key {key_id} revoked" in hub(hub_env, "keys", "revoke", key_id).stdout


def test_staff_add_prints_a_token_that_opens_staff_routes_only(hub_env: dict[str, str]) -> None:
    hub(hub_env, "migrate")
    added = hub(hub_env, "staff", "add", "claire@agence.example", "--role", "finance")
    token = added.stdout.strip().splitlines()[-1]
    assert " " not in token and len(token) >= 32
    bad_role = hub(hub_env, "staff", "add", "marc@agence.example", "--role", "boss", ok=False)
    assert bad_role.returncode != 0 and "boss" in bad_role.stderr + bad_role.stdout
    checked = subprocess.run(
        [sys.executable, "-c", STAFF_TOKEN_CHECK, token],
        env=hub_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.split() == ["finance", "None"]


# The token printed, checked by the hub's own credential lookups in a process of its own: it is a
# finance staff token, and no office key.
STAFF_TOKEN_CHECK = """
import asyncio, sys
from hub.database import engine_from_settings, session_factory, unit_of_work
from hub.offices import service as offices
from hub.kit.errors import HubError
from hub.settings import get_settings
from hub.staff import service as staff

async def main(token):
    engine = engine_from_settings(get_settings())
    async with unit_of_work(session_factory(engine)) as session:
        user = await staff.authenticate(session, token)
        try:
            office = await offices.authenticate(session, token)
        except HubError:
            office = None
        print(user.role, office)
    await engine.dispose()

asyncio.run(main(sys.argv[1]))
"""


def test_errors_are_clear_and_exit_nonzero(hub_env: dict[str, str]) -> None:
    hub(hub_env, "migrate")
    bad = hub(hub_env, "offices", "add", "bad code", "--name", "X", "--departements", "99", ok=False)
    assert bad.returncode == 1
    assert "office.code_invalid" in bad.stderr and "departements[0]" in bad.stderr
    assert "Traceback" not in bad.stderr
    unknown = hub(hub_env, "keys", "create", "NOPE", ok=False)
    assert unknown.returncode == 1 and "no office with code NOPE" in unknown.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """``hub serve`` (role all: API, relay, sweeper) on ``env``'s database, answering; its URL."""
    port = _free_port()
    env = {**env, "HUB_PORT": str(port)}
    server = subprocess.Popen([*HUB, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
                assert time.monotonic() < deadline, "hub serve did not answer within 30 s"
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_answers_healthz_and_readyz(hub_env: dict[str, str]) -> None:
    """What `make run` does after installing: migrate, demo, serve; then the probes answer 200."""
    hub(hub_env, "migrate")
    hub(hub_env, "demo")
    with serving(hub_env) as url:
        health = httpx.get(f"{url}/healthz", timeout=5)
        ready = httpx.get(f"{url}/readyz", timeout=5)
    assert health.status_code == 200
    assert ready.status_code == 200 and ready.json()["database"] == "up"


def test_webhook_secret_is_printed_once_and_rotation_can_finish(hub_env: dict[str, str]) -> None:
    hub(hub_env, "migrate")
    hub(hub_env, "offices", "add", "CJ33002", "--name", "Étude")
    bad = hub(hub_env, "offices", "webhook", "CJ33002", "--url", "ftp://x", ok=False)
    assert bad.returncode == 1 and "webhook.url_invalid" in bad.stderr
    first = hub(hub_env, "offices", "webhook", "CJ33002", "--url", "https://etude.example/hub").stdout
    assert first.strip().splitlines()[-1].startswith("whsec_")
    rotated = hub(hub_env, "offices", "webhook-rotate", "CJ33002").stdout.strip().splitlines()[-1]
    assert rotated.startswith("whsec_") and rotated not in first
    assert (
        "previous webhook secret dropped"
        in hub(hub_env, "offices", "webhook-rotate", "CJ33002", "--finish").stdout
    )
    assert "webhook" in hub(hub_env, "offices", "list").stdout


def test_offices_update_gives_the_demo_office_what_it_lacks_and_refuses_what_is_wrong(
    hub_env: dict[str, str],
) -> None:
    hub(hub_env, "migrate")
    hub(hub_env, "offices", "add", "CJ33001", "--name", "Étude Bordeaux", "--departements", "33")
    updated = hub(
        hub_env,
        "offices",
        "update",
        "CJ33001",
        "--siret",
        "752 001 909 00015",
        "--iban",
        "FR76 3000 4008 2000 0101 2340 185",
        "--bic",
        "BNPAFRPP",
        "--departements",
        "33,24",
    )
    assert "office CJ33001 updated: bic, departements, iban, siret" in updated.stdout
    assert "CJ33001\tÉtude Bordeaux\t24,33\tpull" in hub(hub_env, "offices", "list").stdout
    same = hub(hub_env, "offices", "update", "CJ33001", "--bic", "BNPAFRPP")
    assert "office CJ33001: nothing changed" in same.stdout

    wrong = hub(hub_env, "offices", "update", "CJ33001", "--siret", "12345678901234", "--bic", "XX", ok=False)
    assert wrong.returncode == 1
    assert "siret:" in wrong.stderr and "[office.siret_invalid]" in wrong.stderr
    assert "bic:" in wrong.stderr and "[office.bic_invalid]" in wrong.stderr
    unknown = hub(hub_env, "offices", "update", "CJ00000", "--name", "X", ok=False)
    assert unknown.returncode == 1 and "no office with code CJ00000" in unknown.stderr
    nobody = hub(hub_env, "offices", "update", "CJ33001", "--name", "Y", "--by", "nobody@x.example", ok=False)
    assert nobody.returncode == 1 and "no active staff member" in nobody.stderr
    added = hub(hub_env, "offices", "add", "CJ33001", "--name", "Again", ok=False)
    assert "already exists" in added.stderr and "hub offices update" in added.stderr
