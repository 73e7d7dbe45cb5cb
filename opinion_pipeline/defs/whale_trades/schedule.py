"""The sync_whale_trades job and its schedule ("* * * * *" UTC)."""

from opinion_pipeline.automation.jobs import asset_job
from opinion_pipeline.automation.schedules import skip_if_running_schedule

sync_whale_trades_job = asset_job(
    "sync_whale_trades",
    ["whale_registry", "whale_trades", "whale_activity"],
    description="Registry reload and incremental sync of every whale's trades (every minute).",
    max_runtime_s=5 * 60,
)
sync_whale_trades_schedule = skip_if_running_schedule(sync_whale_trades_job, "* * * * *")
