"""Thread-safe request counters of one client, reported as Dagster metadata by the assets."""

from __future__ import annotations

import threading


class Stats:
    """Thread-safe counters; ``snapshot()`` is a plain dict of numbers for Dagster metadata."""

    FIELDS = (
        "requests",
        "retries",
        "rate_limited",
        "errors",
        "timeouts",
        "connection_errors",
        "truncated",
        "server_errors",
        "application_errors",
        "limiter_wait_s",
        "backoff_wait_s",
        "pages",
        "shift_duplicates_dropped",
        "restarts",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, float] = dict.fromkeys(self.FIELDS, 0)

    def add(self, name: str, amount: float = 1) -> None:
        with self._lock:
            self._values[name] = self._values.get(name, 0) + amount

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            out = dict(self._values)
        for name in ("limiter_wait_s", "backoff_wait_s"):
            out[name] = round(float(out[name]), 6)
        return out

    def reset(self) -> None:
        with self._lock:
            self._values = dict.fromkeys(self.FIELDS, 0)
