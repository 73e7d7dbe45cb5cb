"""Simulated time: a start instant, a speed, and manual jumps forward.

Tests freeze time (speed 0) and move it with ``advance`` so that what the API shows is exactly
reproducible; demos and benchmarks let it run (speed 1 or faster) so new trades keep arriving.
"""

from __future__ import annotations

import threading
import time


class SimClock:
    """Simulated epoch seconds = start + speed x real seconds elapsed + manual advances."""

    def __init__(self, start: float, speed: float = 1.0) -> None:
        if speed < 0:
            raise ValueError("clock speed must be >= 0")
        self._lock = threading.Lock()
        self._base = float(start)  # simulated time at the anchor
        self._anchor = time.monotonic()
        self._speed = float(speed)

    def _now_locked(self) -> float:
        return self._base + (time.monotonic() - self._anchor) * self._speed

    def now(self) -> int:
        """Current simulated time in whole Unix seconds (what the API shows)."""
        with self._lock:
            return int(self._now_locked())

    def seconds(self) -> float:
        """Current simulated time in fractional Unix seconds (the rate limiter's clock)."""
        with self._lock:
            return self._now_locked()

    @property
    def speed(self) -> float:
        return self._speed

    def advance(self, seconds: float) -> None:
        """Jump forward; time never goes back, so trades already served stay served."""
        if seconds < 0:
            raise ValueError("advance_seconds must be >= 0")
        with self._lock:
            self._base += seconds

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        with self._lock:
            self._base = self._now_locked()
            self._anchor = time.monotonic()
            self._speed = float(speed)

    def snapshot(self) -> dict[str, float | int]:
        with self._lock:
            now = self._now_locked()
            return {"now": int(now), "now_s": round(now, 3), "speed": self._speed}
