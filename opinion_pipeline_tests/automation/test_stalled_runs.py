"""Stalled and crashed runs, against a real code server and a real ``dagster-daemon run``.

The instance config is the shipped dagster.yaml (run monitoring, the per-job run limit) with
one-second polling. Runs are launched through the CLI and picked up by the daemon's queue; the
project's failure sensor (same factory, one-second interval) posts to a receiver on loopback.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from opinion_pipeline.automation.sensors import RUN_FAILURE_SENSOR
from opinion_pipeline.definitions import defs
from opinion_pipeline.defs.whale_trades.schedule import sync_whale_trades_job
from opinion_pipeline.run_log.summary import summarise
from opinion_pipeline_tests.automation import alerts_workspace
from opinion_pipeline_tests.automation.alerts_daemon import REPO_ROOT, DaemonStack, wait_for
from opinion_pipeline_tests.automation.alerts_fixtures import WebhookReceiver

MAX_RUNTIME_TAG = "dagster/max_runtime"


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" not in status.read_text()
    except OSError:
        return False


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, receiver: WebhookReceiver
) -> Iterator[DaemonStack]:
    ops = DaemonStack(tmp_path_factory.mktemp("ops"), f"{receiver.url}/hook")
    ops.prepare()
    try:
        ops.start_code_server()
        ops.start_daemon()
        # A run-status sensor only sees failures after its first tick (its cursor starts there).
        wait_for(lambda: ops.tick_count(RUN_FAILURE_SENSOR), 30, "the failure sensor's tick")
        yield ops
    finally:
        ops.stop()


def failure_alert(receiver: WebhookReceiver, run_id: str, timeout_s: float = 20) -> dict[str, Any]:
    def found() -> list[dict[str, Any]]:
        return [body for body in receiver.bodies("run_failure") if body["run_id"] == run_id]

    [body] = wait_for(found, timeout_s, f"the failure alert of run {run_id}")
    return body


def diagnostics(stack: DaemonStack, run_id: str) -> str:
    return (
        f"\nrun events: {stack.messages(run_id)}\n--- daemon ---\n{stack.log_tail('daemon')}"
        f"\n--- code server ---\n{stack.log_tail('code_server')}"
    )


def test_shipped_instance_configs_monitor_runs() -> None:
    for path in (REPO_ROOT / "dagster.yaml", REPO_ROOT / "deploy/postgres/dagster.yaml"):
        monitoring = yaml.safe_load(path.read_text())["run_monitoring"]
        assert monitoring["enabled"] is True, path
        assert monitoring["max_runtime_seconds"] == 1800, path
        assert monitoring["start_timeout_seconds"] > 0, path
        assert monitoring["free_slots_after_run_end_seconds"] > 0, path
    seed_jobs = {"sync_markets", "sync_whale_trades", "compute_whale_stats", "cleanup_old_activity"}
    runtimes = {
        job.name: int(job.tags[MAX_RUNTIME_TAG]) for job in defs.jobs or [] if job.name in seed_jobs
    }
    assert set(runtimes) == seed_jobs
    assert runtimes[sync_whale_trades_job.name] == 300
    assert all(0 < seconds <= 1800 for seconds in runtimes.values())


@pytest.mark.timeout(90)
def test_run_over_max_runtime_is_failed_by_monitoring_and_alerted(
    stack: DaemonStack, receiver: WebhookReceiver
) -> None:
    run_id = stack.launch_nap(120, {MAX_RUNTIME_TAG: "3"})
    pid = stack.worker_pid(run_id)
    failed = lambda: stack.messages(run_id, dg.DagsterEventType.RUN_FAILURE)  # noqa: E731
    assert wait_for(failed, 40, "monitoring to fail the run") == [
        "Exceeded maximum runtime of 3 seconds."
    ], diagnostics(stack, run_id)
    run = stack.wait_finished(run_id, 10)
    info = diagnostics(stack, run_id)
    assert "Canceling due to exceeding maximum runtime of 3 seconds." in stack.messages(run_id)
    # The daemon records RUN_FAILURE; the interrupted worker may record its own cancellation
    # after that (a race inside Dagster 1.13), so the final status is FAILURE or CANCELED.
    assert run.status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED), info
    wait_for(lambda: not alive(pid), 15, "the hung run worker to be stopped")

    body = failure_alert(receiver, run_id)
    assert body["job_name"] == alerts_workspace.NAP_JOB
    assert body["asset_keys"] == ["alerts_nap"]
    assert "Exceeded maximum runtime of 3 seconds." in body["error"]
    assert body["run_url"] == f"http://ui.test:3000/runs/{run_id}"


@pytest.mark.timeout(90)
def test_killed_run_worker_is_failed_and_the_job_runs_again(
    stack: DaemonStack, receiver: WebhookReceiver
) -> None:
    run_id = stack.launch_nap(120, {MAX_RUNTIME_TAG: "60"})
    pid = stack.worker_pid(run_id)
    killed_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    run = stack.wait_finished(run_id, 30)
    assert run.status == dg.DagsterRunStatus.FAILURE, diagnostics(stack, run_id)
    assert time.monotonic() - killed_at < 30  # detected from the dead process, not by timeout
    # With the default run launcher it is the code server that notices its child died.
    crash = f"Run execution process for {run_id} was terminated by signal 9"
    assert any(crash in message for message in stack.messages(run_id)), diagnostics(stack, run_id)
    # The alert and the run summary (sync-log) name the worker and the signal, without
    # Dagster's out-of-memory guess (the kernel log says nothing of the kind here).
    cause = f"run worker {pid} was killed by signal 9 (SIGKILL)"
    error = failure_alert(receiver, run_id)["error"]
    assert error.splitlines()[0] == cause, error
    assert "memory" not in error, error
    record = stack.require_instance().get_run_record_by_id(run_id)
    assert summarise(stack.require_instance(), record).error == cause

    # The job's one-at-a-time limit is free again: the next run starts and succeeds.
    next_id = stack.launch_nap(0)
    assert stack.wait_finished(next_id, 40).status == dg.DagsterRunStatus.SUCCESS, diagnostics(
        stack, next_id
    )


@pytest.mark.timeout(90)
def test_run_orphaned_by_a_crashed_code_server_is_failed_by_monitoring(
    stack: DaemonStack, receiver: WebhookReceiver
) -> None:
    """Worker and code server die together: nothing but run monitoring can notice."""
    run_id = stack.launch_nap(120, {MAX_RUNTIME_TAG: "10"})
    pid = stack.worker_pid(run_id)
    stack.kill_code_server()
    os.kill(pid, signal.SIGKILL)
    assert stack.run(run_id).status == dg.DagsterRunStatus.STARTED  # and would stay so
    stack.start_code_server()

    run = stack.wait_finished(run_id, 45)
    info = diagnostics(stack, run_id)
    assert run.status == dg.DagsterRunStatus.FAILURE, info
    canceling = "Canceling due to exceeding maximum runtime of 10 seconds."
    assert canceling in stack.messages(run_id), info
    assert canceling in failure_alert(receiver, run_id)["error"]

    next_id = stack.launch_nap(0)
    assert stack.wait_finished(next_id, 40).status == dg.DagsterRunStatus.SUCCESS, diagnostics(
        stack, next_id
    )
