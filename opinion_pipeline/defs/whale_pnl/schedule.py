"""The compute_whale_pnl job (whale_pnl, whale_skill, then market_flows), hourly."""

from opinion_pipeline.automation.jobs import asset_job
from opinion_pipeline.automation.schedules import skip_if_running_schedule

compute_whale_pnl_job = asset_job(
    "compute_whale_pnl",
    ["whale_pnl", "whale_skill", "market_flows"],
    description="Recompute PnL per whale and position, then the skill scores and the market "
    "flows (hourly).",
    max_runtime_s=30 * 60,
)
compute_whale_pnl_schedule = skip_if_running_schedule(compute_whale_pnl_job, "10 * * * *")
