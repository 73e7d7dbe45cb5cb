"""Maintenance assets: retention of old trades and activity."""

from datetime import datetime, timedelta, timezone

import dagster as dg

from opinion_pipeline.defs.retention.archive import run_retention
from opinion_pipeline.defs.retention.tables import ARCHIVE_MANIFEST
from opinion_pipeline.reporting.catalog import column_schema
from opinion_pipeline.reporting.checks import clear_failures
from opinion_pipeline.reporting.names import MAINTENANCE, OWNERS
from opinion_pipeline.resources import PipelineTunables
from opinion_pipeline.resources.warehouse import WarehouseResource

TRADES_ARCHIVE = "trades_archive"


class RetentionConfig(dg.Config):
    retention_days: int | None = None  # default: OPINION_RETENTION_DAYS (90)


@dg.asset(
    name=TRADES_ARCHIVE,
    pool="cleanup_old_activity",  # its job's pool: one run at a time, however launched
    group_name=MAINTENANCE,
    kinds={"parquet", "duckdb"},
    owners=OWNERS,
    deps=["whale_trades", "whale_activity"],
    metadata=column_schema(ARCHIVE_MANIFEST),
    description=(
        "Trades and activity older than the retention window (OPINION_RETENTION_DAYS, default 90) "
        "written to Parquet (one file set per month under OPINION_ARCHIVE_DIR) and only then "
        "deleted, in one transaction. Refuses a future cutoff or deleting every row."
    ),
)
def trades_archive(
    context: dg.AssetExecutionContext,
    config: RetentionConfig,
    warehouse: WarehouseResource,
    pipeline: PipelineTunables,
) -> dg.MaterializeResult:
    days = config.retention_days or pipeline.retention_days
    now = datetime.now(timezone.utc)
    cutoff = now - timedelta(days=days)
    archive_dir = pipeline.archive_path
    with clear_failures():
        result = run_retention(
            warehouse, archive_dir, cutoff=cutoff, now=now, run_id=context.run_id
        )
    context.log.info(
        f"archived {result.archived} into {len(result.files)} file(s) in {archive_dir}"
    )
    return dg.MaterializeResult(
        metadata={
            "cutoff": cutoff.isoformat(),
            "retention_days": days,
            "trades_archived": result.archived.get("trades", 0),
            "activity_archived": result.archived.get("whale_activity", 0),
            "files_written": len(result.files),
            "orphans_removed": result.orphans_removed,
            "archive_dir": str(archive_dir),
            "dagster/row_count": result.files_in_manifest,
        }
    )
