"""The sync_statistics asset: the sync-log dashboard, from the Dagster run history (hourly)."""

from datetime import datetime, timedelta, timezone

import dagster as dg

from opinion_pipeline.defs.sync_statistics.stats import compute_sync_stats, stats_markdown, totals
from opinion_pipeline.defs.sync_statistics.tables import BY_JOB
from opinion_pipeline.reporting.catalog import column_schema
from opinion_pipeline.reporting.names import MAINTENANCE, OWNERS

SYNC_STATISTICS = "sync_statistics"


class SyncStatisticsConfig(dg.Config):
    window_hours: int = 24


@dg.asset(
    name=SYNC_STATISTICS,
    pool="compute_sync_statistics",  # its job's pool: one run at a time, however launched
    group_name=MAINTENANCE,
    kinds={"python"},
    owners=OWNERS,
    metadata=column_schema(BY_JOB),
    description=(
        "Hourly, from the Dagster run history: per job over the last 24 h, runs, success rate, "
        "failures, p50/p95 duration, API requests and 429s (the sync-log dashboard)."
    ),
)
def sync_statistics(
    context: dg.AssetExecutionContext, config: SyncStatisticsConfig
) -> dg.MaterializeResult:
    now = datetime.now(timezone.utc)
    since = now - timedelta(hours=config.window_hours)
    stats = compute_sync_stats(context.instance, since, now)
    return dg.MaterializeResult(
        metadata={
            **totals(stats),
            "window_hours": config.window_hours,
            "since": since.isoformat(),
            "by_job": dg.MetadataValue.md(stats_markdown(stats)),
        }
    )
