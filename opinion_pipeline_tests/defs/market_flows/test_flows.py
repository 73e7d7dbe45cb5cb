"""market_flows against a recomputation in Python from the stored trades (Decimal)."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import dagster as dg
import pytest

from opinion_pipeline.defs.market_flows.assets import market_flows
from opinion_pipeline.defs.market_flows.compute import recompute_flows
from opinion_pipeline.defs.market_flows.tables import WINDOWS
from opinion_pipeline.defs.whale_pnl.compute import recompute_pnl
from opinion_pipeline.defs.whale_skill.compute import recompute_skill
from opinion_pipeline_tests.defs.whale_positions.helpers import sync_all, world_now

pytestmark = pytest.mark.unit
BUYS = {"BUY", "SPLIT"}
TOP = 3  # fewer than the world's whales, so some volume is not top-skill


def _expected(conn, as_of, top_skill: int) -> dict[tuple[int, str], tuple]:
    top = {
        w
        for (w,) in conn.execute(
            "SELECT wallet FROM whale_skill WHERE skill_rank <= ?", [top_skill]
        ).fetchall()
    }
    trades = conn.execute(
        "SELECT wallet, market_id, outcome_side, side, usd_value, created_at FROM trades"
    ).fetchall()
    out = {}
    for window, hours in WINDOWS.items():
        since = as_of - timedelta(hours=hours)
        net: dict[int, dict[int, Decimal]] = defaultdict(lambda: {1: Decimal(0), 2: Decimal(0)})
        whales: dict[int, dict[int, set]] = defaultdict(lambda: {1: set(), 2: set()})
        volume: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for wallet, market, side_held, side, usd, at in trades:
            if not since < at <= as_of:
                continue
            net[market][side_held] += usd if side in BUYS else -usd
            whales[market][side_held].add(wallet)
            volume[market][0] += usd
            volume[market][1] += usd if wallet in top else 0
        for market in net:
            out[(market, window)] = (
                net[market][1],
                net[market][2],
                len(whales[market][1]),
                len(whales[market][2]),
                volume[market][0],
                volume[market][1],
            )
    return out


def test_flows_equal_a_recount_of_the_trades(world, fake_api, warehouse, registry_file):
    sync_all(fake_api, warehouse, registry_file, world)
    as_of = world_now(world)
    recompute_pnl(warehouse, as_of)
    recompute_skill(warehouse, as_of, min_decided=20)
    run = recompute_flows(warehouse, as_of, top_skill=TOP)
    with warehouse.connection() as conn:
        want = _expected(conn, as_of, TOP)
        rows = conn.execute(
            "SELECT market_id, flow_window, yes_net_usd, no_net_usd, yes_whales, no_whales, "
            "volume_usd, top_skill_volume_usd, top_skill_share, net_flow_usd FROM market_flows"
        ).fetchall()
    got = {(m, w): tuple(rest[:6]) for m, w, *rest in rows}
    assert got == want
    assert 0 < run.rows["1h"] <= run.rows["24h"] <= run.rows["7d"]
    assert len(run.top) == min(10, run.rows["7d"])
    for *_, volume, top_volume, share, _flow in (r[2:] for r in rows):
        assert share == (top_volume / volume).quantize(Decimal(1).scaleb(-18))
    assert any(0 < share < 1 for *_, share, _ in rows), "top-skill whales hold part of it"
    flows = [abs(yes) + abs(no) for _, _, yes, no, *_ in rows]
    assert flows == [row[-1] for row in rows]
    recompute_flows(warehouse, as_of, top_skill=TOP)  # a rerun replaces, never adds
    with warehouse.connection() as conn:
        assert conn.execute("SELECT count(*) FROM market_flows").fetchone()[0] == len(rows)


def test_the_asset_publishes_the_top_markets(world, fake_api, warehouse, registry_file, instance):
    sync_all(fake_api, warehouse, registry_file, world)
    shift = int(time.time()) - world.now()  # the asset's window ends now: move the trades there
    with warehouse.connection() as conn:
        conn.execute("UPDATE trades SET created_at = created_at + to_seconds(?)", [shift])
    result = dg.materialize([market_flows], instance=instance, resources={"warehouse": warehouse})
    assert result.success
    metadata = result.asset_materializations_for_node("market_flows")[0].metadata
    table = metadata["top_markets_by_whale_flow_7d"].value
    assert table.count("\n") >= 3 and "skill share" in table
    assert metadata["dagster/row_count"].value > 0
