"""The four jobs of the seed design, one per schedule.

Every job runs in one process (``in_process_executor`` is set on the Definitions): a step per
process would spend seconds importing dagster, pandas and duckdb, every minute. The
``dagster/max_runtime`` tag lets run monitoring fail a run that hangs.
"""

import dagster as dg

from opinion_pipeline.assets.constants import (
    MARKETS,
    TRADES_ARCHIVE,
    WHALE_ACTIVITY,
    WHALE_REGISTRY,
    WHALE_STATS,
    WHALE_TRADES,
)

CONCURRENCY_TAG = "opinion/job"


def _tags(job_name: str, max_runtime_s: int) -> dict[str, str]:
    return {CONCURRENCY_TAG: job_name, "dagster/max_runtime": str(max_runtime_s)}


sync_markets_job = dg.define_asset_job(
    "sync_markets",
    selection=dg.AssetSelection.assets(MARKETS),
    description="Full sweep of the market list (every 5 minutes).",
    tags=_tags("sync_markets", 30 * 60),
)

sync_whale_trades_job = dg.define_asset_job(
    "sync_whale_trades",
    selection=dg.AssetSelection.assets(WHALE_REGISTRY, WHALE_TRADES, WHALE_ACTIVITY),
    description="Registry reload and incremental sync of every whale's trades (every minute).",
    tags=_tags("sync_whale_trades", 5 * 60),
)

compute_whale_stats_job = dg.define_asset_job(
    "compute_whale_stats",
    selection=dg.AssetSelection.assets(WHALE_STATS),
    description="Recompute whale statistics from the trades table (hourly).",
    tags=_tags("compute_whale_stats", 30 * 60),
)

cleanup_old_activity_job = dg.define_asset_job(
    "cleanup_old_activity",
    selection=dg.AssetSelection.assets(TRADES_ARCHIVE),
    description="Archive trades and activity past retention to Parquet, then delete them (daily).",
    tags=_tags("cleanup_old_activity", 30 * 60),
)

SCHEDULED_JOBS = (
    sync_markets_job,
    sync_whale_trades_job,
    compute_whale_stats_job,
    cleanup_old_activity_job,
)

# -- operations (issue 4): the pipeline's own upkeep ---------------------------------------------
# Asset names are spelled out here (not imported from assets.operations) so this module stays
# free of asset code, like the jobs above.

health_check_job = dg.define_asset_job(
    "health_check",
    selection=dg.AssetSelection.assets("pipeline_health"),
    description=(
        "Warehouse reachable, table sizes, quarantine growth, API key accepted (every 30 min)."
    ),
    tags=_tags("health_check", 10 * 60),
)

mark_inactive_whales_job = dg.define_asset_job(
    "mark_inactive_whales",
    selection=dg.AssetSelection.assets("whale_status"),
    description=(
        "Mark whales without a trade for 90 days inactive, reactivate traders (daily 01:00 UTC)."
    ),
    tags=_tags("mark_inactive_whales", 10 * 60),
)

compute_sync_statistics_job = dg.define_asset_job(
    "compute_sync_statistics",
    selection=dg.AssetSelection.assets("sync_statistics"),
    description=(
        "Per-job runs, success rate, p50/p95 duration, requests and 429s over 24 h (hourly)."
    ),
    tags=_tags("compute_sync_statistics", 15 * 60),
)

prune_run_history_job = dg.define_asset_job(
    "prune_run_history",
    selection=dg.AssetSelection.assets("run_history_archive"),
    description=(
        "Archive Dagster runs older than 30 days to Parquet, then delete them (daily 03:30 UTC)."
    ),
    tags=_tags("prune_run_history", 60 * 60),
)

OPERATIONS_JOBS = (
    health_check_job,
    mark_inactive_whales_job,
    compute_sync_statistics_job,
    prune_run_history_job,
)
