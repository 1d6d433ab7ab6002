"""The token bucket both transports share: HTTP refuses beyond the rate, AMQP waits its turn."""

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


def test_amqp_waits_in_turn_beyond_the_burst_and_what_it_owes_is_paid_back_first() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=4.0, burst=2, clock=clock)
    waits = [limiter.reserve("amqp:CJ75001") for _ in range(5)]
    assert waits == [0.0, 0.0, 0.25, 0.5, 0.75]  # one per 1/rate s, in the order they came
    assert limiter.reserve("amqp:CJ13001") == 0.0
    clock.now += 0.5  # two of the three tokens owed are paid back
    assert limiter.reserve("amqp:CJ75001") == 0.5
    with pytest.raises(TooManyRequests):  # a refusal does not jump the queue the waiting ones hold
        limiter.check("amqp:CJ75001")
