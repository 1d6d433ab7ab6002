"""Fixtures of the messaging tests: an office's webhook endpoint, a real HTTP server on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hub import bootstrap


@pytest.fixture(autouse=True)
def routing_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The messaging tests check the path every message takes, not what a kind means: no domain
    handler runs (act reports, acknowledgements... have tests of their own in their modules)."""
    monkeypatch.setattr(bootstrap, "KINDS", {})


@dataclass
class Endpoint:
    url: str
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 200
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    state = Endpoint(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(state.statuses.pop(0) if state.statuses else 200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        # Connections waiting to be accepted: a pusher's round opens up to its batch (50) at once,
        # and beyond the default 5 some were refused (their pushes failed) while the first were read.
        request_queue_size = 128

    server = Server(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hub-events"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
