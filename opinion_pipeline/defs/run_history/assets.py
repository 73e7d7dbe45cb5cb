"""The run_history_archive asset: old Dagster runs summarised to Parquet, then deleted (daily)."""

from datetime import datetime, timedelta, timezone

import dagster as dg

from opinion_pipeline.defs.run_history.prune import prune_runs
from opinion_pipeline.defs.run_history.tables import RUN_HISTORY
from opinion_pipeline.reporting.catalog import column_schema
from opinion_pipeline.reporting.names import MAINTENANCE, OWNERS
from opinion_pipeline.resources import PipelineTunables

RUN_HISTORY_ARCHIVE = "run_history_archive"


class RunHistoryConfig(dg.Config):
    retention_days: int | None = None  # default: OPINION_RUN_RETENTION_DAYS (30)
    batch_size: int = 500
    max_runs: int = 20_000  # per materialization, so a first pass over years stays bounded


@dg.asset(
    name=RUN_HISTORY_ARCHIVE,
    pool="prune_run_history",  # its job's pool: one run at a time, however launched
    group_name=MAINTENANCE,
    kinds={"parquet"},
    owners=OWNERS,
    metadata=column_schema(RUN_HISTORY),
    description=(
        "Daily: Dagster runs older than OPINION_RUN_RETENTION_DAYS (30) summarised one row per run "
        "into Parquet under OPINION_ARCHIVE_DIR/runs, then deleted from the Dagster instance "
        "(run and event log). Runs still in progress are never touched."
    ),
)
def run_history_archive(
    context: dg.AssetExecutionContext, config: RunHistoryConfig, pipeline: PipelineTunables
) -> dg.MaterializeResult:
    days = config.retention_days or pipeline.run_retention_days
    now = datetime.now(timezone.utc)
    root = pipeline.run_archive_path
    result = prune_runs(
        context.instance,
        root,
        now - timedelta(days=days),
        batch_size=config.batch_size,
        max_runs=config.max_runs,
        now=now,
    )
    context.log.info(
        f"archived {result.archived} run(s) into {len(result.files)} file(s), "
        f"deleted {result.deleted} from the instance"
    )
    return dg.MaterializeResult(
        metadata={
            "cutoff": result.cutoff.isoformat(),
            "retention_days": days,
            "runs_archived": result.archived,
            "runs_already_archived": result.already_archived,
            "runs_deleted": result.deleted,
            "skipped_in_progress": result.skipped_in_progress,
            "files_written": len(result.files),
            "archive_dir": str(root),
        }
    )
