"""Request counters, in total, per API key fingerprint and per route.

Tests and benchmarks read them to check what a client really sent (how many requests, how many
429s it provoked, how many faults it met). Keys appear only as ``sha256:<12 hex>``.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

FIELDS = (
    "requests", "ok", "rate_limited", "burst_429", "unauthorized", "bad_request", "not_found",
    "server_errors", "errno_errors", "region_refused", "dropped", "truncated", "malformed_rows",
)  # fmt: skip


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total: Counter[str] = Counter()
        self._by_key: dict[str, Counter[str]] = {}
        self._by_route: dict[str, Counter[str]] = {}

    def add(self, key_id: str, route: str, field: str, amount: int = 1) -> None:
        if field not in FIELDS:  # pragma: no cover - programming error
            raise KeyError(field)
        with self._lock:
            self._total[field] += amount
            self._by_key.setdefault(key_id, Counter())[field] += amount
            self._by_route.setdefault(route, Counter())[field] += amount

    def reset(self) -> None:
        with self._lock:
            self._total.clear()
            self._by_key.clear()
            self._by_route.clear()

    def snapshot(self) -> dict[str, Any]:
        def full(counter: Counter[str]) -> dict[str, int]:
            return {field: counter[field] for field in FIELDS}

        with self._lock:
            return {
                "total": full(self._total),
                "by_key": {key: full(value) for key, value in sorted(self._by_key.items())},
                "by_route": {name: full(value) for name, value in sorted(self._by_route.items())},
            }
