"""Load the registry file into the whales table, and read the tracked whales back."""

from __future__ import annotations

from pathlib import Path

from opinion_pipeline.resources.warehouse import DuckDBWarehouse
from opinion_pipeline.warehouse.whales import RegistrySync, sync_registry
from opinion_pipeline.whales import Whale, load_whales


def sync_whale_registry(warehouse: DuckDBWarehouse, path: Path) -> RegistrySync:
    """Parse ``path`` (rejecting it whole on any bad line) and upsert it into ``whales``."""
    whales = load_whales(path)
    with warehouse.transaction() as conn:
        return sync_registry(conn, whales)


def tracked_whales(warehouse: DuckDBWarehouse) -> list[Whale]:
    """Whales currently listed in the registry, as last loaded."""
    with warehouse.connection() as conn:
        rows = conn.execute(
            "SELECT address, label, tags FROM whales WHERE in_registry ORDER BY address"
        ).fetchall()
    return [Whale(address=address, label=label, tags=tuple(tags)) for address, label, tags in rows]
