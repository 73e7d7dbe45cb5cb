"""Load the registry file into the whales table, and read the tracked whales back."""

from __future__ import annotations

from pathlib import Path

from opinion_pipeline.defs.whale_registry.registry_file import Whale, load_whales
from opinion_pipeline.defs.whale_registry.store import RegistrySync, listed_whales, sync_registry
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse


def sync_whale_registry(warehouse: DuckDBWarehouse, path: Path) -> RegistrySync:
    """Parse ``path`` (rejecting it whole on any bad line) and upsert it into ``whales``."""
    whales = load_whales(path)
    with warehouse.transaction() as conn:
        return sync_registry(conn, whales)


def tracked_whales(warehouse: DuckDBWarehouse) -> list[Whale]:
    """Whales currently listed in the registry, as last loaded."""
    with warehouse.connection() as conn:
        return listed_whales(conn)
