"""The positions -> changes -> PnL -> skill chain over real HTTP, on a real Dagster instance.

The simulator runs as its own process on loopback; each job is the project's own job run
in-process against a temporary instance, the warehouse a real DuckDB file. The figures are
compared with the simulator's ground truth read over its /_sim routes.
"""

from __future__ import annotations

from decimal import Decimal

import dagster as dg
import pytest

from opinion_pipeline_tests.conftest import pipeline_warehouse
from opinion_pipeline_tests.pipeline.helpers import run_job

pytestmark = pytest.mark.integration


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    event = result.asset_materializations_for_node(asset)[0]
    return {name: value.value for name, value in event.metadata.items()}


def _prepare(instance) -> None:
    for job in ("sync_markets", "sync_whale_trades"):
        assert run_job(instance, job).success, job


def test_positions_synced_over_http_equal_the_simulators(pipeline_env, simulator, instance):
    _prepare(instance)
    simulator.reset_counters()
    first = run_job(instance, "snapshot_whale_positions")
    assert first.success
    meta = _metadata(first, "whale_positions")
    wallets = {w["address"].lower() for w in simulator.wallets()}
    assert meta["whales_snapshotted"] == len(wallets)
    assert meta["requests"] >= len(wallets) and 0 < meta["budget_share"] < 1
    with pipeline_warehouse().connection() as conn:
        stored = conn.execute(
            "SELECT wallet, market_id, outcome_side, shares_owned FROM whale_positions"
        ).fetchall()
        snapshots = conn.execute("SELECT count(*), bool_and(complete) FROM position_snapshots")
        snapshot_count, complete = snapshots.fetchone()
    truth = simulator.truth_pnl()["wallets"]
    held = {
        (w["address"].lower(), m["marketId"], m["outcomeSide"]): Decimal(m["sharesHeld"])
        for w in truth
        for m in w["markets"]
        if Decimal(m["sharesHeld"]) > 0
    }
    got = {(w, m, s): shares for w, m, s, shares in stored}
    # every open position the truth knows is in the snapshot with the same shares
    open_now = {key: shares for key, shares in held.items() if key in got}
    assert len(open_now) > 10
    assert all(got[key] == shares for key, shares in open_now.items())
    assert {w for w, _, _ in got} <= wallets
    assert snapshot_count == len(wallets) and complete

    again = run_job(instance, "snapshot_whale_positions")  # moments later: nobody is due
    assert again.success
    assert _metadata(again, "whale_positions")["whales_due"] == 0
    with pipeline_warehouse().connection() as conn:
        assert conn.execute("SELECT count(*) FROM whale_positions").fetchone()[0] == len(stored)
    assert _metadata(again, "position_changes")["new_changes"] == 0


def test_pnl_and_skill_materialized_from_the_chain_equal_the_truth(
    pipeline_env, simulator, instance
):
    _prepare(instance)
    assert run_job(instance, "snapshot_whale_positions").success
    result = run_job(instance, "compute_whale_pnl")
    assert result.success
    pnl = _metadata(result, "whale_pnl")
    skill = _metadata(result, "whale_skill")
    truth = {w["address"].lower(): w for w in simulator.truth_pnl()["wallets"]}
    assert pnl["whales"] == len(truth) and skill["whales"] == len(truth)
    assert "top_whales_by_net_pnl" in pnl and "top_whales_by_skill" in skill
    with pipeline_warehouse().connection() as conn:
        rows = conn.execute(
            "SELECT wallet, realized_pnl, unrealized_pnl, capital_deployed, decided_positions, "
            "won_positions, unmarked_positions FROM whale_pnl"
        ).fetchall()
        ranks = conn.execute(
            "SELECT skill_rank, credible_low FROM whale_skill ORDER BY skill_rank"
        ).fetchall()
    for wallet, realized, unrealized, capital, decided, won, unmarked in rows:
        want = truth[wallet]
        assert unmarked == 0, wallet
        assert realized == Decimal(want["realizedPnl"]), wallet
        assert unrealized == Decimal(want["unrealizedPnl"]), wallet
        assert capital == Decimal(want["capitalDeployed"]), wallet
        assert (decided, won) == (want["decidedPositions"], want["wonPositions"]), wallet
    assert sum(decided for *_, decided, _, _ in rows) > 0
    assert [rank for rank, _ in ranks] == list(range(1, len(truth) + 1))
    lows = [low for _, low in ranks]
    assert lows == sorted(lows, reverse=True)
    events = instance.fetch_materializations(dg.AssetKey("whale_skill"), limit=5).records
    assert len(events) == 1
