"""Operations assets: pipeline health, whale status, sync statistics, run-history upkeep.

The logic is in ``opinion_pipeline.operations``; these wrappers read settings, hold the
warehouse only for short blocks (never during the API probe), and record the numbers as metadata.
"""

from datetime import datetime, timedelta, timezone

import dagster as dg

from opinion_pipeline import settings
from opinion_pipeline.assets import catalog
from opinion_pipeline.assets.catalog import column_schema
from opinion_pipeline.assets.constants import MAINTENANCE, OWNERS, WHALE_TRADES
from opinion_pipeline.assets.markdown import markdown_table
from opinion_pipeline.operations import health
from opinion_pipeline.operations.inactive import update_whale_status
from opinion_pipeline.operations.run_history import prune_runs
from opinion_pipeline.operations.sync_stats import compute_sync_stats, stats_markdown, totals
from opinion_pipeline.resources.warehouse import DuckDBWarehouse

PIPELINE_HEALTH = "pipeline_health"
WHALE_STATUS = "whale_status"
SYNC_STATISTICS = "sync_statistics"
RUN_HISTORY_ARCHIVE = "run_history_archive"

HEALTH_INTERVAL = timedelta(minutes=30)


def _health_specs() -> list[dg.AssetCheckSpec]:
    def spec(name: str, description: str) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(name, asset=PIPELINE_HEALTH, description=description)

    specs = [
        spec(health.WAREHOUSE_REACHABLE, "The DuckDB warehouse opens and answers (ERROR if not)."),
        spec(health.API_REACHABLE, "One market-list request succeeds with OPINION_API_KEY."),
        spec(
            health.QUARANTINE_GROWTH,
            "Rows quarantined since the last check, warned above OPINION_HEALTH_QUARANTINE_WARN.",
        ),
    ]
    specs += [
        spec(
            health.table_check_name(table),
            f"Row count of {table} against OPINION_HEALTH_THRESHOLDS (WARN / ERROR).",
        )
        for table in settings.DEFAULT_HEALTH_THRESHOLDS
    ]
    return specs


class HealthConfig(dg.Config):
    lock_timeout_s: float = 120.0  # a write holding the warehouse longer than this is a problem
    fail_run_on_error: bool = True  # so run-failure alerts fire on ERROR checks


@dg.asset(
    name=PIPELINE_HEALTH,
    group_name=MAINTENANCE,
    kinds={"duckdb", "python"},
    owners=OWNERS,
    check_specs=_health_specs(),
    metadata=column_schema(catalog.HEALTH_REPORT),
    description=(
        "Every 30 minutes: is the warehouse reachable, is each table within its warning and error "
        "sizes (OPINION_HEALTH_THRESHOLDS), is quarantine growing, does the API accept the key. "
        "The run fails when an ERROR check fails, so run-failure alerts fire."
    ),
)
def pipeline_health(
    context: dg.AssetExecutionContext, config: HealthConfig, warehouse: DuckDBWarehouse
):
    tunables = settings.OperationsSettings.from_env()
    now = datetime.now(timezone.utc)
    previous = context.instance.get_latest_materialization_event(dg.AssetKey(PIPELINE_HEALTH))
    since = (
        datetime.fromtimestamp(previous.timestamp, tz=timezone.utc)
        if previous is not None
        else now - HEALTH_INTERVAL
    )
    probing = DuckDBWarehouse(path=warehouse.path, lock_timeout_s=config.lock_timeout_s)
    probe = health.probe_warehouse(probing, list(tunables.health_thresholds), since)
    # The API probe runs after the warehouse block has closed: never hold the lock over HTTP.
    api = health.api_check_from_env(PIPELINE_HEALTH)
    results = [
        health.reachable_check(PIPELINE_HEALTH, probe, warehouse.path),
        api,
        health.quarantine_check(PIPELINE_HEALTH, probe, since, tunables.health_quarantine_warn),
        *health.table_checks(PIPELINE_HEALTH, probe, tunables.health_thresholds),
    ]
    failed = [r for r in results if not r.passed]
    errors = health.failed_errors(results)
    status = "ERROR" if errors else "WARN" if failed else "OK"
    metadata: dict[str, object] = {
        "status": status,
        "checks_failed": len(failed),
        "errors": len(errors),
        "quarantine_since": since.isoformat(),
        **{f"rows_{table}": count for table, count in probe.counts.items() if count is not None},
    }
    if probe.quarantine_new is not None:
        metadata["quarantine_new"] = probe.quarantine_new
    yield dg.MaterializeResult(metadata=metadata, check_results=results)
    if errors and config.fail_run_on_error:
        raise dg.Failure(
            description="health check ERROR: "
            + "; ".join(f"{r.check_name}: {r.description}" for r in errors)
        )


class WhaleStatusConfig(dg.Config):
    inactive_after_days: int | None = None  # default: OPINION_INACTIVE_AFTER_DAYS (90)


@dg.asset(
    name=WHALE_STATUS,
    group_name=MAINTENANCE,
    kinds={"duckdb"},
    owners=OWNERS,
    deps=[WHALE_TRADES],
    metadata=column_schema("whales"),
    description=(
        "Daily: whales with no trade for OPINION_INACTIVE_AFTER_DAYS (90) become inactive "
        "(polled at most every OPINION_INACTIVE_POLL_MINUTES); inactive whales with a recent "
        "trade become active again. Table: whales (status, inactive_since)."
    ),
)
def whale_status(config: WhaleStatusConfig, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    days = config.inactive_after_days or settings.PipelineSettings.from_env().inactive_after_days
    with warehouse.transaction() as conn:
        update = update_whale_status(conn, days)
    table = markdown_table(["whale", "wallet", "last trade (UTC)"], update.newly_inactive)
    return dg.MaterializeResult(
        metadata={
            "marked_inactive": update.marked_inactive,
            "reactivated": update.reactivated,
            "active": update.active,
            "inactive": update.inactive,
            "inactive_after_days": days,
            "dagster/row_count": update.active + update.inactive,
            "newly_inactive": dg.MetadataValue.md(table),
        }
    )


class SyncStatisticsConfig(dg.Config):
    window_hours: int = 24


@dg.asset(
    name=SYNC_STATISTICS,
    group_name=MAINTENANCE,
    kinds={"python"},
    owners=OWNERS,
    metadata=column_schema(catalog.SYNC_STATISTICS),
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


class RunHistoryConfig(dg.Config):
    retention_days: int | None = None  # default: OPINION_RUN_RETENTION_DAYS (30)
    batch_size: int = 500
    max_runs: int = 20_000  # per materialization, so a first pass over years stays bounded


@dg.asset(
    name=RUN_HISTORY_ARCHIVE,
    group_name=MAINTENANCE,
    kinds={"parquet"},
    owners=OWNERS,
    metadata=column_schema(catalog.RUN_HISTORY),
    description=(
        "Daily: Dagster runs older than OPINION_RUN_RETENTION_DAYS (30) summarised one row per run "
        "into Parquet under OPINION_ARCHIVE_DIR/runs, then deleted from the Dagster instance "
        "(run and event log). Runs still in progress are never touched."
    ),
)
def run_history_archive(
    context: dg.AssetExecutionContext, config: RunHistoryConfig
) -> dg.MaterializeResult:
    days = config.retention_days or settings.OperationsSettings.from_env().run_retention_days
    now = datetime.now(timezone.utc)
    root = settings.run_archive_dir()
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


OPERATIONS_ASSETS = [pipeline_health, whale_status, sync_statistics, run_history_archive]
