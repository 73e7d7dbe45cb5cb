"""The discover_whales job and its hourly schedule ("20 * * * *" UTC).

Each UNOFFICIAL source is fetched only when its refresh interval has passed
(OPINION_DISCOVERY_LEADERBOARD_REFRESH_MINUTES, OPINION_DISCOVERY_HOLDERS_REFRESH_MINUTES); the
gate runs at every tick. Minute 20 keeps it clear of the hourly stats at minute 0 and 5.
"""

from opinion_pipeline.automation.jobs import asset_job
from opinion_pipeline.automation.schedules import skip_if_running_schedule

discover_whales_job = asset_job(
    "discover_whales",
    ["whale_candidates"],
    description="Whale discovery from the UNOFFICIAL leaderboard and market holders, then the "
    "admission gate (hourly; whale_registry merges the admitted whales on its next sync).",
    max_runtime_s=15 * 60,
)
discover_whales_schedule = skip_if_running_schedule(discover_whales_job, "20 * * * *")
