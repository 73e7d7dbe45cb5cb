"""The health_check job and its schedule ("*/30 * * * *" UTC)."""

from opinion_pipeline.automation.jobs import asset_job
from opinion_pipeline.automation.schedules import skip_if_running_schedule

health_check_job = asset_job(
    "health_check",
    ["pipeline_health"],
    description=(
        "Warehouse reachable, table sizes, quarantine growth, API key accepted (every 30 min)."
    ),
    max_runtime_s=10 * 60,
)
health_check_schedule = skip_if_running_schedule(health_check_job, "*/30 * * * *")
