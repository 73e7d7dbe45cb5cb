"""One finished or running Dagster run, summarised: the sync log's row.

Shared by the sync statistics asset, the run-history archive and the ``sync-log`` command, so
all three read status, timing, the ingest counts and the failure message the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import dagster as dg
from dagster import DagsterEventType

from opinion_pipeline.run_log.worker_death import GENERIC_FAILURE, worker_death

# Numbers the ingest assets record on every materialization (opinion_pipeline.sync.report).
SYNC_NUMBERS = (
    "items_fetched",
    "new_rows",
    "duplicates_skipped",
    "quarantined",
    "requests",
    "retries",
    "rate_limited_429s",
)
# Keys every SyncReport records (opinion_pipeline.sync.report.SyncReport.numbers).
SYNC_REPORT_SIGNATURE = frozenset({"items_fetched", "requests", "rate_limited_429s", "seconds"})

IN_PROGRESS_STATUSES = frozenset(
    {
        dg.DagsterRunStatus.QUEUED,
        dg.DagsterRunStatus.NOT_STARTED,
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
        dg.DagsterRunStatus.CANCELING,
    }
)
FINISHED_STATUSES = frozenset(
    {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
)

_FAILURE_EVENTS = {
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.RESOURCE_INIT_FAILURE,
    DagsterEventType.RUN_FAILURE,
}
# A failed run's whole error (every wallet and cause, every bad registry line); a bound only
# against a runaway message.
MAX_ERROR_CHARS = 50_000


OWNER_TAG = "opinion/job"  # automation.jobs.CONCURRENCY_TAG (run_log imports no definitions)


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    job_name: str
    status: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: float | None
    tags: Mapping[str, str] = field(default_factory=dict)
    numbers: Mapping[str, float] = field(default_factory=dict)
    error: str | None = None

    @property
    def owner(self) -> str:
        """The job the run counts under: its own, or the job whose assets a UI run materialized
        (the ``opinion/job`` tag the run_owner_tags sensor gives a ``__ASSET_JOB`` run)."""
        return self.tags.get(OWNER_TAG) or self.job_name

    @property
    def finished(self) -> bool:
        return self.status in {status.value for status in FINISHED_STATUSES}

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "job": self.job_name,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
            "numbers": dict(self.numbers),
            "error": self.error,
        }


def _utc(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, tz=timezone.utc)


def sync_numbers(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """The run's SYNC_NUMBERS summed over its sync reports; empty if it recorded none.

    Only materializations carrying a whole sync report count, so an asset that merely reports
    totals under the same names (the sync statistics) is never counted twice.
    """
    records = instance.get_records_for_run(
        run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION
    ).records
    totals: dict[str, float] = {}
    for record in records:
        materialization = record.event_log_entry.asset_materialization
        if materialization is None or not SYNC_REPORT_SIGNATURE.issubset(materialization.metadata):
            continue
        for name in SYNC_NUMBERS:
            value = getattr(materialization.metadata.get(name), "value", None)
            if isinstance(value, int | float) and not isinstance(value, bool):
                totals[name] = totals.get(name, 0) + value
    return totals


def _error_text(error: Any) -> str:
    """'Class: message' of the innermost cause (the user's error, not Dagster's wrapper)."""
    while getattr(error, "cause", None) is not None and error.cls_name.startswith("Dagster"):
        error = error.cause
    message = (error.message or "").strip()
    prefix, sep, rest = message.partition(": ")
    if sep and prefix.rsplit(".", 1)[-1] == error.cls_name:
        message = f"{error.cls_name}: {rest.strip()}"
    return message


def run_error(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """Why the run failed: the first step failure, else resource init, else the run failure."""
    records = instance.get_records_for_run(run_id, of_type=_FAILURE_EVENTS).records
    by_type: dict[DagsterEventType, Any] = {}
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is not None:
            by_type.setdefault(event.event_type, event)
    for event_type in (
        DagsterEventType.STEP_FAILURE,
        DagsterEventType.RESOURCE_INIT_FAILURE,
        DagsterEventType.RUN_FAILURE,
    ):
        event = by_type.get(event_type)
        if event is None:
            continue
        data = event.event_specific_data
        user_failure = getattr(data, "user_failure_data", None)
        if user_failure is not None and user_failure.description:
            text = user_failure.description
        elif getattr(data, "error", None) is not None:
            text = _error_text(data.error)
        else:
            text = event.message or ""
            if text.strip() == GENERIC_FAILURE:  # failed from outside: which worker died of what
                text = worker_death(instance, run_id) or text
        step = f"[{event.step_key}] " if event.step_key else ""
        return (step + text.strip())[:MAX_ERROR_CHARS]
    return None


def summarise(
    instance: dg.DagsterInstance,
    record: Any,
    *,
    now: datetime | None = None,
    with_numbers: bool = True,
) -> RunSummary:
    """A RunRecord as a RunSummary (one or two event-log reads per run)."""
    run = record.dagster_run
    started, ended = _utc(record.start_time), _utc(record.end_time)
    duration: float | None = None
    if record.start_time is not None and record.end_time is not None:
        duration = max(0.0, record.end_time - record.start_time)
    elif record.start_time is not None and run.status in IN_PROGRESS_STATUSES:
        current = (now or datetime.now(timezone.utc)).timestamp()
        duration = max(0.0, current - record.start_time)
    created = record.create_timestamp
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    failed = run.status == dg.DagsterRunStatus.FAILURE
    return RunSummary(
        run_id=run.run_id,
        job_name=run.job_name,
        status=run.status.value,
        created_at=created,
        started_at=started,
        ended_at=ended,
        duration_s=duration,
        tags=dict(run.tags),
        numbers=sync_numbers(instance, run.run_id) if with_numbers else {},
        error=run_error(instance, run.run_id) if failed else None,
    )


def percentile(values: Iterable[float], fraction: float) -> float | None:
    """Linear-interpolated percentile (``fraction`` in [0, 1]); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
