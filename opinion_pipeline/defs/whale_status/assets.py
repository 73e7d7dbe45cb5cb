"""The whale_status asset: quiet whales become inactive, trading ones active again (daily)."""

import dagster as dg

from opinion_pipeline.defs.whale_registry.tables import WHALES
from opinion_pipeline.defs.whale_status.status import update_whale_status
from opinion_pipeline.reporting.catalog import column_schema
from opinion_pipeline.reporting.markdown import markdown_table
from opinion_pipeline.reporting.names import MAINTENANCE, OWNERS
from opinion_pipeline.resources import PipelineTunables
from opinion_pipeline.resources.warehouse import WarehouseResource

WHALE_STATUS = "whale_status"


class WhaleStatusConfig(dg.Config):
    inactive_after_days: int | None = None  # default: OPINION_INACTIVE_AFTER_DAYS (90)


@dg.asset(
    name=WHALE_STATUS,
    pool="mark_inactive_whales",  # its job's pool: one run at a time, however launched
    group_name=MAINTENANCE,
    kinds={"duckdb"},
    owners=OWNERS,
    deps=["whale_trades"],
    metadata=column_schema(WHALES),
    description=(
        "Daily: whales with no trade for OPINION_INACTIVE_AFTER_DAYS (90) become inactive "
        "(polled at most every OPINION_INACTIVE_POLL_MINUTES); inactive whales with a recent "
        "trade become active again. Table: whales (status, inactive_since)."
    ),
)
def whale_status(
    config: WhaleStatusConfig, warehouse: WarehouseResource, pipeline: PipelineTunables
) -> dg.MaterializeResult:
    days = config.inactive_after_days or pipeline.inactive_after_days
    with warehouse.session() as session:
        update = update_whale_status(session, days)
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
