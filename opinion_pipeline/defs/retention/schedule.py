"""The cleanup_old_activity job and its schedule ("0 3 * * *" UTC)."""

from opinion_pipeline.automation.jobs import asset_job
from opinion_pipeline.automation.schedules import skip_if_running_schedule

cleanup_old_activity_job = asset_job(
    "cleanup_old_activity",
    ["trades_archive"],
    description="Archive trades and activity past retention to Parquet, then delete them (daily).",
    max_runtime_s=30 * 60,
)
cleanup_old_activity_schedule = skip_if_running_schedule(cleanup_old_activity_job, "0 3 * * *")
