"""Shared steps of the positions, changes and PnL tests: the world's time as the pipeline's."""

from __future__ import annotations

from datetime import datetime, timezone

from opinion_pipeline.defs.markets.sync import sync_markets
from opinion_pipeline.defs.whale_positions.sync import PositionSyncOptions, sync_positions
from opinion_pipeline.defs.whale_registry.sync import sync_whale_registry, tracked_whales
from opinion_pipeline.defs.whale_trades.sync import WhaleSyncOptions, sync_whale_trades


def world_now(world) -> datetime:
    return datetime.fromtimestamp(world.now(), tz=timezone.utc)


def sync_all(api, warehouse, registry_file, world, *, positions: bool = True):
    """Registry, markets, trades and (optionally) a positions snapshot, at the world's now."""
    sync_whale_registry(warehouse, registry_file)
    sync_markets(api, warehouse)
    trades = sync_whale_trades(api, warehouse, tracked_whales(warehouse), WhaleSyncOptions())
    assert not trades.failed_wallets
    if positions:
        report = sync_positions(api, warehouse, PositionSyncOptions(), now=world_now(world))
        assert not report.failed_wallets
        return report
    return None
