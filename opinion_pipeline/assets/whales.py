"""Whale assets: the registry, their trades, and the feed of big trades."""

from datetime import timedelta

import dagster as dg
import duckdb

from opinion_pipeline import settings
from opinion_pipeline.assets.catalog import column_schema
from opinion_pipeline.assets.constants import (
    INGEST,
    OWNERS,
    PAYLOAD_CHECK,
    TRADE_KEYS_CHECK,
    WHALE_ACTIVITY,
    WHALE_REGISTRY,
    WHALE_TRADES,
)
from opinion_pipeline.assets.markdown import markdown_table
from opinion_pipeline.assets.reporting import (
    clear_failures,
    payload_check,
    sync_metadata,
    trade_keys_check,
)
from opinion_pipeline.opinion_api import OpinionAPI
from opinion_pipeline.resources.warehouse import DuckDBWarehouse
from opinion_pipeline.sync.registry import sync_whale_registry, tracked_whales
from opinion_pipeline.sync.whale_trades import WhaleSyncOptions, sync_whale_trades
from opinion_pipeline.warehouse.trades import repeated_trade_keys

LATEST_ACTIVITY_SHOWN = 10


@dg.asset(
    name=WHALE_REGISTRY,
    group_name=INGEST,
    kinds={"csv", "duckdb"},
    owners=OWNERS,
    metadata=column_schema("whales"),
    description=(
        "Tracked wallets, loaded from the registry file (OPINION_WHALES_FILE: address,label,tags) "
        "at every sync. A malformed or duplicated line fails the run naming its line number. "
        "Table: whales."
    ),
)
def whale_registry(warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    path = settings.whales_file()
    with clear_failures():
        result = sync_whale_registry(warehouse, path)
    return dg.MaterializeResult(
        metadata={
            "whales_listed": result.listed,
            "whales_added": result.added,
            "whales_removed": result.removed,
            "registry_file": str(path),
            "dagster/row_count": result.listed,
        }
    )


def _latest_activity_markdown(conn: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    total = conn.execute("SELECT count(*) FROM whale_activity").fetchone()[0]  # type: ignore[index]
    rows = conn.execute(
        """
        SELECT created_at, label, wallet, side, outcome, round(usd_value, 2), market_title
        FROM whale_activity ORDER BY created_at DESC, trade_key LIMIT ?
        """,
        [LATEST_ACTIVITY_SHOWN],
    ).fetchall()
    table = markdown_table(
        ["time (UTC)", "whale", "wallet", "side", "outcome", "USD", "market"], rows
    )
    return int(total), table


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            WHALE_TRADES,
            group_name=INGEST,
            kinds={"python", "duckdb"},
            owners=OWNERS,
            deps=[WHALE_REGISTRY],
            metadata=column_schema("trades"),
            freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(minutes=5)),
            description=(
                "Every trade of every tracked whale, synced incrementally (newest first, stopping "
                "at trades already stored; full history for a new whale). Deduplicated on "
                "trade_key. USD value = amount x quoteTokenUsdPrice. Table: trades."
            ),
        ),
        dg.AssetSpec(
            WHALE_ACTIVITY,
            group_name=INGEST,
            kinds={"duckdb"},
            owners=OWNERS,
            deps=[WHALE_TRADES],
            metadata=column_schema("whale_activity"),
            description=(
                "Feed of new whale trades worth at least OPINION_WHALE_ALERT_USD (default 10,000), "
                "written in the same transaction as the trades. Table: whale_activity."
            ),
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            PAYLOAD_CHECK,
            asset=WHALE_TRADES,
            blocking=True,
            description="Every trade row passed the pandera schema (failures are quarantined).",
        ),
        dg.AssetCheckSpec(
            TRADE_KEYS_CHECK,
            asset=WHALE_TRADES,
            blocking=True,
            description="Every trade the run wrote is stored exactly once (trade_key).",
        ),
    ],
)
def whale_trades(
    context: dg.AssetExecutionContext, opinion_api: OpinionAPI, warehouse: DuckDBWarehouse
):
    tunables = settings.PipelineSettings.from_env()
    options = WhaleSyncOptions(
        alert_usd=tunables.whale_alert_usd,
        workers=tunables.sync_workers,
        inactive_poll_minutes=tunables.inactive_poll_minutes,
        inactive_after_days=tunables.inactive_after_days,
    )
    whales = tracked_whales(warehouse)
    with clear_failures():
        report = sync_whale_trades(opinion_api, warehouse, whales, options, run_id=context.run_id)
    with warehouse.connection() as conn:
        trade_count = conn.execute("SELECT count(*) FROM trades").fetchone()[0]  # type: ignore[index]
        repeated = repeated_trade_keys(conn, context.run_id)
        activity_total, activity_table = _latest_activity_markdown(conn)
    yield payload_check(WHALE_TRADES, report)
    yield trade_keys_check(WHALE_TRADES, repeated)
    yield dg.MaterializeResult(asset_key=WHALE_TRADES, metadata=sync_metadata(report, trade_count))
    yield dg.MaterializeResult(
        asset_key=WHALE_ACTIVITY,
        metadata={
            "new_entries": report.activity_new,
            "threshold_usd": options.alert_usd,
            "dagster/row_count": activity_total,
            "latest": dg.MetadataValue.md(activity_table),
        },
    )
    if report.failed_wallets:
        details = "\n".join(f"{wallet}: {error}" for wallet, error in report.failed_wallets.items())
        raise dg.Failure(
            description=(
                f"{len(report.failed_wallets)} of {len(whales)} whale(s) could not be synced "
                f"(the others were saved):\n{details}"
            ),
            metadata=sync_metadata(report, trade_count),
        )
