"""Analytics assets derived from the warehouse."""

from datetime import datetime, timedelta, timezone

import dagster as dg

from opinion_pipeline.assets.catalog import column_schema
from opinion_pipeline.assets.constants import ANALYTICS, OWNERS, WHALE_STATS, WHALE_TRADES
from opinion_pipeline.assets.markdown import markdown_table
from opinion_pipeline.resources.warehouse import DuckDBWarehouse
from opinion_pipeline.warehouse.stats import recompute_whale_stats, top_whales

TOP_WHALES_SHOWN = 10


@dg.asset(
    name=WHALE_STATS,
    group_name=ANALYTICS,
    kinds={"duckdb"},
    owners=OWNERS,
    deps=[WHALE_TRADES],
    metadata=column_schema("whale_stats"),
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=2)),
    description=(
        "Per whale: total, 24 h, 7 d and 30 d USD volume, trade, buy and sell counts, distinct "
        "markets, realized profit, first and last trade, largest trade. Recomputed hourly from "
        "the validated trades table only. Table: whale_stats."
    ),
)
def whale_stats(warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    as_of = datetime.now(timezone.utc)
    with warehouse.transaction() as conn:
        whales = recompute_whale_stats(conn, as_of)
        top = top_whales(conn, TOP_WHALES_SHOWN)
        trades = conn.execute("SELECT count(*) FROM trades").fetchone()[0]  # type: ignore[index]
    rows = [
        (label, wallet, f"{total:,.2f}", f"{day:,.2f}", count, f"{profit:,.2f}", last)
        for label, wallet, total, day, count, profit, last in top
    ]
    table = markdown_table(
        ["whale", "wallet", "volume USD", "24 h USD", "trades", "realized profit", "last trade"],
        rows,
    )
    return dg.MaterializeResult(
        metadata={
            "whales": whales,
            "trades_counted": int(trades),
            "as_of": as_of.isoformat(),
            "dagster/row_count": whales,
            "top_whales": dg.MetadataValue.md(table),
        }
    )
