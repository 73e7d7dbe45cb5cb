"""The whale trades and the feed of big trades, synced together every minute."""

from datetime import timedelta

import dagster as dg

from opinion_pipeline.defs.whale_registry.sync import tracked_whales
from opinion_pipeline.defs.whale_trades.checks import (
    TRADE_KEYS_CHECK,
    TRADES_COMPLETE_CHECK,
    WALLETS_CHECK,
    failed_wallets_message,
    trade_keys_check,
    trades_complete_check,
    wallets_check,
)
from opinion_pipeline.defs.whale_trades.store import after_sync_summary
from opinion_pipeline.defs.whale_trades.sync import WhaleSyncOptions, sync_whale_trades
from opinion_pipeline.defs.whale_trades.tables import TRADES
from opinion_pipeline.defs.whale_trades.tables import WHALE_ACTIVITY as WHALE_ACTIVITY_TABLE
from opinion_pipeline.opinion_api import OpinionAPI
from opinion_pipeline.reporting.catalog import column_schema
from opinion_pipeline.reporting.checks import clear_failures, payload_check, sync_metadata
from opinion_pipeline.reporting.markdown import markdown_table
from opinion_pipeline.reporting.names import INGEST, OWNERS, PAYLOAD_CHECK
from opinion_pipeline.resources import PipelineTunables
from opinion_pipeline.resources.warehouse import WarehouseResource

WHALE_TRADES = "whale_trades"
WHALE_ACTIVITY = "whale_activity"
WHALE_REGISTRY = "whale_registry"


@dg.multi_asset(
    pool="sync_whale_trades",  # its job's pool: one run at a time, however launched
    specs=[
        dg.AssetSpec(
            WHALE_TRADES,
            group_name=INGEST,
            kinds={"python", "duckdb"},
            owners=OWNERS,
            deps=[WHALE_REGISTRY],
            metadata=column_schema(TRADES),
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
            metadata=column_schema(WHALE_ACTIVITY_TABLE),
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
        dg.AssetCheckSpec(
            WALLETS_CHECK,
            asset=WHALE_TRADES,
            blocking=True,
            description="Every whale due this run was synced (ERROR naming each one that was not).",
        ),
        dg.AssetCheckSpec(
            TRADES_COMPLETE_CHECK,
            asset=WHALE_TRADES,
            description=(
                "Every whale's trades accounted for (stored + archived + unresolved quarantine) "
                "against the venue's own count: WARN while a gap is under repair or a listed "
                "whale is not accounted for yet, ERROR when a gap outlives "
                "OPINION_TRADE_REPAIR_ATTEMPTS repairs."
            ),
        ),
    ],
)
def whale_trades(
    context: dg.AssetExecutionContext,
    opinion_api: OpinionAPI,
    warehouse: WarehouseResource,
    pipeline: PipelineTunables,
):
    options = WhaleSyncOptions(
        alert_usd=pipeline.whale_alert_usd,
        workers=pipeline.sync_workers,
        inactive_poll_minutes=pipeline.inactive_poll_minutes,
        inactive_after_days=pipeline.inactive_after_days,
        key_rate_per_second=opinion_api.rate_limit_per_second,
        repair_share=pipeline.trade_repair_share,
        max_repairs=pipeline.trade_repair_attempts,
        max_poll_interval_minutes=pipeline.max_poll_interval_minutes,
        poll_seconds=pipeline.poll_seconds,
        reserved_per_minute=pipeline.reserved_per_minute,
    )
    whales = tracked_whales(warehouse)
    with clear_failures():
        report = sync_whale_trades(opinion_api, warehouse, whales, options, run_id=context.run_id)
    polled = int(report.extra["whales_polled"])
    if report.failed_wallets and polled == 0:
        # Nothing was stored: no materialization, so the asset does not look fresh.
        raise dg.Failure(description=failed_wallets_message(report.failed_wallets, saved=0))
    summary = after_sync_summary(warehouse, context.run_id)
    report.table_rows = summary.trades
    activity_table = markdown_table(
        ["time (UTC)", "whale", "wallet", "side", "outcome", "USD", "market"],
        summary.latest_activity,
    )
    yield payload_check(WHALE_TRADES, report)
    yield trade_keys_check(WHALE_TRADES, summary.repeated_keys)
    yield dg.MaterializeResult(asset_key=WHALE_TRADES, metadata=sync_metadata(report))
    yield dg.MaterializeResult(
        asset_key=WHALE_ACTIVITY,
        metadata={
            "new_entries": report.activity_new,
            "threshold_usd": options.alert_usd,
            "dagster/row_count": summary.activity,
            "latest": dg.MetadataValue.md(activity_table),
        },
    )
    yield wallets_check(WHALE_TRADES, report.failed_wallets, polled)
    yield trades_complete_check(WHALE_TRADES, report.coverage, max_repairs=options.max_repairs)
    if report.failed_wallets:
        raise dg.Failure(
            description=failed_wallets_message(report.failed_wallets, saved=polled),
            metadata=sync_metadata(report),
        )
