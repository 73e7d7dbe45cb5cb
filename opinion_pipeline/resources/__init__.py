"""The Dagster resources every dataset shares, built once from the environment's settings.

``opinion_api`` (the API client), ``api_probe`` (the same client for the health check, which
must report a missing key as a failed check rather than fail at start-up), ``warehouse`` (the
DuckDB warehouse) and ``pipeline`` (the tunables). All four show their configuration in the UI
(Deployment → Resources); the API key appears there only as the name of its variable.
"""

from __future__ import annotations

from typing import Any

from opinion_pipeline.config import Settings
from opinion_pipeline.opinion_api import OpinionAPI
from opinion_pipeline.resources.discovery import DiscoveryTunables
from opinion_pipeline.resources.tunables import PipelineTunables
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse

__all__ = ["DiscoveryTunables", "PipelineTunables", "build_resources"]


def build_resources(settings: Settings) -> dict[str, Any]:
    return {
        "opinion_api": OpinionAPI.from_settings(settings),
        "api_probe": OpinionAPI.from_settings(settings, check_key_at_start=False),
        "warehouse": DuckDBWarehouse(path=str(settings.warehouse_file)),
        "pipeline": PipelineTunables.from_settings(settings),
        "discovery": DiscoveryTunables.from_settings(settings),
    }
