"""A crash of the whole process group mid-sync: on restart the orphan is failed at once.

Before the fix the run stayed STARTED until its 5-minute max runtime ran out, and every
one-minute tick meanwhile was skipped as "previous run still STARTED". The unit tests judge
orphans on a real instance with real (dead and live) processes.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timezone

import dagster as dg
import pytest
from dagster._core.scheduler.instigation import TickStatus
from dagster_graphql import DagsterGraphQLClient

from opinion_pipeline.automation.jobs import CONCURRENCY_TAG
from opinion_pipeline.automation.run_workers import (
    CREATED_TAG,
    HOST_TAG,
    PARENT_TAG,
    PID_TAG,
    fail_orphaned_runs,
    process_created,
    worker_tags,
)
from opinion_pipeline.run_log.summary import summarise
from opinion_pipeline.stack import LOCATION
from opinion_pipeline_tests.automation.alerts_fixtures import WebhookReceiver
from opinion_pipeline_tests.processes import wait_for
from opinion_pipeline_tests.reliability import figures
from opinion_pipeline_tests.reliability.stack_process import LauncherProcess

SYNC = "sync_whale_trades"
QUEUED_JOB = "compute_sync_statistics"
GONE = "died with the machine or with its process group"


def _dead_process() -> tuple[int, float]:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    created = process_created(child.pid)
    assert created is not None
    child.kill()
    child.wait()
    return child.pid, created


def _started_run(instance: dg.DagsterInstance, tags: dict[str, str]) -> dg.DagsterRun:
    run = instance.create_run_for_job(
        dg.GraphDefinition(name="g", node_defs=[]).to_job(name="j"), tags=tags
    )
    instance.handle_run_event(
        run.run_id,
        dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name=run.job_name),
    )
    return run


@pytest.mark.unit
def test_only_runs_whose_worker_and_code_server_are_gone_are_failed(instance):
    dead_pid, dead_created = _dead_process()
    me = worker_tags()
    host = me[HOST_TAG]
    orphan = _started_run(
        instance,
        {
            PID_TAG: str(dead_pid),
            HOST_TAG: host,
            CREATED_TAG: f"{dead_created:.2f}",
            PARENT_TAG: f"{dead_pid}@{dead_created:.2f}",
        },
    )
    alive = _started_run(instance, me)  # this test process is the "worker"
    elsewhere = _started_run(instance, {**me, PID_TAG: str(dead_pid), HOST_TAG: "other-host"})
    # Worker gone but its code server alive: the code server reports it, with the signal.
    reported = _started_run(instance, {**me, PID_TAG: str(dead_pid), CREATED_TAG: "1.00"})
    # A pid reused by another process: the recorded creation time differs.
    reused = _started_run(instance, {**me, CREATED_TAG: "1.00", PARENT_TAG: f"{dead_pid}@1.00"})

    failed = fail_orphaned_runs(instance, at_start=False, by="the test", host=host)

    assert sorted(item.run_id for item in failed) == sorted([orphan.run_id, reused.run_id])
    for run in (orphan, reused):
        record = instance.get_run_record_by_id(run.run_id)
        assert record.dagster_run.status == dg.DagsterRunStatus.FAILURE
        assert GONE in summarise(instance, record).error
    assert (
        f"run worker {dead_pid} on {host} is gone"
        in summarise(instance, instance.get_run_record_by_id(orphan.run_id)).error
    )
    for run in (alive, elsewhere, reported):
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED


@pytest.mark.unit
def test_at_start_an_untagged_run_is_judged_by_dagsters_pid_event(instance):
    dead_pid, _ = _dead_process()
    run = _started_run(instance, {})
    instance.report_engine_event(f"Started process for run (pid: {dead_pid}).", run)
    assert fail_orphaned_runs(instance, at_start=False, by="a sensor") == []  # no host: unsure
    [failed] = fail_orphaned_runs(instance, at_start=True, by="scripts/start on start-up")
    assert failed.run_id == run.run_id and f"run worker {dead_pid}" in failed.message


def _scheduled_after(instance: dg.DagsterInstance, moment: float) -> dg.RunRecord | None:
    for record in instance.get_run_records(dg.RunsFilter(job_name=SYNC), limit=5):
        created = record.create_timestamp.replace(tzinfo=timezone.utc).timestamp()
        scheduled = record.dagster_run.tags.get("dagster/schedule_name")
        if created > moment and scheduled and record.start_time is not None:
            return record
    return None


def _skipped_ticks(instance: dg.DagsterInstance, since: float, blocker: str) -> int:
    """Ticks since ``since`` skipped because the run ``blocker`` still looked STARTED."""
    for state in instance.all_instigator_state():
        if state.name == f"{SYNC}_schedule":
            ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=20)
            return sum(
                1
                for tick in ticks
                if tick.timestamp > since
                and tick.status == TickStatus.SKIPPED
                and blocker in (tick.skip_reason or "")
            )
    return 0


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_process_group_killed_mid_sync_the_orphan_fails_at_restart_and_the_next_tick_runs(
    tmp_path,
):
    with WebhookReceiver() as receiver:
        # Six wallets and no discovery: the history sync takes seconds, not minutes.
        stack = LauncherProcess(tmp_path, f"{receiver.url}/hook", {"OPINION_DISCOVERY": "off"})
        stack.small_registry(6)
        try:
            stack.start()
            # The code server starts once the launcher has made the instance (two processes
            # creating a fresh SQLite instance at once can leave it with two schema heads).
            wait_for(lambda: stack.pids("code-server start"), 60, "the code server")
            instance = stack.instance()

            # The first-run sensor starts the history sync at once; the kill lands mid-sync.
            def syncing() -> dg.DagsterRun | None:
                for record in instance.get_run_records(dg.RunsFilter(job_name=SYNC), limit=1):
                    run = record.dagster_run
                    if run.status == dg.DagsterRunStatus.STARTED and PID_TAG in run.tags:
                        return run
                return None

            run = wait_for(syncing, 90, "a whale sync to start", 0.2)
            stack.wait_ui(60)
            # A run asked for meanwhile waits in the queue: a short job, held behind the sync by
            # the sync's one-at-a-time tag (a second sync would make the test minutes longer).
            client = DagsterGraphQLClient("127.0.0.1", port_number=stack.ui_port)
            queued_id = client.submit_job_execution(
                QUEUED_JOB,
                repository_location_name=LOCATION,
                repository_name="__repository__",
                tags={CONCURRENCY_TAG: SYNC},
            )
            assert instance.get_run_by_id(queued_id).status == dg.DagsterRunStatus.QUEUED
            stack.kill_group()
            killed = time.time()
            assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED

            restarted = time.time()
            stack.start()

            def failed() -> dg.RunRecord | None:
                record = instance.get_run_record_by_id(run.run_id)
                return record if record.dagster_run.status == dg.DagsterRunStatus.FAILURE else None

            record = wait_for(failed, 60, "the orphaned run to be failed", 0.2)
            to_failed = record.end_time - restarted
            assert to_failed < 20, stack.output()
            cause = f"run worker {run.tags[PID_TAG]} on {run.tags[HOST_TAG]} is gone: it {GONE}"
            assert cause in summarise(instance, record).error  # what sync-log shows
            assert "failed by scripts/start on start-up" in stack.output()

            def alerted() -> list[dict]:
                return [b for b in receiver.bodies("run_failure") if b["run_id"] == run.run_id]

            [alert] = wait_for(alerted, 90, "the failure alert of the orphan")
            assert cause in alert["error"]

            # The run queued when the stack died runs after the restart (not left QUEUED).
            def queued_done() -> dg.DagsterRun | None:
                queued = instance.get_run_by_id(queued_id)
                return queued if queued.is_finished else None

            queued = wait_for(queued_done, 60, "the run queued before the crash to finish")
            assert queued.status == dg.DagsterRunStatus.SUCCESS, stack.output()
            assert "1 run(s) queued before the last stop start now" in stack.output()

            nxt = wait_for(lambda: _scheduled_after(instance, restarted), 130, "the next tick")
            tick_minute = datetime.fromtimestamp(nxt.start_time, tz=timezone.utc).replace(
                second=0, microsecond=0
            )
            assert nxt.start_time - tick_minute.timestamp() < 60  # started within its minute
            skipped = _skipped_ticks(instance, killed, run.run_id)
            assert skipped == 0
            figures.record(
                "orphan_recovery",
                restart_to_orphan_failed_s=round(to_failed, 1),
                crash_to_next_sync_started_s=round(nxt.start_time - killed, 1),
                restart_to_next_sync_started_s=round(nxt.start_time - restarted, 1),
                next_sync_started_after_its_tick_s=round(
                    nxt.start_time - tick_minute.timestamp(), 1
                ),
                ticks_skipped=skipped,
            )
            instance.dispose()
            assert stack.stop() == 0
        finally:
            stack.cleanup()
