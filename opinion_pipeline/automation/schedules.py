"""Schedules run in UTC, on by default, each toggleable on its own in the UI.

A tick that finds the previous run of its job still queued or running is skipped, and the
reason (which run, in what state) shows in the schedule's tick history in the UI.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


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
