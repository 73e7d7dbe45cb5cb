"""Per-key rate limit: the simulator's model of the documented "15 requests/second per key".

The real service documents only the figure and the HTTP 429, so the simulator uses a token
bucket per API key with capacity = rate and refill = rate tokens per second: a client may send
a burst of up to ``rate`` requests at once, then sustain ``rate`` per second on average. A
request over the limit is answered 429 with ``Retry-After: 1`` and costs no token. Rate 0
disables the limit.
"""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """Token buckets keyed by API key (the key itself never leaves this object)."""

    def __init__(self, rate: float) -> None:
        if rate < 0:
            raise ValueError("rate limit must be >= 0")
        self.rate = float(rate)
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)

    def allow(self, key: str) -> bool:
        """Take one token for ``key``; False when its bucket is empty."""
        if self.rate <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.rate, now))
            tokens = min(self.rate, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            return True
