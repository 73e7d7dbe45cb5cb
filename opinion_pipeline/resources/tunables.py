"""The pipeline's tunables as a Dagster resource, so the UI shows the values in use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource
from pydantic import Field

from opinion_pipeline.config import Settings, merge_health_thresholds
from opinion_pipeline.warehouse.catalog import health_row_limits

RESERVED_FOR = ("market_sweep", "discovery", "positions")


def _default(setting: str) -> Any:
    """A tunable's default is its setting's (config.py holds the one copy of each default)."""
    return Settings.model_fields[setting].default


class PipelineTunables(ConfigurableResource):
    """What the datasets are tuned by; every field comes from an OPINION_* variable."""

    mode: str = Field(default="live", description="simulator or live (OPINION_MODE / the key).")
    registry_file: str = Field(
        description="The whale registry in use: one per mode, or OPINION_WHALES_FILE."
    )
    archive_dir: str = Field(description="Parquet archives (OPINION_ARCHIVE_DIR).")
    whale_alert_usd: float = Field(
        default=_default("whale_alert_usd"),
        description="A new trade this big joins whale_activity.",
    )
    sync_workers: int = Field(
        default=_default("sync_workers"), description="Wallets fetched at once."
    )
    inactive_after_days: int = Field(
        default=_default("inactive_after_days"), description="No trade this long: inactive."
    )
    inactive_poll_minutes: int = Field(
        default=_default("inactive_poll_minutes"), description="An inactive whale's poll gap."
    )
    retention_days: int = Field(
        default=_default("retention_days"), description="Trades older are archived."
    )
    run_retention_days: int = Field(
        default=_default("run_retention_days"), description="Dagster runs older are pruned."
    )
    health_quarantine_warn: int = Field(
        default=_default("health_quarantine_warn"),
        description="Quarantined rows per health check above which it warns.",
    )
    health_thresholds_json: str = Field(
        default="{}", description="Per-table row counts the health check warns / errors above."
    )
    # positions, PnL and skill
    positions_active_minutes: int = Field(
        default=_default("positions_active_minutes"),
        description="Positions snapshot gap of a whale that traded recently.",
    )
    positions_quiet_minutes: int = Field(
        default=_default("positions_quiet_minutes"),
        description="Positions snapshot gap of the other whales.",
    )
    positions_active_days: int = Field(
        default=_default("positions_active_days"),
        description="A trade this many days old or newer makes a whale active.",
    )
    skill_min_decided: int = Field(
        default=_default("skill_min_decided"),
        description="Decided positions needed before a raw win rate is shown.",
    )

    # trade alerts (the channel URLs are secrets: read from the environment, never shown here)
    alert_trade_usd: float = Field(
        default=_default("whale_alert_usd"),
        description="A whale trade this big is alerted (unset: whale_alert_usd).",
    )
    alert_position_usd: float = Field(
        default=_default("alert_position_usd"),
        description="A position change this big (quote token) is alerted.",
    )
    alert_consensus_whales: int = Field(
        default=_default("alert_consensus_whales"),
        description="Top-skill whales entering one side within an hour: a consensus.",
    )
    alert_consensus_top: int = Field(
        default=_default("alert_consensus_top"),
        description="Whales ranked this high in whale_skill count for consensus.",
    )
    alert_rate_per_minute: int = Field(
        default=_default("alert_rate_per_minute"),
        description="Alerts a minute per channel; a bigger burst becomes one digest.",
    )
    alert_max_age_minutes: int = Field(
        default=_default("alert_max_age_minutes"),
        description="Events detected longer ago are never alerted.",
    )

    # whale sync: completeness ledger and repairs
    trade_repair_share: float = Field(
        default=_default("trade_repair_share"),
        description="Share of the key's requests repairs of trade gaps may use.",
    )
    trade_repair_attempts: int = Field(
        default=_default("trade_repair_attempts"),
        description="Repairs of one gap before trades_complete reports an ERROR.",
    )

    # whale sync: polling planner
    max_poll_interval_minutes: int = Field(
        default=_default("max_poll_interval_minutes"),
        description="Every tracked whale is polled at least this often.",
    )
    poll_seconds: float = Field(
        default=_default("poll_seconds"),
        description="Of each minute, how long a whale-sync run may fetch.",
    )
    reserved_per_minute: int = Field(
        default=sum(_default(f"reserve_{use}_per_minute") for use in RESERVED_FOR),
        description="Requests a minute kept for the market sweep, discovery and positions.",
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> PipelineTunables:
        """Fields named like a setting take its value; the others are derived from settings."""
        derived = {
            "mode": settings.effective_mode,
            "registry_file": str(settings.registry_file),
            "archive_dir": str(settings.archive_root),
            "health_thresholds_json": json.dumps(settings.thresholds(), sort_keys=True),
            "alert_trade_usd": (
                settings.whale_alert_usd
                if settings.alert_trade_usd is None
                else settings.alert_trade_usd
            ),
            "reserved_per_minute": sum(
                getattr(settings, f"reserve_{use}_per_minute") for use in RESERVED_FOR
            ),
        }
        same_named = {
            name: getattr(settings, name)
            for name in cls.model_fields
            if name not in derived and name in type(settings).model_fields
        }
        return cls(**same_named, **derived)

    @property
    def registry_path(self) -> Path:
        return Path(self.registry_file)

    @property
    def archive_path(self) -> Path:
        return Path(self.archive_dir)

    @property
    def run_archive_path(self) -> Path:
        return Path(self.archive_dir) / "runs"

    def health_thresholds(self) -> dict[str, dict[str, int]]:
        return merge_health_thresholds(self.health_thresholds_json, health_row_limits())
