"""The position_changes asset, derived after each positions snapshot."""

import dagster as dg

from opinion_pipeline.defs.position_changes.compute import derive_position_changes, latest_changes
from opinion_pipeline.defs.position_changes.tables import POSITION_CHANGES as CHANGES_TABLE
from opinion_pipeline.reporting.catalog import column_schema
from opinion_pipeline.reporting.markdown import markdown_table
from opinion_pipeline.reporting.names import ANALYTICS, OWNERS
from opinion_pipeline.resources.warehouse import WarehouseResource

POSITION_CHANGES = "position_changes"


@dg.asset(
    pool="snapshot_whale_positions",  # its job's pool: one run at a time, however launched
    name=POSITION_CHANGES,
    group_name=ANALYTICS,
    kinds={"duckdb"},
    owners=OWNERS,
    deps=["whale_positions", "whale_trades", "markets"],
    metadata=column_schema(CHANGES_TABLE),
    description=(
        "Each change of a whale's position, once: opened, increased, reduced, closed, "
        "resolved_won / resolved_lost, claimed; derived from consecutive complete positions "
        "snapshots, the market sweep's result tokens and the trades between. Table: "
        "position_changes."
    ),
)
def position_changes(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    result = derive_position_changes(warehouse, run_id=context.run_id)
    with warehouse.reader() as session:
        total = session.count(CHANGES_TABLE)
    table = markdown_table(
        ["snapshot (UTC)", "whale", "wallet", "change", "outcome", "quote", "market"],
        latest_changes(warehouse),
    )
    return dg.MaterializeResult(
        metadata={
            "new_changes": result.new,
            "whales_compared": result.wallets_compared,
            **{f"new_{name}": count for name, count in sorted(result.by_change.items())},
            "dagster/row_count": total,
            "latest": dg.MetadataValue.md(table),
        }
    )
