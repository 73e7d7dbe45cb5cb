"""Determinism (same seed, same truth) and the passing of simulated time."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from opinion_pipeline.simulator import SimulatorProcess
from opinion_pipeline_tests.simulator.helpers import START, check_trade, get_ok


def test_same_seed_same_world_other_seed_other_world(
    frozen_sim: SimulatorProcess, new_sim: Callable[..., SimulatorProcess]
):
    twin = new_sim()
    other = new_sim(seed=7)
    assert twin.truth_markets() == frozen_sim.truth_markets()
    assert twin.truth_trades() == frozen_sim.truth_trades()
    assert twin.wallets() == frozen_sim.wallets()
    assert other.wallets() != frozen_sim.wallets()
    assert other.truth_markets() != frozen_sim.truth_markets()


def test_advancing_time_brings_trades_markets_and_status_changes(
    new_sim: Callable[..., SimulatorProcess], api: requests.Session
):
    sim = new_sim()
    assert sim.clock() == {"now": START, "now_s": float(START), "speed": 0.0}
    markets_before = {m["marketId"]: m for m in sim.truth_markets()}
    trades_before = sim.truth_trades()
    time.sleep(0.3)
    assert sim.clock()["now"] == START, "speed 0 freezes time"
    assert sim.advance(8 * 3600)["now"] == START + 8 * 3600
    markets_after = {m["marketId"]: m for m in sim.truth_markets()}
    trades_after = sim.truth_trades()

    new_markets = set(markets_after) - set(markets_before)
    assert new_markets, "markets created after start appear"
    assert all(markets_after[i]["createdAt"] > START for i in new_markets)
    moved = {
        (markets_before[i]["status"], markets_after[i]["status"])
        for i in markets_before
        if markets_before[i]["status"] != markets_after[i]["status"]
    }
    assert (2, 3) in moved or (2, 4) in moved, moved
    for market in markets_after.values():
        if market["status"] == 4 and market["marketType"] == 0:
            assert market["resolvedAt"] > 0
            assert market["resultTokenId"] in (market["yesTokenId"], market["noTokenId"])
        if market["status"] == 4 and market["marketType"] == 1:
            winners = [c for c in market["childMarkets"] if c["resultTokenId"] == c["yesTokenId"]]
            assert len(winners) == 1

    assert len(trades_after) > len(trades_before)
    fresh = trades_after[: len(trades_after) - len(trades_before)]
    assert trades_after[len(fresh) :] == trades_before, "old trades only shift down"
    assert all(START < row["createdAt"] <= START + 8 * 3600 for row in fresh)
    for row in fresh:
        check_trade({k: v for k, v in row.items() if k != "walletAddress"})
    sniped = [row for row in fresh if row["rootMarketId"] in new_markets]
    assert sniped, "some wallets trade on markets created after start"
    first_trade = min(row["createdAt"] for row in sniped)
    first_open = min(markets_after[i]["createdAt"] for i in new_markets)
    assert first_trade - first_open <= 120

    wallet = fresh[0]["walletAddress"]
    listing = get_ok(api, f"{sim.base_url}/trade/user/{wallet}", limit=1)["list"][0]
    assert listing["createdAt"] == fresh[0]["createdAt"]


def test_running_clock_and_speed_control(new_sim: Callable[..., SimulatorProcess]):
    sim = new_sim(clock_speed=3600)
    first = sim.clock()["now"]
    time.sleep(0.3)
    assert sim.clock()["now"] - first >= 500
    frozen = sim.set_speed(0)
    assert frozen["speed"] == 0
    time.sleep(0.2)
    assert sim.clock()["now"] == frozen["now"]
    response = requests.post(f"{sim.root_url}/_sim/clock", json={"advance_seconds": -5}, timeout=5)
    assert response.status_code == 400


def test_world_start_keeps_history_identical_across_restarts_with_a_later_clock():
    """The demo restarts the simulator with the same --world-start: trades must not shift."""
    world_start = START
    histories = []
    for clock_start in (START + 3_600, START + 7_200):
        with SimulatorProcess(
            "restart-key",
            wallets=5,
            markets=10,
            clock_speed=0.0,
            world_start=world_start,
            start_time=clock_start,
        ) as sim:
            histories.append(
                {
                    (row["walletAddress"], row["txHash"], row["createdAt"])
                    for row in sim.truth_trades()
                }
            )
    first, second = histories
    assert first, "the world has trades"
    assert first <= second, "every trade served before the restart is served again, unchanged"
    assert all(created <= START + 3_600 for _, _, created in first)
