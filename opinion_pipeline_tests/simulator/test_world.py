"""The world model in-process: profiles, timelines, trade invariants, speed, the rate limiter."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from opinion_pipeline.simulator.api import user_trades
from opinion_pipeline.simulator.clock import SimClock
from opinion_pipeline.simulator.faults import FaultSettings, FaultSettingsError
from opinion_pipeline.simulator.limits import RateLimiter
from opinion_pipeline.simulator.markets import DAY, HOUR
from opinion_pipeline.simulator.world import World
from opinion_pipeline_tests.simulator.helpers import ADDRESS, START, check_trade


def _world(**options: object) -> World:
    settings: dict = {"seed": 42, "markets": 60, "wallets": 30, "start": START}
    settings.update(options)
    return World(clock=SimClock(START, 0), **settings)


def test_wallet_profiles_and_addresses():
    world = _world(wallets=1000)
    profiles = Counter(wallet.profile for wallet in world.wallets)
    assert profiles == {"heavy": 200, "light": 600, "inactive": 200}
    assert len({wallet.address for wallet in world.wallets}) == 1000
    assert all(ADDRESS.match(wallet.address) for wallet in world.wallets)
    assert world.wallet(world.wallets[0].address.upper().replace("0X", "0x")) is world.wallets[0]


def test_trade_rates_follow_the_profiles():
    world = _world(wallets=100)
    per_hour: dict[str, list[float]] = {"heavy": [], "light": [], "inactive": []}
    for wallet in world.wallets:
        fills = world.fills(wallet, START)
        if wallet.profile == "inactive":
            assert 3 <= len({f.tx for f in fills}) <= 8, "a handful of trades"
            assert all(START - 200 * DAY <= f.created_at <= START - 100 * DAY for f in fills)
            assert world.fills(wallet, START + 30 * DAY) == fills, "nothing since"
            continue
        recent = [f for f in fills if f.created_at >= START - 14 * DAY]
        per_hour[wallet.profile].append(len({f.tx for f in recent}) / (14 * 24))
    heavy = sum(per_hour["heavy"]) / len(per_hour["heavy"])
    light = sum(per_hour["light"]) / len(per_hour["light"])
    assert 3.5 < heavy < 4.6 and 0.14 < light < 0.27


def test_every_status_and_its_timeline():
    world = _world()
    visible = world.visible_markets(START)
    assert {market.status(START) for market in visible} == {1, 2, 3, 4, 5, 6}
    assert any(market.created_at > START for market in world.markets)
    assert any(market.cutoff_at == 0 for market in world.markets), "cutoffAt 0 = unset"
    soon = [m for m in visible if m.status(START) == 2 and 0 < m.cutoff_at < START + 4 * HOUR]
    assert soon
    for market in soon:
        assert market.status(market.cutoff_at) == 3
        assert market.resolved_at(market.cutoff_at) == 0
        after = market.cutoff_at + market.resolve_delay
        assert market.status(after) in (4, 5) and market.resolved_at(after) in (0, after)
    for market in world.markets:
        for child in market.children:
            assert child.status(START) == market.status(START)


def test_trades_happen_only_on_open_markets_and_render_exactly():
    world = _world()
    checked = 0
    for wallet in world.wallets:
        for fill in world.fills(wallet, START):
            assert world.leaves[fill.leaf].tradeable(fill.created_at)
            if checked < 3000:
                check_trade(world.render(wallet, fill))
                checked += 1
    assert checked == 3000


def test_a_thousand_wallets_are_fast():
    started = time.perf_counter()
    world = _world(wallets=1000)
    assert time.perf_counter() - started < 1.0, "building the world is cheap"
    started = time.perf_counter()
    fills = sum(len(world.fills(wallet, START)) for wallet in world.wallets[:100])
    assert fills > 20_000
    # ~0.4 s when idle: a first request for a wallet costs milliseconds, not seconds
    assert time.perf_counter() - started < 5.0


def test_generation_does_not_depend_on_how_time_is_stepped():
    stepped, direct = _world(), _world()
    wallet = next(w for w in stepped.wallets if w.profile == "heavy")
    for moment in range(START, START + DAY, 997):
        stepped.fills(wallet, moment)
    assert stepped.fills(wallet, START + DAY) == direct.fills(wallet, START + DAY)


def test_user_trades_paging_at_exactly_20_and_21():
    world = _world(history_days=0)
    for wallet in (w for w in world.wallets if w.profile == "heavy"):
        times = [fill.created_at for fill in world.fills(wallet, START + DAY)]
        if times[19] < times[20] < times[21]:
            break
    else:
        raise AssertionError("no wallet with clean cuts at 20 and 21 fills")
    for count in (20, 21):
        now = times[count - 1]
        first = user_trades(world, now, wallet.address, {"limit": ["20"]}).result
        second = user_trades(world, now, wallet.address, {"limit": ["20"], "page": ["2"]}).result
        assert first["total"] == second["total"] == count
        assert len(first["list"]) == 20 and len(second["list"]) == count - 20
        assert first["list"][0]["createdAt"] == now
        if second["list"]:
            assert second["list"][0]["createdAt"] == times[0]


def test_fault_settings_validation():
    settings = FaultSettings().with_update({"error_rate": 0.5, "envelope": "alternate"})
    assert settings.error_rate == 0.5 and settings.envelope == "alternate"
    assert settings.with_update({"reset": True}) == FaultSettings()
    for bad in ({"error_rate": 1.5}, {"burst_429": 1.5}, {"usd_amount_scaled": 1},
                {"side_case": "lower"}, {"drop": 0.1}, {"latency_ms": -1}):  # fmt: skip
        with pytest.raises(FaultSettingsError):
            FaultSettings().with_update(bad)


def test_token_bucket_capacity_and_refill():
    limiter = RateLimiter(15)
    assert all(limiter.allow("k") for _ in range(15))
    assert not limiter.allow("k")
    assert limiter.allow("other"), "buckets are per key"
    time.sleep(0.1)  # refills 1.5 tokens
    assert limiter.allow("k") and not limiter.allow("k")
    assert all(RateLimiter(0).allow("k") for _ in range(1000))


def test_the_bucket_can_refill_on_the_simulated_clock():
    clock = SimClock(START, speed=0.0)
    limiter = RateLimiter(15, clock=clock.seconds)
    assert all(limiter.allow("k") for _ in range(15))
    time.sleep(0.1)  # real time passes, simulated time does not: no refill
    assert not limiter.allow("k")
    clock.advance(0.2)  # three tokens
    assert [limiter.allow("k") for _ in range(4)] == [True, True, True, False]
