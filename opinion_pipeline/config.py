"""Every environment variable the pipeline reads, read and checked in one place.

Why pydantic-settings rather than Dagster ``EnvVar`` fields alone: the launcher and the command
line tools run outside Dagster and need the same variables with the same defaults (which
warehouse, which instance, which registry file), and one typed class can name every variable,
parse it once and refuse a bad value with a message that names the variable. The Definitions
read :class:`Settings` once when they load and hand the values to resources, so the UI shows
every tunable; the secrets (the API key and the alert URLs) are handed on only as ``EnvVar``
names, never as values.

**Modes.** ``scripts/start`` runs against the simulator when no API key is set, and keeps that
world's data and Dagster instance apart from the real one's. The same rule gives every tool its
defaults, so ``warehouse-query`` and ``sync-log`` open what ``scripts/start`` is filling:
``OPINION_MODE`` when set (the launcher sets it for what it starts), otherwise ``live`` when
``OPINION_API_KEY`` is set and ``simulator`` when it is not.

| mode | data | Dagster home | whale registry |
|---|---|---|---|
| simulator | ``data/simulator/`` | ``.dagster_home/simulator/`` | ``data/simulator/whales.csv`` |
| live | ``data/`` | ``.dagster_home/live/`` | ``whales.csv`` |

Relative paths are relative to the working directory (the project root for ``scripts/start``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from opinion_pipeline.errors import UserFacingError
from opinion_pipeline.warehouse.catalog import health_row_limits

Mode = Literal["simulator", "live"]

PRODUCTION_BASE_URL = "https://openapi.opinion.trade/openapi"
UNOFFICIAL_LEADERBOARD_URL = "https://proxy.opinion.trade:8443/api/bsc/api/v2/leaderboard"
ENV_PREFIX = "OPINION_"


class SettingsError(UserFacingError, ValueError):
    """An environment variable holds a value the pipeline cannot use; the message names it."""


class Settings(BaseSettings):
    """The environment, typed. Field ``x`` is the variable ``OPINION_X`` unless noted."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="ignore", frozen=True
    )

    mode: Mode | None = Field(None, description="simulator or live; unset: live iff a key is set")
    api_key: SecretStr | None = Field(None, description="the Opinion API key (a secret)")
    api_base_url: str = PRODUCTION_BASE_URL
    leaderboard_url: str = UNOFFICIAL_LEADERBOARD_URL
    rate_limit_per_second: float = Field(14.4, ge=0.1)
    rate_limit_dir: str | None = None
    max_retries: int = Field(3, ge=0, le=10)
    data_dir: Path | None = None
    warehouse_path: Path | None = None
    archive_dir: Path | None = None
    whales_file: Path | None = None
    whale_alert_usd: float = Field(10_000.0, ge=0)
    retention_days: int = Field(90, ge=1)
    sync_workers: int = Field(4, ge=1)
    inactive_after_days: int = Field(90, ge=1)
    inactive_poll_minutes: int = Field(60, ge=1)
    alert_urls: SecretStr | None = Field(
        None, description="apprise URLs alerts go to, comma or space separated (secrets)"
    )
    alert_webhook_url: SecretStr | None = Field(
        None, description="the old single webhook: read as a json:// apprise URL (a secret)"
    )
    alert_webhook_format: str = Field(
        "json", description="json, or slack for a hooks.slack.com URL (the old webhook)"
    )
    ui_base_url: str | None = None
    ui_host: str = "127.0.0.1"
    ui_port: int = Field(3000, ge=1, le=65535)
    simulator_port: int = Field(0, ge=0, le=65535)
    health_thresholds: str | None = Field(
        None, description="JSON merged over each table spec's row_limits"
    )
    health_quarantine_warn: int = Field(100, ge=0)
    run_retention_days: int = Field(30, ge=1)
    dagster_home: Path | None = Field(None, validation_alias="DAGSTER_HOME")

    # -- whale sync: completeness ledger and repairs (defs/whale_trades/coverage.py) ------------
    trade_repair_share: float = Field(
        0.1, ge=0, le=1, description="share of the key's requests repairs may use at most"
    )
    trade_repair_attempts: int = Field(
        3, ge=1, description="repairs of one gap before the trades_complete check errors"
    )

    # -- positions, PnL and skill (issue 16: whale_positions, position_changes, whale_pnl) ----
    positions_active_minutes: int = Field(
        15, ge=1, description="minutes between positions snapshots of a recently active whale"
    )
    positions_quiet_minutes: int = Field(
        60, ge=1, description="minutes between positions snapshots of the other whales"
    )
    positions_active_days: int = Field(
        7, ge=1, description="a whale with a trade this recent is 'active' for snapshots"
    )
    skill_min_decided: int = Field(
        20, ge=1, description="decided positions below which a raw win rate is withheld"
    )
    # -- trade alerts (defs/trade_alerts) ----------------------------------------------------
    alert_trade_usd: float | None = Field(
        None, ge=0, description="a whale trade this big is alerted; unset: OPINION_WHALE_ALERT_USD"
    )
    alert_position_usd: float = Field(
        10_000.0, ge=0, description="a position change this big (quote token) is alerted"
    )
    alert_consensus_whales: int = Field(
        3, ge=2, description="top-skill whales entering one side within an hour: a consensus"
    )
    alert_consensus_top: int = Field(
        10, ge=1, description="the whales ranked this high in whale_skill count for consensus"
    )
    alert_rate_per_minute: int = Field(
        20, ge=1, description="alerts a minute per channel; a bigger burst becomes one digest"
    )
    alert_max_age_minutes: int = Field(
        60,
        ge=1,
        description="events detected longer ago are never alerted (a new channel's backlog)",
    )
    # -- whale discovery (defs/whale_candidates; UNOFFICIAL web-app routes) ----------------------
    discovery: Literal["auto", "on", "off"] = Field(
        "auto", description="auto: on against the simulator, off with a real key (unofficial)"
    )
    discovery_leaderboard: bool = Field(True, description="use the UNOFFICIAL leaderboard")
    discovery_holders: bool = Field(True, description="use the UNOFFICIAL market holders")
    # discover_whales ticks every 15 minutes: a shorter refresh could not be honoured
    discovery_leaderboard_refresh_minutes: int = Field(60, ge=15)
    discovery_holders_refresh_minutes: int = Field(60, ge=15)
    discovery_holder_requests: int = Field(20, ge=0, le=2000, description="per discovery run")
    discovery_drop_days: int = Field(14, ge=1)
    admit_boards: str = Field("volume:30,profit:30,volume:0,profit:0", description="type:days")
    admit_top_n: int = Field(25, ge=0, le=100)
    admit_min_ranking_value: float = Field(1000.0, ge=0)
    admit_min_holding_usd: float = Field(5000.0, ge=0)
    max_tracked_whales: int = Field(500, ge=1)
    # -- whale sync: polling planner (defs/whale_trades/planner.py) -----------------------------
    max_poll_interval_minutes: int = Field(
        60, ge=2, description="every tracked whale is polled at least this often"
    )
    poll_seconds: float = Field(
        50.0, gt=0, le=60, description="of each minute, how long a whale-sync run may fetch"
    )
    reserve_market_sweep_per_minute: int = Field(
        20, ge=0, description="requests a minute the market sweep keeps from the whale sync"
    )
    reserve_discovery_per_minute: int = Field(
        20, ge=0, description="requests a minute whale discovery keeps from the whale sync"
    )
    reserve_positions_per_minute: int = Field(
        20, ge=0, description="requests a minute position syncs keep from the whale sync"
    )

    # -- where things are ------------------------------------------------------------------------

    @property
    def effective_mode(self) -> Mode:
        if self.mode is not None:
            return self.mode
        return "live" if self.has_api_key else "simulator"

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key and self.api_key.get_secret_value().strip())

    @property
    def data_root(self) -> Path:
        """Root of everything the pipeline writes besides the Dagster instance."""
        if self.data_dir is not None:
            return self.data_dir.expanduser().resolve()
        default = Path("data") / "simulator" if self.effective_mode == "simulator" else Path("data")
        return default.resolve()

    @property
    def warehouse_file(self) -> Path:
        if self.warehouse_path is not None:
            return self.warehouse_path.expanduser().resolve()
        return self.data_root / "warehouse.duckdb"

    @property
    def archive_root(self) -> Path:
        if self.archive_dir is not None:
            return self.archive_dir.expanduser().resolve()
        return self.data_root / "archive"

    @property
    def run_archive_root(self) -> Path:
        """Where summaries of pruned Dagster runs go: the archive's ``runs`` folder."""
        return self.archive_root / "runs"

    @property
    def registry_file(self) -> Path:
        """The whale registry in use: one per mode (see the module docstring)."""
        if self.whales_file is not None:
            return self.whales_file.expanduser().resolve()
        if self.effective_mode == "simulator":
            return self.data_root / "whales.csv"
        return Path("whales.csv").resolve()

    @property
    def dagster_home_dir(self) -> Path:
        if self.dagster_home is not None:
            return self.dagster_home.expanduser().resolve()
        return (Path(".dagster_home") / self.effective_mode).resolve()

    @property
    def alert_links_base_url(self) -> str:
        """Base of the links in alerts: OPINION_UI_BASE_URL, else where the UI is served."""
        if self.ui_base_url:
            return self.ui_base_url.rstrip("/")
        host = "127.0.0.1" if self.ui_host in ("0.0.0.0", "::", "") else self.ui_host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.ui_port}"

    @property
    def discovery_on(self) -> bool:
        """Discovery runs: OPINION_DISCOVERY on, or auto in simulator mode (UNOFFICIAL routes
        are off by default against the real API)."""
        if self.discovery == "auto":
            return self.effective_mode == "simulator"
        return self.discovery == "on"

    def thresholds(self) -> dict[str, dict[str, int]]:
        """OPINION_HEALTH_THRESHOLDS merged over the ``row_limits`` of each table's spec."""
        return merge_health_thresholds(self.health_thresholds, health_row_limits())


