"""The compute_sync_statistics job and its schedule ("5 * * * *" UTC)."""

from opinion_pipeline.automation.jobs import asset_job
from opinion_pipeline.automation.schedules import skip_if_running_schedule

compute_sync_statistics_job = asset_job(
    "compute_sync_statistics",
    ["sync_statistics"],
    description=(
        "Per-job runs, success rate, p50/p95 duration, requests and 429s over 24 h (hourly)."
    ),
    max_runtime_s=15 * 60,
)
compute_sync_statistics_schedule = skip_if_running_schedule(
    compute_sync_statistics_job, "5 * * * *"
)
