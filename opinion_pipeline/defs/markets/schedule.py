"""The sync_markets job and its schedule ("*/5 * * * *" UTC)."""

from opinion_pipeline.automation.jobs import asset_job
from opinion_pipeline.automation.schedules import skip_if_running_schedule

sync_markets_job = asset_job(
    "sync_markets",
    ["markets"],
    description="Full sweep of the market list (every 5 minutes).",
    max_runtime_s=30 * 60,
)
sync_markets_schedule = skip_if_running_schedule(sync_markets_job, "*/5 * * * *")
