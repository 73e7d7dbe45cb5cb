"""The whale_pnl asset: realized, unrealized and net PnL per whale and position."""

from datetime import datetime, timedelta, timezone

import dagster as dg

from opinion_pipeline.defs.whale_pnl.compute import recompute_pnl, top_by_net
from opinion_pipeline.defs.whale_pnl.tables import WHALE_PNL as WHALE_PNL_TABLE
from opinion_pipeline.reporting.catalog import column_schema
from opinion_pipeline.reporting.markdown import markdown_table
from opinion_pipeline.reporting.names import ANALYTICS, OWNERS
from opinion_pipeline.resources.warehouse import WarehouseResource

WHALE_PNL = "whale_pnl"


@dg.asset(
    pool="compute_whale_pnl",  # its job's pool: one run at a time, however launched
    name=WHALE_PNL,
    group_name=ANALYTICS,
    kinds={"duckdb"},
    owners=OWNERS,
    deps=["whale_trades", "markets", "whale_positions"],
    metadata=column_schema(WHALE_PNL_TABLE),
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=2)),
    description=(
        "Per whale and position (market, outcome side), and per whale in total: realized PnL "
        "(sells and merges, plus 1 per winning and 0 per losing share of resolved markets, "
        "claimed or not), unrealized PnL (open shares at the latest price, with its time), net "
        "PnL, capital deployed, ROI; quote token, Decimal. Tables: whale_pnl, "
        "whale_position_pnl."
    ),
)
def whale_pnl(warehouse: WarehouseResource) -> dg.MaterializeResult:
    as_of = datetime.now(timezone.utc)
    run = recompute_pnl(warehouse, as_of)
    with warehouse.reader() as session:
        top = top_by_net(session)
    table = markdown_table(
        ["whale", "wallet", "net", "realized", "unrealized", "capital", "ROI", "decided"],
        [
            (
                label,
                wallet,
                f"{net:,.2f}",
                f"{realized:,.2f}",
                f"{unrealized:,.2f}",
                f"{capital:,.2f}",
                "" if roi is None else f"{roi:.2%}",
                decided,
            )
            for label, wallet, net, realized, unrealized, capital, roi, decided in top
        ],
    )
    return dg.MaterializeResult(
        metadata={
            "whales": run.whales,
            "positions": run.positions,
            "open_positions": run.open_positions,
            "unmarked_positions": run.unmarked,
            "as_of": as_of.isoformat(),
            "dagster/row_count": run.whales,
            "top_whales_by_net_pnl": dg.MetadataValue.md(table),
        }
    )
