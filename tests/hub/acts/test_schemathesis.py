"""Property-based checks of the office and messaging routes from /openapi.json (schemathesis): for
every operation, generated requests never get a 5xx and every response matches the documented
schema. Runs against a real `hub serve` (SQLite, no broker) with an office key."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.hub.test_cli import hub

# The routes an office's software calls, and the message store (issue 4); staff routes belong to
# the mandates and cases tests.
OFFICE_PATHS = (
    r"^/v1/(act-reports|mandate-acks|hold-notice-acks|cost-requests|batches|messages|inbox|receipts"
    r"|invoices|inventory)"
)
EXAMPLES = int(os.environ.get("HUB_SCHEMATHESIS_EXAMPLES", "200"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("schemathesis")
    env = dict(os.environ)
    env.update(
        HUB_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'hub.db'}",
        HUB_AMQP_URL="",
        HUB_ENV="development",
        HUB_LOG_LEVEL="WARNING",
    )
    hub(env, "migrate")
    hub(env, "offices", "add", "CJ75001", "--name", "Étude de Paris", "--departements", "75")
    key = hub(env, "keys", "create", "CJ75001").stdout.strip().splitlines()[-1]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "hub", "serve", "--port", str(port), "--role", "api"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "server.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, key
    finally:
        server.terminate()
        server.wait(timeout=10)
        print(Path(folder / "server.log").read_text()[-3000:])


def test_office_routes_never_fail_and_match_their_schema(live_hub: tuple[str, str]) -> None:
    url, key = live_hub
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json").include(path_regex=OFFICE_PATHS)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 8
    timings = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def check(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(
                base_url=url,
                headers={"Authorization": f"Bearer {key}"},
                checks=[not_a_server_error, response_schema_conformance],
            )

        started = time.perf_counter()
        check()
        timings[operation.label] = round(time.perf_counter() - started, 1)
    print(f"schemathesis, {EXAMPLES} examples per operation, seconds: {timings}")
