"""The mark_inactive_whales job and its schedule ("0 1 * * *" UTC)."""

from opinion_pipeline.automation.jobs import asset_job
from opinion_pipeline.automation.schedules import skip_if_running_schedule

mark_inactive_whales_job = asset_job(
    "mark_inactive_whales",
    ["whale_status"],
    description=(
        "Mark whales without a trade for 90 days inactive, reactivate traders (daily 01:00 UTC)."
    ),
    max_runtime_s=10 * 60,
)
mark_inactive_whales_schedule = skip_if_running_schedule(mark_inactive_whales_job, "0 1 * * *")
