"""Who runs a run, and whether it still does: run-worker tags and orphaned-run recovery.

Every run worker tags its run with its pid, host, the creation time of its process and of its
parent (the code server that spawned it), through the executor, the first code of ours that
runs in the worker. When the machine or the whole process group dies, nothing of Dagster's
notices: the code server that would report the dead child died with it, and run monitoring waits
for ``max_runtime``, while the one-at-a-time schedule skips every tick. :func:`fail_orphaned_runs`
fails such runs at once, with the cause; ``scripts/start`` calls it on start, the systemd daemon
unit before the daemon starts (``python -m opinion_pipeline.automation.run_workers``), and the
``orphaned_runs`` sensor every 30 s.

A worker is gone when no process has its pid, or the process with its pid was created at
another time (a reused pid, a reboot). Only runs whose worker ran on this host are judged.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from opinion_pipeline.run_log.worker_death import started_worker

PID_TAG = "opinion/worker_pid"
HOST_TAG = "opinion/worker_host"
CREATED_TAG = "opinion/worker_created"  # epoch seconds the worker process was created
PARENT_TAG = "opinion/worker_parent"  # "<pid>@<creation epoch>" of the code server
SAME_PROCESS_S = 0.5
ORPHAN_STATUSES = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
ORPHANED_RUNS_SENSOR = "orphaned_runs"


# ------------------------------------------------------------------------------ processes


def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def process_created(pid: int) -> float | None:
    """Creation time of process ``pid`` (epoch s) from /proc; None if none runs or no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # a zombie has finished
        return None
    boot = _boot_time()
    if boot is None:
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def process_gone(pid: int, created: float | None) -> bool:
    """No process ``pid`` created at ``created`` runs now (pid reuse and reboots count as gone)."""
    if Path("/proc/self/stat").exists():
        now_created = process_created(pid)
        if now_created is None:
            return True
        return created is not None and abs(now_created - created) > SAME_PROCESS_S
    try:  # no /proc (macOS): liveness only
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def worker_tags() -> dict[str, str]:
    """The tags the current process (a run worker) puts on its run."""
    pid, parent = os.getpid(), os.getppid()
    return {
        PID_TAG: str(pid),
        HOST_TAG: socket.gethostname(),
        CREATED_TAG: f"{process_created(pid) or time.time():.2f}",
        PARENT_TAG: f"{parent}@{process_created(parent) or 0:.2f}",
    }


# ------------------------------------------------------------------------------- executor


class _TaggingExecutor(dg.Executor):
    """The in-process executor, tagging the run with its worker before the first step."""

    def __init__(self, inner: dg.Executor) -> None:
        self._inner = inner

    @property
    def retries(self) -> Any:
        return self._inner.retries

    @property
    def step_dependency_config(self) -> Any:
        return self._inner.step_dependency_config

    def execute(self, plan_context: Any, execution_plan: Any) -> Iterator[Any]:
        try:
            plan_context.instance.add_run_tags(plan_context.run_id, worker_tags())
        except Exception as exc:  # recovery data must never fail the run
            plan_context.log.warning(f"run worker tags not recorded: {type(exc).__name__}")
        yield from self._inner.execute(plan_context, execution_plan)


@dg.executor(name="in_process", config_schema=dg.in_process_executor.config_schema)
def tagged_in_process_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    """Every step in the run worker's process (as before), with the worker's tags on the run."""
    return _TaggingExecutor(dg.in_process_executor.executor_creation_fn(init_context))  # type: ignore[misc]


# ------------------------------------------------------------------------------- orphans


@dataclass(frozen=True)
class Worker:
    pid: int
    host: str | None
    created: float | None  # process creation time, when the worker tagged its run
    recorded_at: float | None  # when Dagster's "Started process" event was written
    parent: tuple[int, float] | None = None


