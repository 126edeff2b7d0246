"""A token bucket: at most ``rate`` messages per second towards one destination.

Some hospital interfaces fall over when a backlog arrives at wire speed after an outage, so a
destination may set ``rate_limit``. The bucket holds ``burst`` tokens (default one: sends are
evenly spaced ``1/rate`` apart, no burst after a quiet period); every attempt, first try or
retry, takes one. All connections of a destination share one bucket, so the limit is per
destination, not per connection. The clock and sleep are injectable so it is tested alone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

_EPSILON = 1e-9


class TokenBucket:
    def __init__(
        self,
        rate: float,
        *,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError("rate must be positive")
        if not burst >= 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = burst
        self._stamp = clock()
        self._lock = asyncio.Lock()  # waiters are served in arrival order

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def try_acquire(self) -> bool:
        """Take a token if one is there, without waiting."""
        self._refill()
        if self._tokens >= 1 - _EPSILON:  # 0.1 s * 10/s may come out as 0.999...
            self._tokens = max(0.0, self._tokens - 1)
            return True
        return False

    async def acquire(self) -> None:
        """Wait until a token is there and take it."""
        async with self._lock:
            while not self.try_acquire():
                await self._sleep((1 - self._tokens) / self.rate)
