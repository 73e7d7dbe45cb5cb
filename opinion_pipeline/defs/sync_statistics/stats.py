"""Per-job statistics of the sync log over a window: the seeds' sync dashboard, from Dagster.

Run status and timing come from the run storage; requests and 429s from the numbers the ingest
assets record on their materializations. Reads one event-log query per run: about 1,800 runs a
day for the project's schedules, a few seconds hourly on SQLite or PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import dagster as dg

from opinion_pipeline.reporting.markdown import markdown_table
from opinion_pipeline.run_log.summary import RunSummary, percentile, summarise

PAGE = 500


@dataclass(frozen=True)
class JobStats:
    job_name: str
    runs: int
    succeeded: int
    failed: int
    canceled: int
    in_progress: int
    p50_s: float | None
    p95_s: float | None
    requests: int
    rate_limited_429s: int
    new_rows: int
    quarantined: int
    last_failure: str | None

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed + self.canceled

    @property
    def success_rate(self) -> float | None:
        """Share of finished runs that succeeded (runs still going are not counted)."""
        return self.succeeded / self.finished if self.finished else None


def runs_since(instance: dg.DagsterInstance, since: datetime) -> list[dg.RunRecord]:
    """Every run created after ``since`` (paged, newest first)."""
    records: list[dg.RunRecord] = []
    cursor: str | None = None
    while True:
        page = instance.get_run_records(
            dg.RunsFilter(created_after=since), limit=PAGE, cursor=cursor
        )
        records.extend(page)
        if len(page) < PAGE:
            return records
        cursor = page[-1].dagster_run.run_id


def job_stats(job_name: str, summaries: Sequence[RunSummary]) -> JobStats:
    by_status: dict[str, int] = defaultdict(int)
    for summary in summaries:
        by_status[summary.status] += 1
    durations = [s.duration_s for s in summaries if s.finished and s.duration_s is not None]
    failures = [s for s in summaries if s.status == dg.DagsterRunStatus.FAILURE.value]
    latest_failure = max(failures, key=lambda s: s.created_at, default=None)

    def total(name: str) -> int:
        return int(sum(summary.numbers.get(name, 0) for summary in summaries))

    return JobStats(
        job_name=job_name,
        runs=len(summaries),
        succeeded=by_status[dg.DagsterRunStatus.SUCCESS.value],
        failed=by_status[dg.DagsterRunStatus.FAILURE.value],
        canceled=by_status[dg.DagsterRunStatus.CANCELED.value],
        in_progress=sum(1 for summary in summaries if not summary.finished),
        p50_s=percentile(durations, 0.50),
        p95_s=percentile(durations, 0.95),
        requests=total("requests"),
        rate_limited_429s=total("rate_limited_429s"),
        new_rows=total("new_rows"),
        quarantined=total("quarantined"),
        last_failure=latest_failure.error if latest_failure else None,
    )


def compute_sync_stats(
    instance: dg.DagsterInstance, since: datetime, now: datetime
) -> list[JobStats]:
    """One JobStats per job that had a run created in [since, now], sorted by job name.

    A run launched from the UI (``__ASSET_JOB``) counts under the job that owns its assets.
    """
    grouped: dict[str, list[RunSummary]] = defaultdict(list)
    for record in runs_since(instance, since):
        summary = summarise(instance, record, now=now)
        grouped[summary.owner].append(summary)
    return [job_stats(name, grouped[name]) for name in sorted(grouped)]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def stats_markdown(stats: Sequence[JobStats]) -> str:
    headers = [
        "job", "runs", "success rate", "failed", "canceled", "in progress", "p50 s", "p95 s",
        "requests", "429s", "new rows", "quarantined", "last failure",
    ]  # fmt: skip
    rows = [
        (
            s.job_name, s.runs, _rate(s.success_rate), s.failed, s.canceled, s.in_progress,
            _seconds(s.p50_s), _seconds(s.p95_s), s.requests, s.rate_limited_429s, s.new_rows,
            s.quarantined, s.last_failure or "",
        )
        for s in stats
    ]  # fmt: skip
    return markdown_table(headers, rows)


def totals(stats: Sequence[JobStats]) -> dict[str, float]:
    """Numeric totals over every job (the UI plots them across materializations)."""
    succeeded = sum(s.succeeded for s in stats)
    finished = sum(s.finished for s in stats)
    return {
        "jobs": len(stats),
        "runs": sum(s.runs for s in stats),
        "succeeded": succeeded,
        "failed": sum(s.failed for s in stats),
        "canceled": sum(s.canceled for s in stats),
        "in_progress": sum(s.in_progress for s in stats),
        "success_rate": round(succeeded / finished, 4) if finished else 1.0,
        "requests": sum(s.requests for s in stats),
        "rate_limited_429s": sum(s.rate_limited_429s for s in stats),
        "new_rows": sum(s.new_rows for s in stats),
        "quarantined": sum(s.quarantined for s in stats),
    }
