"""Load the registry file into the whales table, and read the tracked whales back."""

from __future__ import annotations

from pathlib import Path

from opinion_pipeline.defs.whale_registry.registry_file import Whale, load_whales
from opinion_pipeline.defs.whale_registry.store import RegistrySync, listed_whales, sync_registry
from opinion_pipeline.warehouse.port import Warehouse


def sync_whale_registry(warehouse: Warehouse, path: Path) -> RegistrySync:
    """Parse ``path`` (rejecting it whole on any bad line) and upsert it into ``whales``."""
    whales = load_whales(path)
    with warehouse.session() as session:
        return sync_registry(session, whales)


def tracked_whales(warehouse: Warehouse) -> list[Whale]:
    """Whales currently listed in the registry, as last loaded."""
    with warehouse.session() as session:
        return listed_whales(session)
