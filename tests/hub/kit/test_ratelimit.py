"""The token bucket of both transports (per API key over HTTP, per AMQP user over AMQP)."""

from __future__ import annotations

import pytest

from hub.kit.ratelimit import RateLimiter, TooManyRequests


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_http_is_refused_beyond_the_burst_until_the_bucket_refills() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=2, clock=clock)
    limiter.check("key-a")
    limiter.check("key-a")
    with pytest.raises(TooManyRequests) as refused:
        limiter.check("key-a")
    assert refused.value.headers == {"Retry-After": "1"}
    limiter.check("key-b")  # buckets are per credential
    clock.now += 0.5  # one token back at 2 per second
    limiter.check("key-a")
