"""Maintenance assets: retention of old trades and activity."""

from datetime import datetime, timedelta, timezone

import dagster as dg

from opinion_pipeline import settings
from opinion_pipeline.assets.catalog import column_schema
from opinion_pipeline.assets.constants import (
    MAINTENANCE,
    OWNERS,
    TRADES_ARCHIVE,
    WHALE_ACTIVITY,
    WHALE_TRADES,
)
from opinion_pipeline.assets.reporting import clear_failures
from opinion_pipeline.resources.warehouse import DuckDBWarehouse
from opinion_pipeline.warehouse.retention import archive_and_delete


class RetentionConfig(dg.Config):
    retention_days: int | None = None  # default: OPINION_RETENTION_DAYS (90)


@dg.asset(
    name=TRADES_ARCHIVE,
    group_name=MAINTENANCE,
    kinds={"parquet", "duckdb"},
    owners=OWNERS,
    deps=[WHALE_TRADES, WHALE_ACTIVITY],
    metadata=column_schema("archive_manifest"),
    description=(
        "Trades and activity older than the retention window (OPINION_RETENTION_DAYS, default 90) "
        "written to Parquet (one file set per month under OPINION_ARCHIVE_DIR) and only then "
        "deleted, in one transaction. Refuses a future cutoff or deleting every row."
    ),
)
def trades_archive(
    context: dg.AssetExecutionContext, config: RetentionConfig, warehouse: DuckDBWarehouse
) -> dg.MaterializeResult:
    days = config.retention_days or settings.PipelineSettings.from_env().retention_days
    now = datetime.now(timezone.utc)
    cutoff = now - timedelta(days=days)
    archive_dir = settings.archive_dir()
    with clear_failures(), warehouse.transaction() as conn:
        result = archive_and_delete(
            conn, archive_dir, cutoff=cutoff, now=now, run_id=context.run_id
        )
        archived_files = conn.execute("SELECT count(*) FROM archive_manifest").fetchone()[0]  # type: ignore[index]
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
            "dagster/row_count": int(archived_files),
        }
    )
