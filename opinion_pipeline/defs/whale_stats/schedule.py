"""The compute_whale_stats job and its schedule ("0 * * * *" UTC)."""

from opinion_pipeline.automation.jobs import asset_job
from opinion_pipeline.automation.schedules import skip_if_running_schedule

compute_whale_stats_job = asset_job(
    "compute_whale_stats",
    ["whale_stats"],
    description="Recompute whale statistics from the trades table (hourly).",
    max_runtime_s=30 * 60,
)
compute_whale_stats_schedule = skip_if_running_schedule(compute_whale_stats_job, "0 * * * *")
