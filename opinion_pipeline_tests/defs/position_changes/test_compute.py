"""Position changes from consecutive snapshots: what the world's positions did, each once."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from opinion_pipeline.defs.position_changes.compute import derive_position_changes
from opinion_pipeline.defs.position_changes.tables import CHANGES
from opinion_pipeline.simulator.api import user_positions
from opinion_pipeline_tests.defs.whale_positions.helpers import sync_all

pytestmark = pytest.mark.unit
SIX_HOURS = 6 * 3600


def _positions(world) -> dict[tuple[str, int, int], dict]:
    out = {}
    for wallet in world.wallets:
        for page in range(1, 40):
            query = {"page": [str(page)], "limit": ["20"]}
            for row in user_positions(world, world.now(), wallet.address, query).result["list"]:
                out[(wallet.address, row["marketId"], row["outcomeSide"])] = row
    return out


def _expected(before: dict, after: dict, world) -> Counter:
    """The changes between two position lists, restated from the contract's fields."""
    found: Counter = Counter()
    for key in before.keys() | after.keys():
        old, new = before.get(key), after.get(key)
        market = world.by_id[key[1]]
        won = (key[2] == 1) == market.wins
        if old is None:
            found["opened"] += 1
            continue
        if new is None:
            resolved_now = market.status(world.now()) == 4
            if old["marketStatus"] != 4 and resolved_now:
                found["resolved_won" if won else "resolved_lost"] += 1
            if (old["marketStatus"] == 4 or resolved_now) and won and old["claimStatus"] != 3:
                found["claimed"] += 1
            else:
                found["closed"] += 1
            continue
        delta = Decimal(new["sharesOwned"]) - Decimal(old["sharesOwned"])
        if delta:
            found["increased" if delta > 0 else "reduced"] += 1
        if old["marketStatus"] != 4 and new["marketStatus"] == 4:
            found["resolved_won" if won else "resolved_lost"] += 1
        if old["claimStatus"] != 3 and new["claimStatus"] == 3:
            found["claimed"] += 1
    return found


def test_changes_match_the_worlds_positions_cycle_after_cycle(
    world, fake_api, warehouse, registry_file
):
    sync_all(fake_api, warehouse, registry_file, world)
    baseline = derive_position_changes(warehouse)
    assert baseline.new == 0, "a whale's first snapshot is its baseline"
    seen: Counter = Counter()
    for _cycle in range(4):
        before = _positions(world)
        world.clock.advance(SIX_HOURS)
        sync_all(fake_api, warehouse, registry_file, world)
        result = derive_position_changes(warehouse)
        expected = _expected(before, _positions(world), world)
        assert Counter(result.by_change) == expected
        assert result.new == sum(expected.values())
        seen.update(result.by_change)
        assert derive_position_changes(warehouse).new == 0, "each change is stored once"
    assert set(seen) == set(CHANGES), seen  # every kind of change met in 24 simulated hours
    with warehouse.connection() as conn:
        rows, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (wallet, market_id, outcome_side, change, "
            "snapshot_at)) FROM position_changes"
        ).fetchone()
    assert rows == distinct == sum(seen.values())