def recorded_worker(instance: dg.DagsterInstance, run: dg.DagsterRun) -> Worker | None:
    tags = run.tags
    if PID_TAG in tags:
        parent = None
        if PARENT_TAG in tags:
            pid, _, created = tags[PARENT_TAG].partition("@")
            parent = (int(pid), float(created or 0))
        return Worker(
            int(tags[PID_TAG]),
            tags.get(HOST_TAG),
            float(tags[CREATED_TAG]) if CREATED_TAG in tags else None,
            None,
            parent,
        )
    started = started_worker(instance, run.run_id)
    return Worker(started[0], None, None, started[1]) if started else None


def is_local_instance(instance: dg.DagsterInstance) -> bool:
    """SQLite storage: every run of it ran on this machine."""
    return "sqlite" in type(instance.run_storage).__name__.lower()


@dataclass(frozen=True)
class OrphanedRun:
    run_id: str
    job_name: str
    message: str


def _worker_gone(worker: Worker) -> bool:
    if worker.created is not None:
        return process_gone(worker.pid, worker.created)
    created = process_created(worker.pid)
    if created is None:
        return process_gone(worker.pid, None)
    return worker.recorded_at is not None and created > worker.recorded_at + SAME_PROCESS_S


def orphan_cause(
    instance: dg.DagsterInstance, run: dg.DagsterRun, *, at_start: bool, host: str
) -> str | None:
    """Why ``run`` is orphaned, or None while its worker may live (or runs elsewhere).

    ``at_start``: called before anything of this stack runs (nothing can be launching now).
    A run is failed only when its code server died too: a live code server reports its dead
    child itself, with the signal.
    """
    worker = recorded_worker(instance, run)
    local = is_local_instance(instance)
    if worker is None:
        if at_start and local and run.status == dg.DagsterRunStatus.STARTING:
            return "its run worker never started: the stack stopped while launching it"
        return None
    if worker.host is not None and worker.host != host:
        return None
    if worker.host is None and not (at_start and local):
        return None
    if not _worker_gone(worker):
        return None
    if worker.parent is not None and not process_gone(*worker.parent):
        return None  # its code server lives and reports how the worker ended
    if worker.parent is None and not at_start:
        return None
    where = f" on {worker.host or host}"
    return (
        f"run worker {worker.pid}{where} is gone: it died with the machine or with its process "
        "group (no process has its pid now), so nothing could report how it ended"
    )


def fail_orphaned_runs(
    instance: dg.DagsterInstance, *, at_start: bool, by: str, host: str | None = None
) -> list[OrphanedRun]:
    """Fail every STARTING/STARTED run whose worker is gone; returns what was failed."""
    host = host or socket.gethostname()
    failed = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=ORPHAN_STATUSES)):
        run = record.dagster_run
        cause = orphan_cause(instance, run, at_start=at_start, host=host)
        if cause is None:
            continue
        current = instance.get_run_by_id(run.run_id)
        if current is None or current.status not in ORPHAN_STATUSES:
            continue  # finished meanwhile
        message = f"{cause}; failed by {by}."
        instance.report_run_failed(current, message)
        failed.append(OrphanedRun(run.run_id, run.job_name, message))
    return failed


def build_orphaned_runs_sensor(
    name: str = ORPHANED_RUNS_SENSOR, minimum_interval_seconds: int = 30
) -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Fails a started run at once when its run worker and the code server that spawned it "
            "are both gone (a killed process group), instead of waiting for its max runtime."
        ),
    )
    def _orphaned_runs(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        failed = fail_orphaned_runs(context.instance, at_start=False, by=f"the {name} sensor")
        for orphan in failed:
            context.log.warning(f"failed orphaned run {orphan.run_id}: {orphan.message}")
        return dg.SkipReason(f"failed {len(failed)} orphaned run(s)")

    return _orphaned_runs


def main() -> int:
    """Fail this instance's orphaned runs, before the daemon starts (systemd ExecStartPre)."""
    with dg.DagsterInstance.get() as instance:
        for orphan in fail_orphaned_runs(instance, at_start=True, by="the start-up check"):
            print(f"failed orphaned run {orphan.run_id} ({orphan.job_name}): {orphan.message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
