"""Logs as an operator meets them: an unexpected error in a route served by uvicorn is one JSON line
with its traceback, the command line's logs go to stderr and never mix with its output."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.conftest import sqlite_database
from tests.hub.test_cli import HUB, _free_port, hub, hub_env  # noqa: F401 - the CLI fixture

# A hub with two extra routes, one that fails and one that logs a line of its own, served as
# `hub serve` serves it (uvicorn, log_config=None).
TEST_APP = """
import sys
import structlog
import uvicorn
from hub.app import create_app
from hub.settings import Settings

app = create_app(Settings(env="test", database_url=sys.argv[1], secret_key="e" * 40, role="api"))

@app.get("/v1/boom/{thing}")
async def boom(thing: str) -> None:
    raise RuntimeError("the ledger is on fire")

@app.get("/v1/said/{thing}")
async def said(thing: str) -> None:
    structlog.get_logger().info("said", thing=thing)

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_config=None)
"""


def _served(
    tmp_path: Path, path: str, headers: dict[str, str], env: dict[str, str] | None = None
) -> tuple[httpx.Response, list[str]]:
    """The answer to GET ``path`` from ``TEST_APP`` in a process of its own, and every line it logged."""
    port = _free_port()
    url = asyncio.run(sqlite_database(tmp_path))
    stderr = tempfile.TemporaryFile()
    server = subprocess.Popen(
        [sys.executable, "-c", TEST_APP, url, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        env={**os.environ, **(env or {})},
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    assert server.poll() is None and time.monotonic() < deadline, "no answer"
                    time.sleep(0.2)
            answer = client.get(path, headers=headers)
    finally:
        server.terminate()
        server.wait(timeout=15)
    stderr.seek(0)
    return answer, stderr.read().decode().splitlines()


def test_an_unexpected_error_is_one_json_line_with_its_traceback(tmp_path: Path) -> None:
    answer, lines = _served(tmp_path, "/v1/boom/42", {"X-Request-ID": "boom-1"})
    assert answer.status_code == 500 and answer.json()["code"] == "internal_error"
    assert answer.headers["X-Request-ID"] == "boom-1"
    records = [json.loads(line) for line in lines]  # every line is JSON, uvicorn's too
    about_it = [line for line in lines if "on fire" in line]
    assert len(about_it) == 1, lines
    [failed] = [r for r in records if "on fire" in json.dumps(r)]
    assert failed["event"] == "request" and failed["level"] == "error"
    assert (failed["route"], failed["status"], failed["correlation_id"]) == (
        "/v1/boom/{thing}",
        500,
        "boom-1",
    )
    assert failed["exception"].startswith("Traceback") and "RuntimeError" in failed["exception"]
    assert any(r["event"] == "Application startup complete." for r in records)  # uvicorn's, as JSON
    assert not any("trace_id" in r for r in records)  # no traces without an endpoint


def test_with_traces_on_each_line_of_a_request_names_its_trace(tmp_path: Path) -> None:
    """The trace an upstream started (W3C ``traceparent``) is on the line logged inside the request,
    with its span, and on the request's own line: an operator goes from a log line to its trace."""
    trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    answer, lines = _served(
        tmp_path,
        "/v1/said/hello",
        {"traceparent": f"00-{trace_id}-{parent}-01", "X-Request-ID": "said-1"},
        # Traces on, exported nowhere (a closed port): the spans are made, their export fails quietly.
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_BSP_SCHEDULE_DELAY": "60000"},
    )
    assert answer.status_code == 200, answer.text
    records = [json.loads(line) for line in lines if line.startswith("{")]
    [inside] = [r for r in records if r["event"] == "said"]
    [request] = [r for r in records if r["event"] == "request" and r.get("correlation_id") == "said-1"]
    assert inside["trace_id"] == request["trace_id"] == trace_id
    assert len(inside["span_id"]) == 16 and inside["span_id"] != parent  # the server's span, a child
    assert inside["thing"] == "hello" and request["route"] == "/v1/said/{thing}"


def test_the_command_line_logs_on_stderr_only(hub_env: dict[str, str]) -> None:  # noqa: F811
    hub(hub_env, "migrate")
    hub(hub_env, "offices", "add", "CJ33001", "--name", "Étude Bordeaux")
    updated = hub(hub_env, "offices", "update", "CJ33001", "--name", "Étude Bordeaux-Lac")
    assert updated.stdout == "office CJ33001 updated: name\n"
    [logged] = [json.loads(line) for line in updated.stderr.splitlines() if "office_updated" in line]
    assert logged["office"] == "CJ33001" and logged["level"] == "info"


def test_no_endpoint_sets_no_tracing_up() -> None:
    """Not even imported: a hub without a collector pays nothing for traces (FastAPI imports the
    OpenTelemetry API itself when it is installed; the SDK and the instrumentations stay out)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "HUB_OTEL"))}
    check = (
        "import sys\n"
        "OURS = ('opentelemetry.sdk', 'opentelemetry.instrumentation')\n"
        "from hub.app import create_app\n"
        "from hub.settings import Settings\n"
        "app = create_app(Settings(env='test', secret_key='e' * 40))\n"
        "print(app.state.tracer_provider, [m for m in sys.modules if m.startswith(OURS)])\n"
    )
    done = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None []"
    configured = subprocess.run(
        [sys.executable, "-c", check],
        env={**env, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert configured.returncode == 0 and configured.stdout.startswith(
        "<opentelemetry.sdk.trace.TracerProvider"
    )
