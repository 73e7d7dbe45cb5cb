"""The whale_positions asset: a snapshot of every due whale's positions."""

from datetime import datetime, timedelta, timezone

import dagster as dg

from opinion_pipeline.defs.whale_positions.store import snapshot_summary
from opinion_pipeline.defs.whale_positions.sync import PositionSyncOptions, sync_positions
from opinion_pipeline.defs.whale_positions.tables import WHALE_POSITIONS as POSITIONS_TABLE
from opinion_pipeline.opinion_api import OpinionAPI
from opinion_pipeline.reporting.catalog import column_schema
from opinion_pipeline.reporting.checks import (
    MAX_FAILURES_SHOWN,
    clear_failures,
    payload_check,
    sync_metadata,
)
from opinion_pipeline.reporting.markdown import markdown_table
from opinion_pipeline.reporting.names import INGEST, OWNERS, PAYLOAD_CHECK
from opinion_pipeline.resources import PipelineTunables
from opinion_pipeline.resources.warehouse import WarehouseResource

WHALE_POSITIONS = "whale_positions"
SNAPSHOTS_CHECK = "positions_snapshotted"


def _failed_check(failed: dict[str, str], saved: int) -> dg.AssetCheckResult:
    rows = sorted(failed.items())[:MAX_FAILURES_SHOWN]
    metadata: dict[str, object] = {"whales_failed": len(failed), "whales_snapshotted": saved}
    if rows:
        metadata["failed"] = dg.MetadataValue.md(markdown_table(["wallet", "error"], rows))
    return dg.AssetCheckResult(
        check_name=SNAPSHOTS_CHECK,
        asset_key=WHALE_POSITIONS,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{len(failed)} whale(s) could not be snapshotted; {saved} were"
            if failed
            else f"All {saved} whale(s) due were snapshotted."
        ),
        metadata=metadata,
    )


@dg.asset(
    pool="snapshot_whale_positions",  # its job's pool: one run at a time, however launched
    name=WHALE_POSITIONS,
    group_name=INGEST,
    kinds={"python", "duckdb"},
    owners=OWNERS,
    deps=["whale_registry"],
    metadata=column_schema(POSITIONS_TABLE),
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=2)),
    description=(
        "Snapshots of every tracked whale's positions (/positions/user/{wallet}): every 15 min "
        "for whales that traded in the last 7 days, hourly for the rest (OPINION_POSITIONS_*). "
        "A time series keyed by (wallet, market, outcome side, snapshot time). Tables: "
        "whale_positions, position_snapshots."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            PAYLOAD_CHECK,
            asset=WHALE_POSITIONS,
            blocking=True,
            description="Every position row passed the pandera schema.",
        ),
        dg.AssetCheckSpec(
            SNAPSHOTS_CHECK,
            asset=WHALE_POSITIONS,
            blocking=True,
            description="Every whale due was snapshotted (ERROR naming the rest).",
        ),
    ],
)
def whale_positions(
    context: dg.AssetExecutionContext,
    opinion_api: OpinionAPI,
    warehouse: WarehouseResource,
    pipeline: PipelineTunables,
):
    options = PositionSyncOptions(
        active_minutes=pipeline.positions_active_minutes,
        quiet_minutes=pipeline.positions_quiet_minutes,
        active_days=pipeline.positions_active_days,
        workers=pipeline.sync_workers,
        rate_limit_per_second=opinion_api.rate_limit_per_second,
    )
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with clear_failures():
        report = sync_positions(opinion_api, warehouse, options, now=now, run_id=context.run_id)
    saved = int(report.extra["whales_snapshotted"])
    if report.failed_wallets and saved == 0:
        raise dg.Failure(description=f"no whale could be snapshotted: {report.failed_wallets}")
    with warehouse.reader() as session:
        report.table_rows = session.count(POSITIONS_TABLE)
        top = snapshot_summary(session, now)
    table = markdown_table(
        ["wallet", "whale", "market", "outcome", "shares", "value", "market status", "claim"],
        top,
    )
    yield payload_check(WHALE_POSITIONS, report)
    yield _failed_check(report.failed_wallets, saved)
    yield dg.MaterializeResult(
        metadata={
            **sync_metadata(report),
            "snapshot_at": now.isoformat(),
            "largest_positions": dg.MetadataValue.md(table),
        }
    )
    if report.failed_wallets:
        raise dg.Failure(
            description=f"{len(report.failed_wallets)} whale(s) failed: "
            f"{sorted(report.failed_wallets)[:10]}"
        )
