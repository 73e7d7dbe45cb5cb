"""Every environment variable the pipeline reads, in one place.

Values are read when called, not at import, so a test (or a user editing their shell) gets
what is set now. The API key is deliberately absent: it is read by Dagster through
``EnvVar("OPINION_API_KEY")`` so that the UI shows the variable's name, never its value.
"""

from __future__ import annotations

import json
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


# -- operations: health check, run-history upkeep ------------------------------------------------

# Row counts above which the health check warns / errors, per warehouse table. The seed warned
# at 1M activity rows; trades grow fastest (every fill of every whale), markets and whales slowly.
DEFAULT_HEALTH_THRESHOLDS: dict[str, dict[str, int]] = {
    "markets": {"warn": 200_000, "error": 2_000_000},
    "whales": {"warn": 10_000, "error": 100_000},
    "trades": {"warn": 5_000_000, "error": 20_000_000},
    "whale_activity": {"warn": 1_000_000, "error": 5_000_000},
    "whale_stats": {"warn": 10_000, "error": 100_000},
    "quarantine": {"warn": 100_000, "error": 1_000_000},
    "archive_manifest": {"warn": 10_000, "error": 100_000},
}


def health_thresholds() -> dict[str, dict[str, int]]:
    """OPINION_HEALTH_THRESHOLDS (JSON, e.g. {"trades": {"warn": 5000000}}) merged over defaults.

    A table or level left out keeps its default; an unknown table, a non-integer or warn > error
    is refused, so a typo cannot silently disable a check.
    """
    merged = {table: dict(levels) for table, levels in DEFAULT_HEALTH_THRESHOLDS.items()}
    raw = _env("OPINION_HEALTH_THRESHOLDS")
    if raw is None:
        return merged
    try:
        given = json.loads(raw)
    except json.JSONDecodeError as error:
        raise SettingsError(f"OPINION_HEALTH_THRESHOLDS is not valid JSON: {error}") from None
    if not isinstance(given, dict):
        raise SettingsError('OPINION_HEALTH_THRESHOLDS must be an object like {"trades": {...}}')
    for table, levels in given.items():
        if table not in merged:
            raise SettingsError(
                f"OPINION_HEALTH_THRESHOLDS: unknown table {table!r} "
                f"(known: {', '.join(sorted(merged))})"
            )
        if not isinstance(levels, dict) or not set(levels) <= {"warn", "error"}:
            raise SettingsError(
                f'OPINION_HEALTH_THRESHOLDS[{table!r}] must look like {{"warn": N, "error": M}}'
            )
        for level, value in levels.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise SettingsError(
                    f"OPINION_HEALTH_THRESHOLDS[{table!r}][{level!r}]={value!r} must be a "
                    "whole number >= 0"
                )
            merged[table][level] = value
        if merged[table]["warn"] > merged[table]["error"]:
            raise SettingsError(
                f"OPINION_HEALTH_THRESHOLDS[{table!r}]: warn ({merged[table]['warn']}) is above "
                f"error ({merged[table]['error']})"
            )
    return merged


@dataclass(frozen=True)
class OperationsSettings:
    """Tunables of the operations jobs (health check, run-history upkeep)."""

    health_thresholds: dict[str, dict[str, int]]
    health_quarantine_warn: int
    run_retention_days: int

    @classmethod
    def from_env(cls) -> OperationsSettings:
        return cls(
            health_thresholds=health_thresholds(),
            health_quarantine_warn=_env_int("OPINION_HEALTH_QUARANTINE_WARN", 100),
            run_retention_days=_env_int("OPINION_RUN_RETENTION_DAYS", 30, minimum=1),
        )


def run_archive_dir() -> Path:
    """Where summaries of pruned Dagster runs go: OPINION_ARCHIVE_DIR/runs."""
    return archive_dir() / "runs"
