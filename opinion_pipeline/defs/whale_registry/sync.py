"""Load the registry file into the whales table, and read the tracked whales back."""

from __future__ import annotations

from pathlib import Path

from opinion_pipeline.defs.whale_registry.registry_file import Whale, load_whales
from opinion_pipeline.defs.whale_registry.store import RegistrySync, listed_whales, sync_registry
from opinion_pipeline.defs.whale_registry.universe import UniverseMerge, merge_discovered
from opinion_pipeline.warehouse.port import Warehouse


def sync_whale_registry(warehouse: Warehouse, path: Path) -> tuple[RegistrySync, UniverseMerge]:
    """Parse ``path`` (rejecting it whole on any bad line), upsert its pins and excludes into
    ``whales``, then merge the admitted candidates, in one transaction."""
    whales = load_whales(path)
    with warehouse.session() as session:
        registry = sync_registry(session, whales)
        return registry, merge_discovered(session)


def tracked_whales(warehouse: Warehouse) -> list[Whale]:
    """The tracked universe as last loaded: file pins and admitted discovered whales."""
    with warehouse.session() as session:
        return listed_whales(session)
