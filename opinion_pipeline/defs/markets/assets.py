"""The markets asset: a full sweep of the Opinion market list."""

from datetime import timedelta

import dagster as dg

from opinion_pipeline.defs.markets.sync import sync_markets
from opinion_pipeline.defs.markets.tables import MARKETS as MARKETS_TABLE
from opinion_pipeline.opinion_api import OpinionAPI
from opinion_pipeline.reporting.catalog import column_schema
from opinion_pipeline.reporting.checks import clear_failures, payload_check, sync_metadata
from opinion_pipeline.reporting.names import INGEST, OWNERS, PAYLOAD_CHECK
from opinion_pipeline.resources.warehouse import WarehouseResource

MARKETS = "markets"


@dg.asset(
    name=MARKETS,
    pool="sync_markets",  # its job's pool: one run at a time, however launched
    group_name=INGEST,
    kinds={"python", "duckdb"},
    owners=OWNERS,
    metadata=column_schema(MARKETS_TABLE),
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(minutes=15)),
    description=(
        "Every Opinion market (binary and categorical, every status), upserted on market_id. "
        "Categorical children are stored as rows with parent_market_id set. Table: markets."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            PAYLOAD_CHECK,
            asset=MARKETS,
            blocking=True,
            description="Every market row passed the pandera schema (failures are quarantined).",
        )
    ],
)
def markets(
    context: dg.AssetExecutionContext, opinion_api: OpinionAPI, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    with clear_failures():
        report = sync_markets(opinion_api, warehouse, run_id=context.run_id)
    if report.items_fetched == 0 and report.table_rows:
        # The venue never empties its market list: an empty answer is a failed sweep, and a
        # materialization would make the stored markets look freshly swept.
        raise dg.Failure(
            description=(
                f"the market list came back empty while the warehouse holds "
                f"{report.table_rows} markets; nothing was updated, and markets stays as of "
                "its last sweep. The API answered no market at all: check OPINION_API_BASE_URL "
                "and try again later."
            ),
            metadata=sync_metadata(report),
        )
    return dg.MaterializeResult(
        metadata=sync_metadata(report),
        check_results=[payload_check(MARKETS, report)],
    )
