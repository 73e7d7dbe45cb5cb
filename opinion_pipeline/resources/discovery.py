"""Whale discovery's settings as a Dagster resource, so the UI shows the rules in use.

Discovery reads UNOFFICIAL web-app routes (the leaderboard, market holders): it is optional,
off by default with a real API key (``OPINION_DISCOVERY=auto``) and can be turned off per source.
"""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field

from opinion_pipeline.config import Settings


class DiscoveryTunables(ConfigurableResource):
    enabled: bool = Field(default=False, description="Discovery runs (OPINION_DISCOVERY).")
    leaderboard: bool = Field(default=True, description="UNOFFICIAL leaderboard source on.")
    holders: bool = Field(default=True, description="UNOFFICIAL market-holders source on.")
    leaderboard_refresh_minutes: int = Field(default=60, description="Leaderboard refresh.")
    holders_refresh_minutes: int = Field(default=60, description="Holders refresh.")
    holder_requests: int = Field(default=20, description="Holder requests per run (2/market).")
    drop_days: int = Field(default=14, description="Unseen this long: a whale is dropped.")
    admit_boards: str = Field(default="volume:30,profit:30,volume:0,profit:0")
    admit_top_n: int = Field(default=25, description="Top N of a chosen board is admitted.")
    admit_min_ranking_value: float = Field(default=1000.0, description="Known value at least.")
    admit_min_holding_usd: float = Field(default=5000.0, description="Or a holding at least.")
    max_tracked_whales: int = Field(default=500, description="Cap on the tracked universe.")

    @classmethod
    def from_settings(cls, settings: Settings) -> DiscoveryTunables:
        return cls(
            enabled=settings.discovery_on,
            leaderboard=settings.discovery_leaderboard,
            holders=settings.discovery_holders,
            leaderboard_refresh_minutes=settings.discovery_leaderboard_refresh_minutes,
            holders_refresh_minutes=settings.discovery_holders_refresh_minutes,
            holder_requests=settings.discovery_holder_requests,
            drop_days=settings.discovery_drop_days,
            admit_boards=settings.admit_boards,
            admit_top_n=settings.admit_top_n,
            admit_min_ranking_value=settings.admit_min_ranking_value,
            admit_min_holding_usd=settings.admit_min_holding_usd,
            max_tracked_whales=settings.max_tracked_whales,
        )
