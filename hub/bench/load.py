"""``python -m hub.bench.load '{...}'``: the load generator, in a process of its own so it does not
share the server's event loop. ``clients`` connections POST to ``url``, client ``i`` sending
``bodies[i % len(bodies)]`` with ``headers[i % len(headers)]`` (one office each: the hub limits the
rate per key); ``__N__`` is replaced by a number unique to each request, ``__M__`` by that number
modulo ``modulo``. It stops once ``requests`` are sent or ``seconds`` have passed, whichever comes
first, and prints one JSON object: sent, its own CPU seconds (the load generator's: does it bound
the run?), statuses, refusals (each problem code answered, counted), seconds, latencies (seconds,
one per request).

Loopback only, bounded in count and time (TESTING.md)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import httpx


async def load(
    url: str,
    bodies: list[str],
    headers: list[dict[str, str]],
    clients: int,
    requests: int,
    seconds: float,
    modulo: int = 1,
) -> dict[str, Any]:
    host = urlsplit(url).hostname or ""
    if not host.startswith("127."):
        raise SystemExit(f"load only against loopback, not {host}")
    statuses: Counter[int] = Counter()
    refusals: Counter[str] = Counter()
    latencies: list[float] = []
    next_n = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def worker(i: int) -> None:
            nonlocal next_n
            while next_n < requests and time.perf_counter() < deadline:
                next_n += 1
                content = bodies[i % len(bodies)].replace("__N__", str(next_n))
                content = content.replace("__M__", str(next_n % modulo))
                sent = time.perf_counter()
                try:
                    answer = await client.post(url, content=content, headers=headers[i % len(headers)])
                    statuses[answer.status_code] += 1
                    if answer.status_code >= 400:
                        refusals[_problem_code(answer)] += 1
                except httpx.HTTPError:
                    statuses[0] += 1
                latencies.append(time.perf_counter() - sent)

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


def _problem_code(answer: httpx.Response) -> str:
    """The machine-readable code of a refusal (problem+json ``code``), else its status."""
    try:
        return str(answer.json().get("code") or answer.status_code)
    except ValueError:
        return str(answer.status_code)


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(load(**spec))))
