"""Analytics assets derived from the warehouse."""

from datetime import datetime, timedelta, timezone

import dagster as dg

from opinion_pipeline.defs.whale_stats.compute import recompute_whale_stats
from opinion_pipeline.defs.whale_stats.tables import WHALE_STATS as WHALE_STATS_TABLE
from opinion_pipeline.reporting.catalog import column_schema
from opinion_pipeline.reporting.markdown import markdown_table
from opinion_pipeline.reporting.names import ANALYTICS, OWNERS
from opinion_pipeline.resources.warehouse import WarehouseResource

WHALE_STATS = "whale_stats"

TOP_WHALES_SHOWN = 10


@dg.asset(
    name=WHALE_STATS,
    pool="compute_whale_stats",  # its job's pool: one run at a time, however launched
    group_name=ANALYTICS,
    kinds={"duckdb"},
    owners=OWNERS,
    deps=["whale_trades"],
    metadata=column_schema(WHALE_STATS_TABLE),
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=2)),
    description=(
        "Per whale: total, 24 h, 7 d and 30 d USD volume, trade, buy and sell counts, distinct "
        "markets, realized profit, first and last trade, largest trade. Recomputed hourly from "
        "the validated trades table only. Table: whale_stats."
    ),
)
def whale_stats(warehouse: WarehouseResource) -> dg.MaterializeResult:
    as_of = datetime.now(timezone.utc)
    result = recompute_whale_stats(warehouse, as_of, top=TOP_WHALES_SHOWN)
    rows = [
        (label, wallet, f"{total:,.2f}", f"{day:,.2f}", count, f"{profit:,.2f}", last)
        for label, wallet, total, day, count, profit, last in result.top
    ]
    table = markdown_table(
        ["whale", "wallet", "volume USD", "24 h USD", "trades", "realized profit", "last trade"],
        rows,
    )
    return dg.MaterializeResult(
        metadata={
            "whales": result.whales,
            "trades_counted": result.trades_counted,
            "as_of": as_of.isoformat(),
            "dagster/row_count": result.whales,
            "top_whales": dg.MetadataValue.md(table),
        }
    )
