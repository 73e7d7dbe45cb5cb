"""A world with an untracked population, the fake client over it, and truth computed from it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from opinion_pipeline.defs.markets.sync import sync_markets
from opinion_pipeline.defs.whale_candidates.sync import DiscoveryOptions, DiscoveryReport, discover
from opinion_pipeline.defs.whale_registry.sync import sync_whale_registry
from opinion_pipeline.simulator.clock import SimClock
from opinion_pipeline.simulator.holders import holdings
from opinion_pipeline.simulator.leaderboard import board_moment, ranking
from opinion_pipeline.simulator.world import World
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline_tests.defs.conftest import WORLD_START
from opinion_pipeline_tests.fakes import FakeOpinionAPI

TOP_N, MIN_VALUE, MIN_HOLDING = 25, Decimal(1000), Decimal(5000)
BOARDS = ("volume:30", "profit:30", "volume:0", "profit:0")


@pytest.fixture(scope="module")
def crowd() -> World:
    clock = SimClock(WORLD_START, 0.0)
    return World(seed=7, markets=30, wallets=8, traders=300, history_days=5, start=WORLD_START,
                 clock=clock)  # fmt: skip


@pytest.fixture
def crowd_api(crowd: World) -> FakeOpinionAPI:
    return FakeOpinionAPI.over(crowd)


def registry(path: Path, lines: list[str] = ()) -> Path:  # type: ignore[assignment]
    path.write_text("address,label,tags\n" + "".join(f"{line}\n" for line in lines))
    return path


def run_discovery(
    api: FakeOpinionAPI, warehouse: DuckDBWarehouse, registry_path: Path,
    options: DiscoveryOptions | None = None,
) -> DiscoveryReport:  # fmt: skip
    """Markets sweep, registry load, one discovery run, then the registry run that merges it."""
    sync_markets(api, warehouse)
    sync_whale_registry(warehouse, registry_path)
    report = discover(api, warehouse, options or DiscoveryOptions())
    sync_whale_registry(warehouse, registry_path)
    return report


def true_top(world: World, chosen_markets: list[int]) -> set[str]:
    """The wallets the default rules should admit, from the world itself (not pipeline code)."""
    moment = board_moment(world.now())
    wanted: set[str] = set()
    for board in BOARDS:
        data_type, period = board.split(":")
        for wallet, value in ranking(world, moment, data_type, int(period))[:TOP_N]:
            if value >= MIN_VALUE:
                wanted.add(wallet.address)
    book = holdings(world, moment)
    index = {leaf.market_id: i for i, leaf in enumerate(world.leaves)}
    for market_id in chosen_markets:
        for side in (1, 2):
            for address, net, _cost in book.get((index[market_id], side), [])[:20]:
                if Decimal(net) / 10**6 >= MIN_HOLDING:
                    wanted.add(address)
    return wanted


def chosen_by_volume(world: World, budget_markets: int) -> list[int]:
    """Active leaves ranked by 24 h volume (a child by its parent's), restated from the docs."""
    now = world.now()
    leaves = []
    for market in world.visible_markets(now):
        volume = market.volume_units(now + 1 - 86_400, now + 1)
        for leaf in market.leaves():
            if leaf.status(now) == 2:
                leaves.append((-volume, leaf.market_id))
    return [market_id for _v, market_id in sorted(leaves)[:budget_markets]]
