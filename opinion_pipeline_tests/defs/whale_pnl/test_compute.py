"""PnL and decided counts equal the simulator's ground truth exactly, across resolutions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from opinion_pipeline.defs.whale_pnl.compute import open_position_figures, recompute_pnl
from opinion_pipeline.simulator.truth_pnl import pnl_truth
from opinion_pipeline_tests.defs.whale_positions.helpers import sync_all, world_now

pytestmark = pytest.mark.unit
SIX_HOURS = 6 * 3600


def _stored(warehouse) -> dict[str, tuple]:
    with warehouse.connection() as conn:
        rows = conn.execute(
            "SELECT wallet, realized_pnl, unrealized_pnl, net_pnl, capital_deployed, "
            "decided_positions, won_positions, unmarked_positions, roi FROM whale_pnl"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def _resolved(warehouse) -> set[tuple]:
    with warehouse.connection() as conn:
        rows = conn.execute(
            "SELECT wallet, market_id, outcome_side FROM whale_position_pnl "
            "WHERE resolved AND shares_held > 0"
        ).fetchall()
    return set(rows)


def _check_against_truth(world, warehouse) -> dict[str, dict]:
    truth = {row["address"]: row for row in pnl_truth(world, world.now())["wallets"]}
    stored = _stored(warehouse)
    assert set(stored) == set(truth)
    for wallet, got in stored.items():
        want = truth[wallet]
        realized, unrealized, net, capital, decided, won, unmarked, roi = got
        assert unmarked == 0
        assert realized == Decimal(want["realizedPnl"]), wallet
        assert unrealized == Decimal(want["unrealizedPnl"]), wallet
        assert net == Decimal(want["netPnl"])
        assert capital == Decimal(want["capitalDeployed"])
        assert (decided, won) == (want["decidedPositions"], want["wonPositions"])
        if want["roi"] is not None:
            assert abs(roi - Decimal(want["roi"])) < Decimal("1e-17")
    return truth


def test_pnl_equals_the_truth_and_resolution_moves_it_to_realized(
    world, fake_api, warehouse, registry_file
):
    sync_all(fake_api, warehouse, registry_file, world)
    recompute_pnl(warehouse, world_now(world))
    first = _check_against_truth(world, warehouse)
    resolved_before = _resolved(warehouse)
    world.clock.advance(SIX_HOURS)
    sync_all(fake_api, warehouse, registry_file, world)
    recompute_pnl(warehouse, world_now(world))
    second = _check_against_truth(world, warehouse)
    markets = [m for w in second.values() for m in w["markets"]]
    # losers nobody redeemed count as lost money; winners count whether claimed or not
    assert any(m["decided"] and not m["won"] for m in markets)
    assert any(m["won"] and not m["claimed"] for m in markets)
    newly = _resolved(warehouse) - resolved_before
    assert newly, "markets resolving between two runs move positions to realized"
    assert sum(w["decidedPositions"] for w in second.values()) > sum(
        w["decidedPositions"] for w in first.values()
    )


def test_pnl_of_a_stale_snapshot_uses_a_newer_trade_price(
    world, fake_api, warehouse, registry_file
):
    """Positions are marked with the newest price the pipeline has, and say which and when."""
    sync_all(fake_api, warehouse, registry_file, world)
    world.clock.advance(2 * 3600)
    sync_all(fake_api, warehouse, registry_file, world, positions=False)
    recompute_pnl(warehouse, world_now(world))
    with warehouse.connection() as conn:
        sources = dict(
            conn.execute(
                "SELECT mark_source, count(*) FROM whale_position_pnl "
                "WHERE mark_price IS NOT NULL GROUP BY mark_source"
            ).fetchall()
        )
        newer = conn.execute(
            "SELECT count(*) FROM whale_position_pnl p WHERE mark_source = 'snapshot' AND "
            "EXISTS (SELECT 1 FROM trades t WHERE t.market_id = p.market_id AND "
            "t.outcome_side = p.outcome_side AND t.created_at > p.mark_at)"
        ).fetchone()[0]
    assert sources.get("snapshot", 0) > 0 and sources.get("trade", 0) > 0
    assert newer == 0


def test_open_position_figures_are_exact():
    # bought 3 shares for 1 (avg 1/3); 1 sold for 0.5; 2 held, marked at 0.4
    basis, realized, unrealized = open_position_figures(
        Decimal(2), Decimal(3), Decimal(1), Decimal("0.5"), Decimal("0.01"), Decimal("0.4")
    )
    assert basis == Decimal("0.666666666666666667")
    assert realized == Decimal("0.5") + basis - 1 - Decimal("0.01")
    assert unrealized == Decimal("0.8") - basis
    assert realized + unrealized == Decimal("0.5") + Decimal("0.8") - 1 - Decimal("0.01")
    assert open_position_figures(Decimal(1), Decimal(1), Decimal(1), 0, 0, None)[2] is None
