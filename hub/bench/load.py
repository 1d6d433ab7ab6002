"""``python -m hub.bench.load '{...}'``: the load generator, in a process of its own so it does not
share the server's event loop. ``clients`` connections POST to ``url``, client ``i`` sending
``bodies[i % len(bodies)]`` with ``headers[i % len(headers)]`` (one office each: the hub limits the
rate per key); ``__N__`` is replaced by a number unique to each request, ``__M__`` by that number
modulo ``modulo``. It stops once ``requests`` are sent or ``seconds`` have passed, whichever comes
first, and prints one JSON object: sent, its own CPU seconds (the load generator's: does it bound
the run?), statuses, refusals (each problem code answered, counted), seconds, latencies (seconds,
one per request).

Each client is one keep-alive HTTP/1.1 connection spoken with h11 (the protocol state machine
uvicorn and httpx are built on) over asyncio streams: about 0.1 ms of CPU a request, where httpx's
client spent 1.6-3.1 ms, so that a whole core of the two went to the generator and it, not the
server, set the bare route's limit (docs/adr/0020-http-load-generator.md). A connection the server
closes counts as status 0 and is opened again.

Loopback only, bounded in count and time (TESTING.md)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import h11

READ_BYTES = 65536


class _Closed(Exception):
    """The server closed the connection before answering in full."""


class _Client:
    """One keep-alive connection: a request sent, its answer read whole."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.connection = h11.Connection(h11.CLIENT)

    async def post(self, target: str, headers: list[tuple[str, str]], content: bytes) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
            self.connection = h11.Connection(h11.CLIENT)
        reader, writer = self.streams
        request = h11.Request(method="POST", target=target, headers=headers)
        writer.write(
            self.connection.send(request)
            + self.connection.send(h11.Data(data=content))
            + self.connection.send(h11.EndOfMessage())
        )
        status, body = 0, bytearray()
        while True:
            event = self.connection.next_event()
            if event is h11.NEED_DATA:
                self.connection.receive_data(await reader.read(READ_BYTES))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                await self.close()
                raise _Closed
        if self.connection.our_state is h11.MUST_CLOSE:
            await self.close()
        else:
            self.connection.start_next_cycle()
        return status, bytes(body)

    async def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def load(
    url: str,
    bodies: list[str],
    headers: list[dict[str, str]],
    clients: int,
    requests: int,
    seconds: float,
    modulo: int = 1,
) -> dict[str, Any]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host.startswith("127."):
        raise SystemExit(f"load only against loopback, not {host}")
    port, target = parts.port or 80, parts.path or "/"
    statuses: Counter[int] = Counter()
    refusals: Counter[str] = Counter()
    latencies: list[float] = []
    next_n = 0
    deadline = time.perf_counter() + seconds

    async def worker(i: int) -> None:
        nonlocal next_n
        client = _Client(host, port)
        fixed = [("Host", f"{host}:{port}"), *headers[i % len(headers)].items()]
        try:
            while next_n < requests and time.perf_counter() < deadline:
                next_n += 1
                content = bodies[i % len(bodies)].replace("__N__", str(next_n))
                data = content.replace("__M__", str(next_n % modulo)).encode()
                sent = time.perf_counter()
                try:
                    status, body = await client.post(
                        target, [*fixed, ("Content-Length", str(len(data)))], data
                    )
                except (OSError, _Closed, h11.ProtocolError):
                    await client.close()
                    status, body = 0, b""
                statuses[status] += 1
                if status >= 400:
                    refusals[_problem_code(status, body)] += 1
                latencies.append(time.perf_counter() - sent)
        finally:
            await client.close()

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "sent": len(latencies),
        "cpu_seconds": cpu,
        "statuses": {str(code): n for code, n in sorted(statuses.items())},
        "refusals": dict(refusals.most_common()),
        "seconds": elapsed,
        "latencies": latencies,
    }


def _problem_code(status: int, body: bytes) -> str:
    """The machine-readable code of a refusal (problem+json ``code``), else its status."""
    try:
        answer = json.loads(body)
    except ValueError:
        return str(status)
    return str(answer.get("code") or status) if isinstance(answer, dict) else str(status)


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(load(**spec))))
