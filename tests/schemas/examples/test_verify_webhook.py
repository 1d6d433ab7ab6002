"""The sample webhook receiver for offices, behind a real HTTP server on loopback, pushed to by the
hub's own signing push (``adapters.webhooks``): a redelivery of a processed id is answered 2xx
and not processed again, a forged push is refused, a failed processing is tried again."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from adapters.webhooks import PushResult, new_secret, push
from schemas.examples.verify_webhook import WebhookVerifier

SECRET = new_secret()


@dataclass
class Office:
    """An office's endpoint running the sample receiver; ``fail`` makes its processing raise."""

    url: str = ""
    verifier: WebhookVerifier = field(default_factory=lambda: WebhookVerifier([SECRET]))
    processed: list[bytes] = field(default_factory=list)
    fail: int = 0

    def process(self, body: bytes) -> None:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("the office's database is down")
        self.processed.append(body)


@pytest.fixture
def office() -> Iterator[Office]:
    state = Office()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            try:
                status = state.verifier.receive(dict(self.headers.items()), body, state.process)
            except RuntimeError:
                status = 500
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hub"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()


async def pushed(office: Office, webhook_id: str, body: bytes, secret: str = SECRET) -> PushResult:
    async with httpx.AsyncClient() as client:
        return await push(client, office.url, [secret], webhook_id, int(time.time()), body, "application/xml")


async def test_a_redelivered_webhook_id_is_acknowledged_and_not_processed_twice(office: Office) -> None:
    first = await pushed(office, "msg_1", b"<mandate>1</mandate>")
    again = await pushed(office, "msg_1", b"<mandate>1</mandate>")  # the hub's retry, signed anew
    assert first.delivered and again.delivered and (first.status, again.status) == (200, 200)
    assert office.processed == [b"<mandate>1</mandate>"]
    assert (await pushed(office, "msg_2", b"<mandate>2</mandate>")).delivered
    assert office.processed == [b"<mandate>1</mandate>", b"<mandate>2</mandate>"]


async def test_a_forged_push_is_refused_even_with_a_processed_id(office: Office) -> None:
    assert (await pushed(office, "msg_1", b"<m/>")).delivered
    forged = await pushed(office, "msg_1", b"<m/>", secret=new_secret())
    assert forged.status == 401 and not forged.delivered
    assert (await pushed(office, "msg_3", b"<m/>", secret=new_secret())).status == 401
    assert office.processed == [b"<m/>"]


async def test_a_push_whose_processing_failed_is_processed_on_the_retry(office: Office) -> None:
    office.fail = 1
    failed = await pushed(office, "msg_1", b"<m/>")
    assert failed.status == 500 and not failed.delivered and office.processed == []
    assert (await pushed(office, "msg_1", b"<m/>")).delivered
    assert office.processed == [b"<m/>"]
