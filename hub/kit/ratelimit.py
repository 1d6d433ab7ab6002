"""Rate limits per credential (an API key, an AMQP user): a token bucket per credential, in this
process. Beyond the rate HTTP answers 429 with Retry-After; the AMQP consumer refuses the message
unread with a negative receipt (code ``rate_limited``), and the office sends it again.

Each process of the API keeps its own buckets, so behind N replicas a key may send up to N times
the rate; a shared store (PostgreSQL or Redis) is the step after this one if that matters.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field

from hub.kit.errors import HubError


class TooManyRequests(HubError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    rate: float = 50.0  # requests per second, refilled continuously
    burst: int = 200  # requests allowed at once
    clock: object = field(default=time.monotonic)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def _bucket(self, credential: str) -> _Bucket:
        """The credential's bucket, refilled up to now."""
        key = hashlib.sha256(credential.encode()).hexdigest()
        now: float = self.clock()  # type: ignore[operator]
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        return bucket

    def check(self, credential: str) -> None:
        """Takes one token for ``credential``, or raises 429 with Retry-After (whole seconds)."""
        bucket = self._bucket(credential)
        if bucket.tokens < 1.0:
            wait = math.ceil((1.0 - bucket.tokens) / self.rate)
            raise TooManyRequests(
                f"more than {self.rate:g} requests per second with this key; retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )
        bucket.tokens -= 1.0
