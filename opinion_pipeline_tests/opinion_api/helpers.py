"""Helpers shared by the API client's integration tests (simulator on loopback)."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

from opinion_pipeline.opinion_api import OpinionAPI


def distinctive_key() -> str:
    """A key easy to grep for in any output the tests capture."""
    return f"sk-apitest-{secrets.token_hex(10)}"


def key_id(key: str) -> str:
    """How the simulator's counters name a key (sha256:<12 hex>)."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:12]


def counters_for(sim: Any, key: str) -> dict[str, int]:
    empty = dict.fromkeys(sim.counters()["total"], 0)
    return sim.counters()["by_key"].get(key_id(key), empty)


def make_api(sim: Any, key: str, limiter_dir: Path, **overrides: Any) -> OpinionAPI:
    """A client tuned for tests: fast backoff, generous pacing unless a test sets it."""
    options: dict[str, Any] = {
        "base_url": sim.base_url,
        "api_key": key,
        "leaderboard_url": sim.leaderboard_url,
        "limiter_dir": str(limiter_dir),
        "rate_limit_per_second": 500.0,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
        "read_timeout_s": 5.0,
    }
    options.update(overrides)
    return OpinionAPI(**options)


def api_form(truth_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Truth trades as the trades route shows them (no walletAddress column)."""
    return [{k: v for k, v in row.items() if k != "walletAddress"} for row in truth_rows]
