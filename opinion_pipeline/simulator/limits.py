"""Per-key rate limit: the simulator's model of the documented "15 requests/second per key".

The real service documents only the figure and the HTTP 429, so the simulator uses a token
bucket per API key with capacity = rate and refill = rate tokens per second: a client may send
a burst of up to ``rate`` requests at once, then sustain ``rate`` per second on average. A
request over the limit is answered 429 with ``Retry-After: 1`` and costs no token. Rate 0
disables the limit.

The bucket refills on real time by default. A benchmark that runs simulated time faster than
real time (``--clock-speed 6``) can refill it on the simulated clock instead
(``--rate-limit-clock simulated``): the key then gets ``rate`` requests per *simulated* second,
so a 30-minute simulated run at the venue's limit takes 30 / speed real minutes. With a frozen
clock such a bucket never refills.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Token buckets keyed by API key (the key itself never leaves this object)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate < 0:
            raise ValueError("rate limit must be >= 0")
        self.rate = float(rate)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)

    def allow(self, key: str) -> bool:
        """Take one token for ``key``; False when its bucket is empty."""
        if self.rate <= 0:
            return True
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.rate, now))
            tokens = min(self.rate, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            return True
