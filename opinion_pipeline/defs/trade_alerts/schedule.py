"""The deliver_trade_alerts job and its schedule ("* * * * *" UTC), beside the whale sync."""

from opinion_pipeline.automation.jobs import asset_job
from opinion_pipeline.automation.schedules import skip_if_running_schedule

deliver_trade_alerts_job = asset_job(
    "deliver_trade_alerts",
    ["trade_alerts"],
    description="Alerts for big whale trades, big position changes and whale consensus, to the "
    "OPINION_ALERT_URLS channels, each once per channel (every minute).",
    max_runtime_s=10 * 60,
)
deliver_trade_alerts_schedule = skip_if_running_schedule(deliver_trade_alerts_job, "* * * * *")
