"""Schedules with the seed cadences, in UTC, running by default, each toggleable on its own.

A tick that finds the previous run of its job still queued or running is skipped, and the
reason (which run, in what state) shows in the schedule's tick history in the UI.
"""

from typing import Any

import dagster as dg

from opinion_pipeline.jobs import (
    cleanup_old_activity_job,
    compute_whale_stats_job,
    sync_markets_job,
    sync_whale_trades_job,
)

IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]

CADENCES = {
    sync_markets_job.name: "*/5 * * * *",
    sync_whale_trades_job.name: "* * * * *",
    compute_whale_stats_job.name: "0 * * * *",
    cleanup_old_activity_job.name: "0 3 * * *",
}


def previous_run_in_progress(instance: dg.DagsterInstance, job_name: str) -> dg.DagsterRun | None:
    records = instance.get_run_records(
        dg.RunsFilter(job_name=job_name, statuses=IN_PROGRESS), limit=1
    )
    return records[0].dagster_run if records else None


def skip_if_running_schedule(job: Any, cron: str) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"{job.name}_schedule",
        job=job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Runs {job.name} at '{cron}' UTC; skips a tick while a previous run is going.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        running = previous_run_in_progress(context.instance, job.name)
        if running is not None:
            return dg.SkipReason(
                f"previous run {running.run_id} of {job.name} is still {running.status.value}; "
                "skipping this tick"
            )
        return dg.RunRequest()

    return _schedule


sync_markets_schedule = skip_if_running_schedule(sync_markets_job, CADENCES[sync_markets_job.name])
sync_whale_trades_schedule = skip_if_running_schedule(
    sync_whale_trades_job, CADENCES[sync_whale_trades_job.name]
)
compute_whale_stats_schedule = skip_if_running_schedule(
    compute_whale_stats_job, CADENCES[compute_whale_stats_job.name]
)
cleanup_old_activity_schedule = skip_if_running_schedule(
    cleanup_old_activity_job, CADENCES[cleanup_old_activity_job.name]
)

SCHEDULES = [
    sync_markets_schedule,
    sync_whale_trades_schedule,
    compute_whale_stats_schedule,
    cleanup_old_activity_schedule,
]

# -- operations (issue 4) ----------------------------------------------------------------------
from opinion_pipeline.jobs import (  # noqa: E402  (kept with the block it serves)
    compute_sync_statistics_job,
    health_check_job,
    mark_inactive_whales_job,
    prune_run_history_job,
)

OPERATIONS_CADENCES = {
    health_check_job.name: "*/30 * * * *",
    mark_inactive_whales_job.name: "0 1 * * *",
    compute_sync_statistics_job.name: "5 * * * *",
    prune_run_history_job.name: "30 3 * * *",
}

OPERATIONS_SCHEDULES = [
    skip_if_running_schedule(job, OPERATIONS_CADENCES[job.name])
    for job in (
        health_check_job,
        mark_inactive_whales_job,
        compute_sync_statistics_job,
        prune_run_history_job,
    )
]
