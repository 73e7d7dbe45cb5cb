"""Run-history upkeep: summarise old Dagster runs into Parquet, then delete them from Dagster.

Dagster never prunes runs or their event logs (a 1-minute schedule makes ~525k runs a year), so
runs older than the retention window are archived one row per run and then deleted. Only
finished runs are touched. Reruns are harmless: a batch's file is named from its run ids and
written through a temporary file and a rename, and runs already in the archive are not written
again (a crash between writing and deleting leaves them to be deleted by the next run).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import pandas as pd

from opinion_pipeline.defs.run_history.tables import RUN_HISTORY
from opinion_pipeline.run_log.summary import FINISHED_STATUSES, SYNC_NUMBERS, RunSummary, summarise
from opinion_pipeline.warehouse.parquet_files import column_values, write_checked

TAGS_OF_INTEREST = (
    "dagster/schedule_name",
    "dagster/sensor_name",
    "dagster/partition",
    "dagster/backfill",
    "dagster/failure_reason",
    "opinion/job",
)
SCHEMA = {column.name: column.type for column in RUN_HISTORY}
COLUMNS = RUN_HISTORY.column_names


@dataclass
class PruneResult:
    cutoff: datetime
    considered: int = 0
    archived: int = 0
    already_archived: int = 0
    deleted: int = 0
    skipped_in_progress: int = 0
    files: list[str] = field(default_factory=list)


def archived_run_ids(root: Path) -> set[str]:
    """Run ids present in the archive (finished files only)."""
    return {str(run_id) for run_id in column_values(root, "run_id")}


def archive_frame(summaries: Sequence[RunSummary], archived_at: datetime) -> pd.DataFrame:
    rows = []
    for s in summaries:
        rows.append(
            {
                "run_id": s.run_id,
                "job_name": s.job_name,
                "status": s.status,
                "created_at": s.created_at,
                "started_at": s.started_at,
                "ended_at": s.ended_at,
                "duration_s": s.duration_s,
                "schedule_name": s.tags.get("dagster/schedule_name"),
                "sensor_name": s.tags.get("dagster/sensor_name"),
                "tags_json": json.dumps(
                    {k: s.tags[k] for k in TAGS_OF_INTEREST if k in s.tags}, sort_keys=True
                ),
                **{name: s.numbers.get(name) for name in SYNC_NUMBERS},
                "error": s.error,
                "archived_at": archived_at,
            }
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for name in SYNC_NUMBERS:
        frame[name] = pd.array(frame[name].astype("Float64").round(), dtype="Int64")
    for name in ("created_at", "started_at", "ended_at", "archived_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    frame["duration_s"] = frame["duration_s"].astype("float64")
    return frame


def batch_file(root: Path, summaries: Sequence[RunSummary]) -> Path:
    """runs/YYYY-MM/runs-<first day>-<hash of the run ids>.parquet: same batch, same name."""
    digest = hashlib.sha256("\n".join(sorted(s.run_id for s in summaries)).encode()).hexdigest()
    first = min(s.created_at for s in summaries)
    return root / first.strftime("%Y-%m") / f"runs-{first:%Y%m%d}-{digest[:16]}.parquet"


def write_parquet(frame: pd.DataFrame, target: Path) -> None:
    """Write one batch of archived runs with the archive's column types, atomically."""
    write_checked(frame, target, SCHEMA)


def prune_runs(
    instance: dg.DagsterInstance,
    root: Path,
    cutoff: datetime,
    *,
    batch_size: int = 500,
    max_runs: int = 20_000,
    now: datetime | None = None,
) -> PruneResult:
    """Archive then delete finished runs created before ``cutoff``, oldest first."""
    now = now or datetime.now(timezone.utc)
    result = PruneResult(cutoff=cutoff)
    archived = archived_run_ids(root)
    runs_filter = dg.RunsFilter(created_before=cutoff, statuses=list(FINISHED_STATUSES))
    while result.considered < max_runs:
        limit = min(batch_size, max_runs - result.considered)
        records = instance.get_run_records(runs_filter, limit=limit, ascending=True)
        if not records:
            break
        result.considered += len(records)
        summaries = [summarise(instance, record, now=now) for record in records]
        fresh = [s for s in summaries if s.run_id not in archived]
        result.already_archived += len(summaries) - len(fresh)
        if fresh:
            target = batch_file(root, fresh)
            if not target.exists():
                write_parquet(archive_frame(fresh, now), target)
            result.files.append(str(target))
            result.archived += len(fresh)
            archived.update(s.run_id for s in fresh)
        deleted_now = 0
        for summary in summaries:
            run = instance.get_run_by_id(summary.run_id)  # status again, just before deleting
            if run is None:
                continue
            if run.status not in FINISHED_STATUSES:
                result.skipped_in_progress += 1
                continue
            instance.delete_run(summary.run_id)
            deleted_now += 1
        result.deleted += deleted_now
        if deleted_now == 0:
            break  # nothing could be deleted: stop rather than loop on the same batch
    return result
