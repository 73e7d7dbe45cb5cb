"""Why a run failed from outside: which run worker died, and of what.

When a run worker is killed, Dagster's code server records an engine event ("Run execution
process for <run> was terminated by signal 9 (SIGKILL). This usually indicates ... out of
memory ...") and fails the run with a generic "marked as failed from outside the execution
context". The pid is in another engine event ("Started process for run (pid: N)."). This module
puts the two together as "run worker <pid> was killed by signal 9 (SIGKILL)", drops Dagster's
out-of-memory guess, and says out of memory only when the kernel log says so. Shared by the
failure alert and the run summaries (``sync-log``, the sync statistics).
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import dagster as dg

GENERIC_FAILURE = "This run has been marked as failed from outside the execution context."
_STARTED = re.compile(r"^Started process for run \(pid: (\d+)\)")
_TERMINATED = re.compile(r"was terminated by signal (\d+) \((\w+)\)")
_EXITED = re.compile(r"unexpectedly exited with code (-?\d+)")
_DAGSTER_OOM_GUESS = "This usually indicates that the process was killed by the operating system"


def _engine_records(instance: dg.DagsterInstance, run_id: str) -> list[Any]:
    try:
        return list(
            instance.get_records_for_run(
                run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=200
            ).records
        )
    except Exception:  # an explanation is best effort
        return []


def started_worker(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """(pid, when recorded) of the run's worker from Dagster's own "Started process" event."""
    found = None
    for record in _engine_records(instance, run_id):
        match = _STARTED.match(record.event_log_entry.message or "")
        if match:
            found = (int(match.group(1)), record.event_log_entry.timestamp)
    return found


def kernel_oom_killed(pid: int) -> bool:
    """True only if the kernel log (when readable) says its OOM killer killed ``pid``."""
    try:
        log = subprocess.run(
            ["dmesg"], capture_output=True, text=True, timeout=3, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return re.search(rf"Killed process {pid}\b", log) is not None


def worker_death(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """How the run worker died ("run worker <pid> was killed by signal 9 (SIGKILL)"), or None."""
    pid = None
    for record in _engine_records(instance, run_id):
        message = record.event_log_entry.message or ""
        started = _STARTED.match(message)
        if started:
            pid = int(started.group(1))
            continue
        killed = _TERMINATED.search(message)
        exited = _EXITED.search(message)
        if not (killed or exited):
            continue
        who = f"run worker {pid}" if pid is not None else "the run worker"
        if killed:
            text = f"{who} was killed by signal {killed.group(1)} ({killed.group(2)})"
            if pid is not None and kernel_oom_killed(pid):
                text += "; the kernel log says its out-of-memory killer killed it"
            return text
        return f"{who} exited unexpectedly with code {exited.group(1)}"  # type: ignore[union-attr]
    return None


def without_oom_guess(message: str) -> str:
    """A Dagster crash message without its out-of-memory guess (the kernel decides that)."""
    head, _, _ = message.partition(_DAGSTER_OOM_GUESS)
    return head.strip()
