"""The bench's load generator against a small HTTP/1.1 server of the test's own: every answer
counted by status, a refusal by its problem code, a connection the server closes counted as status
0 and opened again, and no more requests than asked."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import h11
import pytest

from hub.bench.load import load


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers ``/ok`` 202, ``/refused`` 422 problem+json; ``/closing`` closes every second
    connection's first request unanswered."""
    connection = h11.Connection(h11.SERVER)
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(65536)
            if not data:
                break
            connection.receive_data(data)
        elif isinstance(event, h11.Request):
            target, number = event.target.decode(), 0
        elif isinstance(event, h11.Data):
            number = int(json.loads(event.data)["n"])
        elif isinstance(event, h11.EndOfMessage):
            if target == "/closing" and number % 2:
                break
            status, body = (422, {"code": "demo.refused"}) if target == "/refused" else (202, {"n": number})
            content = json.dumps(body).encode()
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(content)))]
            writer.write(
                connection.send(h11.Response(status_code=status, headers=headers))
                + connection.send(h11.Data(data=content))
                + connection.send(h11.EndOfMessage())
            )
            connection.start_next_cycle()
        elif isinstance(event, h11.ConnectionClosed):
            break
    writer.close()


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


async def test_every_answer_is_counted_by_status_and_a_refusal_by_its_code(base_url: str) -> None:
    spec = {"bodies": ['{"n": __N__}'], "headers": [{"Content-Type": "application/json"}], "seconds": 30}
    accepted = await load(url=f"{base_url}/ok", clients=4, requests=40, **spec)
    assert accepted["sent"] == 40 and accepted["statuses"] == {"202": 40} and accepted["refusals"] == {}
    assert len(accepted["latencies"]) == 40 and accepted["cpu_seconds"] > 0

    refused = await load(url=f"{base_url}/refused", clients=3, requests=7, **spec)
    assert refused["statuses"] == {"422": 7} and refused["refusals"] == {"demo.refused": 7}


async def test_a_connection_the_server_closes_counts_as_status_0_and_is_opened_again(base_url: str) -> None:
    answer = await load(
        url=f"{base_url}/closing",
        bodies=['{"n": __N__}'],
        headers=[{}],
        clients=2,
        requests=20,
        seconds=30,
    )
    # Odd numbers are closed unanswered, even ones answered, on a new connection each time.
    assert answer["sent"] == 20 and answer["statuses"] == {"0": 10, "202": 10}


async def test_loopback_only() -> None:
    with pytest.raises(SystemExit, match="loopback"):
        await load(url="http://192.0.2.1/ok", bodies=["{}"], headers=[{}], clients=1, requests=1, seconds=1)
