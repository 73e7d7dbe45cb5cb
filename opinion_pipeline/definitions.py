"""The project's Dagster definitions: ``defs`` (workspace.yaml and [tool.dagster] point here)."""

import dagster as dg

from opinion_pipeline import settings
from opinion_pipeline.assets.analytics import whale_stats
from opinion_pipeline.assets.maintenance import trades_archive
from opinion_pipeline.assets.markets import markets
from opinion_pipeline.assets.operations import OPERATIONS_ASSETS
from opinion_pipeline.assets.whales import whale_registry, whale_trades
from opinion_pipeline.first_run import first_run_sensor
from opinion_pipeline.jobs import OPERATIONS_JOBS, SCHEDULED_JOBS
from opinion_pipeline.opinion_api import OpinionAPI
from opinion_pipeline.resources.warehouse import DuckDBWarehouse
from opinion_pipeline.schedules import OPERATIONS_SCHEDULES, SCHEDULES
from opinion_pipeline.sensors import SENSORS


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "opinion_api": OpinionAPI.from_env(**settings.api_overrides()),
        "warehouse": DuckDBWarehouse(path=str(settings.warehouse_path())),
    }


def build_definitions() -> dg.Definitions:
    """Definitions with resources configured from the environment as it is now."""
    return dg.Definitions(
        assets=[
            markets,
            whale_registry,
            whale_trades,
            whale_stats,
            trades_archive,
            *OPERATIONS_ASSETS,
        ],
        jobs=[*SCHEDULED_JOBS, *OPERATIONS_JOBS],
        schedules=[*SCHEDULES, *OPERATIONS_SCHEDULES],
        sensors=[*SENSORS, first_run_sensor],
        resources=build_resources(),
        executor=dg.in_process_executor,
    )


defs = build_definitions()
