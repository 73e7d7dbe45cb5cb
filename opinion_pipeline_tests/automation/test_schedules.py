"""Schedules: the seed cadences, UTC, on by default, and a tick skipped while a run is going."""

from __future__ import annotations

import dagster as dg

from opinion_pipeline.definitions import build_definitions

EXPECTED = {
    "sync_markets_schedule": ("sync_markets", "*/5 * * * *"),
    "sync_whale_trades_schedule": ("sync_whale_trades", "* * * * *"),
    "compute_whale_stats_schedule": ("compute_whale_stats", "0 * * * *"),
    "cleanup_old_activity_schedule": ("cleanup_old_activity", "0 3 * * *"),
}


def test_the_seed_schedules_with_their_cadences_in_utc_running_by_default():
    defs = build_definitions()
    schedules = {schedule.name: schedule for schedule in defs.schedules}
    assert set(EXPECTED) <= set(schedules)
    for name, (job_name, cron) in EXPECTED.items():
        schedule = schedules[name]
        assert schedule.job_name == job_name
        assert schedule.cron_schedule == cron
        assert schedule.execution_timezone == "UTC"
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_every_job_runs_in_one_process():
    defs = build_definitions()
    for job_name, _ in EXPECTED.values():
        job = defs.resolve_job_def(job_name)
        assert job.executor_def.name == dg.in_process_executor.name


def _evaluate(schedule: dg.ScheduleDefinition, instance: dg.DagsterInstance):
    context = dg.build_schedule_context(instance=instance)
    return schedule.evaluate_tick(context)


def test_tick_requests_a_run_when_nothing_is_going():
    defs = build_definitions()
    schedule = defs.resolve_schedule_def("sync_whale_trades_schedule")
    with dg.instance_for_test() as instance:
        result = _evaluate(schedule, instance)
    assert result.run_requests and len(result.run_requests) == 1


def test_tick_is_skipped_with_a_reason_while_the_previous_run_is_going():
    defs = build_definitions()
    schedule = defs.resolve_schedule_def("sync_whale_trades_schedule")
    job = defs.resolve_job_def("sync_whale_trades")
    with dg.instance_for_test() as instance:
        run = instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED)
        result = _evaluate(schedule, instance)
        assert not result.run_requests
        assert run.run_id in result.skip_message and "still" in result.skip_message
        # Another job's run does not block this one.
        other = defs.resolve_schedule_def("sync_markets_schedule")
        assert _evaluate(other, instance).run_requests
        instance.report_run_canceled(run)
        assert _evaluate(schedule, instance).run_requests
