"""The snapshot_whale_positions job: every 15 minutes; which whales are due is decided per whale
(store.due_whales), so quiet whales are snapshotted hourly by the same schedule."""

from opinion_pipeline.automation.jobs import asset_job
from opinion_pipeline.automation.schedules import skip_if_running_schedule

snapshot_whale_positions_job = asset_job(
    "snapshot_whale_positions",
    ["whale_positions", "position_changes"],
    description="Snapshot the positions of every whale due (15 min active, hourly quiet), then "
    "derive the position changes.",
    max_runtime_s=30 * 60,
)
snapshot_whale_positions_schedule = skip_if_running_schedule(
    snapshot_whale_positions_job, "*/15 * * * *"
)
