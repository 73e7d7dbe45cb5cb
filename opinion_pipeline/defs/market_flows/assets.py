"""The market_flows asset: where the whales' money is moving, per market."""

from datetime import datetime, timezone

import dagster as dg

from opinion_pipeline.defs.market_flows.compute import TOP_SKILL_WHALES, recompute_flows
from opinion_pipeline.defs.market_flows.tables import MARKET_FLOWS as MARKET_FLOWS_TABLE
from opinion_pipeline.reporting.catalog import column_schema
from opinion_pipeline.reporting.markdown import markdown_table
from opinion_pipeline.reporting.names import ANALYTICS, OWNERS
from opinion_pipeline.resources.warehouse import WarehouseResource

MARKET_FLOWS = "market_flows"


@dg.asset(
    pool="compute_whale_pnl",  # its job's pool: one run at a time, however launched
    name=MARKET_FLOWS,
    group_name=ANALYTICS,
    kinds={"duckdb"},
    owners=OWNERS,
    deps=["whale_trades", "whale_skill"],
    metadata=column_schema(MARKET_FLOWS_TABLE),
    description=(
        "Per market over 1 h, 24 h and 7 d: net whale USD bought minus sold per outcome, "
        f"distinct whales on each side, the share of volume from the top {TOP_SKILL_WHALES} "
        "whales by skill rank; the top markets by whale flow in the metadata. Table: "
        "market_flows."
    ),
)
def market_flows(warehouse: WarehouseResource) -> dg.MaterializeResult:
    as_of = datetime.now(timezone.utc)
    run = recompute_flows(warehouse, as_of)
    table = markdown_table(
        ["market", "title", "Yes net USD", "No net USD", "whales Yes / No", "top-skill share"],
        [
            (
                market,
                title or "",
                f"{yes:,.2f}",
                f"{no:,.2f}",
                f"{yes_whales} / {no_whales}",
                f"{share:.1%}",
            )
            for market, title, yes, no, yes_whales, no_whales, share in run.top
        ],
    )
    return dg.MaterializeResult(
        metadata={
            **{f"markets_{window}": count for window, count in run.rows.items()},
            "as_of": as_of.isoformat(),
            "top_skill_whales": TOP_SKILL_WHALES,
            "dagster/row_count": sum(run.rows.values()),
            "top_markets_by_whale_flow_7d": dg.MetadataValue.md(table),
        }
    )
