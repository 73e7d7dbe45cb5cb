"""Every environment variable the pipeline reads, in one place.

Values are read when called, not at import, so a test (or a user editing their shell) gets
what is set now. The API key is deliberately absent: it is read by Dagster through
``EnvVar("OPINION_API_KEY")`` so that the UI shows the variable's name, never its value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PRODUCTION_BASE_URL = "https://openapi.opinion.trade/openapi"


class SettingsError(ValueError):
    """An environment variable holds a value the pipeline cannot use."""


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw!r} must be at least {minimum}")
    return value


def _env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw!r} must be at least {minimum}")
    return value


def data_dir() -> Path:
    """Root of everything the pipeline writes besides the Dagster instance."""
    return Path(_env("OPINION_DATA_DIR") or "data").expanduser().resolve()


def warehouse_path() -> Path:
    raw = _env("OPINION_WAREHOUSE_PATH")
    return Path(raw).expanduser().resolve() if raw else data_dir() / "warehouse.duckdb"


def archive_dir() -> Path:
    raw = _env("OPINION_ARCHIVE_DIR")
    return Path(raw).expanduser().resolve() if raw else data_dir() / "archive"


def whales_file() -> Path:
    return Path(_env("OPINION_WHALES_FILE") or "whales.csv").expanduser().resolve()


def api_base_url() -> str:
    return _env("OPINION_API_BASE_URL") or PRODUCTION_BASE_URL


@dataclass(frozen=True)
class PipelineSettings:
    """Tunables of the sync, retention and alerting logic (not connection details)."""

    whale_alert_usd: float
    retention_days: int
    sync_workers: int
    inactive_after_days: int
    inactive_poll_minutes: int

    @classmethod
    def from_env(cls) -> PipelineSettings:
        return cls(
            whale_alert_usd=_env_float("OPINION_WHALE_ALERT_USD", 10_000.0),
            retention_days=_env_int("OPINION_RETENTION_DAYS", 90, minimum=1),
            sync_workers=_env_int("OPINION_SYNC_WORKERS", 4, minimum=1),
            inactive_after_days=_env_int("OPINION_INACTIVE_AFTER_DAYS", 90, minimum=1),
            inactive_poll_minutes=_env_int("OPINION_INACTIVE_POLL_MINUTES", 60, minimum=1),
        )


def api_overrides() -> dict[str, object]:
    """Client tunables set in the environment (unset ones keep the client's defaults)."""
    overrides: dict[str, object] = {}
    leaderboard = _env("OPINION_LEADERBOARD_URL")
    if leaderboard:
        overrides["leaderboard_url"] = leaderboard
    if _env("OPINION_RATE_LIMIT_PER_SECOND"):
        overrides["rate_limit_per_second"] = _env_float(
            "OPINION_RATE_LIMIT_PER_SECOND", 14.4, minimum=0.1
        )
    if _env("OPINION_MAX_RETRIES"):
        overrides["max_retries"] = _env_int("OPINION_MAX_RETRIES", 3)
    limiter_dir = _env("OPINION_RATE_LIMIT_DIR")
    if limiter_dir:
        overrides["limiter_dir"] = limiter_dir
    return overrides
