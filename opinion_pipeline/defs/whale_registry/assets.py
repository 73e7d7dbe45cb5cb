"""The whale_registry asset: the registry file, loaded into the whales table at every sync."""

import dagster as dg

from opinion_pipeline.defs.whale_registry.sync import sync_whale_registry
from opinion_pipeline.defs.whale_registry.tables import WHALES
from opinion_pipeline.reporting.catalog import column_schema
from opinion_pipeline.reporting.checks import clear_failures
from opinion_pipeline.reporting.names import INGEST, OWNERS
from opinion_pipeline.resources import PipelineTunables
from opinion_pipeline.resources.warehouse import WarehouseResource

WHALE_REGISTRY = "whale_registry"


@dg.asset(
    name=WHALE_REGISTRY,
    pool="sync_whale_trades",  # its job's pool: one run at a time, however launched
    group_name=INGEST,
    kinds={"csv", "duckdb"},
    owners=OWNERS,
    metadata=column_schema(WHALES),
    deps=["whale_candidates"],
    description=(
        "The tracked universe, loaded at every sync: the wallets of the registry file in use "
        "(address,label,tags: whales.csv in real mode, data/simulator/whales.csv in simulator "
        "mode, or OPINION_WHALES_FILE; each materialization names it in registry_file), always "
        "tracked, a line tagged 'exclude' keeps an address out; plus the whales discovery "
        "admitted (whale_candidates, UNOFFICIAL sources), each with its source and admission "
        "time. A malformed or duplicated line fails the run naming its line number. Table: whales."
    ),
)
def whale_registry(
    pipeline: PipelineTunables, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    path = pipeline.registry_path
    with clear_failures():
        result, merged = sync_whale_registry(warehouse, path)
    return dg.MaterializeResult(
        metadata={
            "whales_listed": result.listed,
            "whales_added": result.added,
            "whales_removed": result.removed,
            "whales_excluded": result.excluded,
            "discovered_added": merged.discovered_added,
            "discovered_dropped": merged.discovered_dropped,
            "discovered_restored": merged.discovered_restored,
            "discovered_tracked": merged.discovered_tracked,
            "registry_file": str(path),
            "registry_mode": pipeline.mode,
            "dagster/row_count": result.listed + merged.discovered_tracked,
        }
    )
