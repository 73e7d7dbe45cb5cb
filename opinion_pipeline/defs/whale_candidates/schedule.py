"""The discover_whales job and its schedule: every 15 minutes ("10-59/15 * * * *" UTC).

Each UNOFFICIAL source is fetched only when its refresh interval has passed
(OPINION_DISCOVERY_LEADERBOARD_REFRESH_MINUTES, OPINION_DISCOVERY_HOLDERS_REFRESH_MINUTES, 60 by
default), so most ticks only run the admission gate; the tick interval is the finest refresh
a user can ask for. Minutes 10, 25, 40 and 55 keep it clear of the hourly stats at 0 and 5.
"""

from opinion_pipeline.automation.jobs import asset_job
from opinion_pipeline.automation.schedules import skip_if_running_schedule
from opinion_pipeline.defs.whale_candidates.sync import SCHEDULE_INTERVAL_MINUTES

discover_whales_job = asset_job(
    "discover_whales",
    ["whale_candidates"],
    description="Whale discovery from the UNOFFICIAL leaderboard and market holders when their "
    "refresh interval has passed (hourly by default), then the admission gate "
    "(whale_registry merges the admitted whales on its next sync).",
    max_runtime_s=15 * 60,
)
discover_whales_schedule = skip_if_running_schedule(
    discover_whales_job, f"10-59/{SCHEDULE_INTERVAL_MINUTES} * * * *"
)