def merge_health_thresholds(
    raw: str | None, defaults: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    """JSON such as ``{"trades": {"warn": 5000000}}`` merged over ``defaults``.

    The defaults are the tables' ``row_limits`` (``warehouse.catalog.health_row_limits``). A
    table or level left out keeps its default; an unknown table, a non-integer or warn > error
    is refused, so a typo cannot silently disable a check.
    """
    name = f"{ENV_PREFIX}HEALTH_THRESHOLDS"
    merged = {table: dict(levels) for table, levels in defaults.items()}
    if raw is None:
        return merged
    try:
        given = json.loads(raw)
    except json.JSONDecodeError as error:
        raise SettingsError(f"{name} is not valid JSON: {error}") from None
    if not isinstance(given, dict):
        raise SettingsError(f'{name} must be an object like {{"trades": {{...}}}}')
    for table, levels in given.items():
        if table not in merged:
            known = ", ".join(sorted(merged))
            raise SettingsError(f"{name}: unknown table {table!r} (known: {known})")
        if not isinstance(levels, dict) or not set(levels) <= {"warn", "error"}:
            raise SettingsError(f'{name}[{table!r}] must look like {{"warn": N, "error": M}}')
        for level, value in levels.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise SettingsError(
                    f"{name}[{table!r}][{level!r}]={value!r} must be a whole number >= 0"
                )
            merged[table][level] = value
        if merged[table]["warn"] > merged[table]["error"]:
            raise SettingsError(
                f"{name}[{table!r}]: warn ({merged[table]['warn']}) is above "
                f"error ({merged[table]['error']})"
            )
    return merged


def _variable(field: str) -> str:
    if field == "dagster_home":
        return "DAGSTER_HOME"
    return ENV_PREFIX + field.upper()


def _problem(error: dict[str, Any]) -> str:
    """One line per bad variable, in the words the README uses."""
    field = str(error["loc"][0]) if error.get("loc") else "?"
    value = error.get("input")
    shown = f"{_variable(field)}={value!r}" if isinstance(value, str) else _variable(field)
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    if kind == "float_parsing":
        return f"{shown} is not a number"
    if kind in ("int_parsing", "int_from_float"):
        return f"{shown} is not a whole number"
    if kind in ("greater_than_equal", "greater_than"):
        return f"{shown} must be at least {context.get('ge', context.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"{shown} must be at most {context.get('le', context.get('lt'))}"
    if kind == "literal_error":
        return f"{shown} must be one of {context.get('expected')}"
    return f"{shown}: {error.get('msg', 'invalid value')}"


def load_settings(**overrides: Any) -> Settings:
    """Read the environment now; a bad value raises SettingsError naming every bad variable."""
    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        raise SettingsError("; ".join(_problem(item) for item in error.errors())) from None
    if settings.health_thresholds is not None:
        # Refuse a bad OPINION_HEALTH_THRESHOLDS at once, not at the check. Only when it is set:
        # the table catalog it is checked against imports every dataset's tables module.
        settings.thresholds()
    return settings
