"""The prune_run_history job and its schedule ("30 3 * * *" UTC)."""

from opinion_pipeline.automation.jobs import asset_job
from opinion_pipeline.automation.schedules import skip_if_running_schedule

prune_run_history_job = asset_job(
    "prune_run_history",
    ["run_history_archive"],
    description=(
        "Archive Dagster runs older than 30 days to Parquet, then delete them (daily 03:30 UTC)."
    ),
    max_runtime_s=60 * 60,
)
prune_run_history_schedule = skip_if_running_schedule(prune_run_history_job, "30 3 * * *")
