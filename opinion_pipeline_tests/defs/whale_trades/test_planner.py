"""The polling planner: budget, floor, expected trades, and its state in the warehouse."""

from __future__ import annotations

import numpy as np
import pytest

from opinion_pipeline.defs.whale_registry.registry_file import Whale
from opinion_pipeline.defs.whale_registry.store import mark_polled, sync_registry
from opinion_pipeline.defs.whale_registry.sync import tracked_whales
from opinion_pipeline.defs.whale_trades.planner import (
    PollBudget,
    WhaleState,
    busy_tier,
    floor_quota,
    plan_polls,
    tier_p95,
    whale_states,
)
from opinion_pipeline.defs.whale_trades.sync import WhaleSyncOptions, sync_whale_trades
from opinion_pipeline_tests.defs.whale_trades.test_coverage import _sync

pytestmark = pytest.mark.unit
NOW = 1_800_000_000.0
HOUR = 3600.0


def _whales(count: int, *, busy: int = 0) -> list[WhaleState]:
    """``count`` whales polled a minute ago; the first ``busy`` trade 10 times an hour."""
    return [
        WhaleState(
            address=f"0x{i:040x}",
            last_polled=NOW - 60,
            rate_per_s=(10 if i < busy else 0.01) / HOUR,
            new=False,
        )
        for i in range(count)
    ]


def test_the_budget_is_the_keys_share_less_reservations_and_repairs():
    budget = PollBudget(rate_per_second=15, poll_seconds=50, reserved_per_minute=60)
    assert budget.requests == 50 * 14
    repaired = PollBudget(
        rate_per_second=15, poll_seconds=50, reserved_per_minute=60, repair_requests=100
    )
    assert repaired.requests == 50 * 14 - 100


def test_a_run_stays_within_its_budget_and_polls_the_busiest_whales():
    whales = _whales(10_000, busy=50)
    plan = plan_polls(whales, now=NOW, budget=600, max_interval_s=HOUR)
    assert plan.planned_requests <= 600 and len(plan.polled) == 600
    assert {w.address for w in whales[:50]} <= set(plan.polled)  # by expected trades
    assert plan.floor_polls == floor_quota(10_000, run_interval_s=60, max_interval_s=HOUR)
    assert plan.skipped == 10_000 - 600 and plan.cutoff_expected > 0


def test_every_whale_is_polled_within_the_floor_over_simulated_runs():
    whales = {w.address: w for w in _whales(3_000, busy=30)}
    last_seen = {address: NOW - 60 for address in whales}
    longest = 0.0
    for run in range(120):  # two hours of one-minute runs
        now = NOW + run * 60
        states = [WhaleState(a, last_seen[a], w.rate_per_s, new=False) for a, w in whales.items()]
        plan = plan_polls(states, now=now, budget=200, max_interval_s=HOUR)
        for address in plan.polled:
            longest = max(longest, now - last_seen[address])
            last_seen[address] = now
    longest = max([longest, *(NOW + 119 * 60 - t for t in last_seen.values())])
    assert longest <= HOUR


@pytest.mark.parametrize(
    ("share", "busy", "rest"),
    [(0.9, 60, 3540), (0.5, 60, 120), (0.97, 300, 600), (0.3, 600, 90), (1.0, 90, 90)],
)
def test_tier_p95_is_the_95th_percentile_of_the_mixture_of_waits(share, busy, rest):
    draws = np.random.default_rng(3)
    waits = np.where(
        draws.random(400_000) < share,
        draws.uniform(0, busy, 400_000),
        draws.uniform(0, rest, 400_000),
    )
    sampled = float(np.quantile(waits, 0.95))
    assert float(tier_p95(share, busy, rest)) == pytest.approx(sampled, rel=0.01)
    # element-wise, as busy_tier calls it for every split at once
    assert tier_p95([share, share], [busy, busy], rest) == pytest.approx([sampled] * 2, rel=0.01)


def test_the_busy_tier_takes_the_whales_that_make_most_trades():
    # 100 whales make almost every trade: they are the tier, polled far more often than the rest
    rates = [10 / HOUR] * 100 + [0.001 / HOUR] * 9_900
    tiers = busy_tier(rates, polls_per_run=600, run_interval_s=60, max_interval_s=HOUR - 60)
    assert 100 <= tiers.busy < 10_000 and tiers.busy_interval_s <= 180
    assert tiers.rest_interval_s >= 5 * tiers.busy_interval_s
    assert tiers.p95_s < 0.95 * (10_000 * 60 / 600)  # estimated better than round-robin
    assert busy_tier([], polls_per_run=10, run_interval_s=60, max_interval_s=HOUR)[0] == 0


def test_round_robin_is_chosen_when_no_split_beats_it():
    # equal rates: nobody is busier, so every whale is polled in turn, once a 10-run cycle
    tiers = busy_tier(
        [1 / HOUR] * 1_000, polls_per_run=100, run_interval_s=60, max_interval_s=HOUR - 60
    )
    assert tiers.busy == 1_000 and tiers.busy_interval_s == tiers.rest_interval_s == 600
    assert tiers.p95_s == pytest.approx(0.95 * 600)
    # the plan says so, and its targets poll the stalest first
    whales = [
        WhaleState(f"0x{i:040x}", NOW - 60 * (1 + i % 10), 1 / HOUR, new=False)
        for i in range(1_000)
    ]
    plan = plan_polls(whales, now=NOW, budget=100, max_interval_s=HOUR)
    assert set(plan.target_s.values()) == {600}
    assert plan.numbers()["plan_estimated_p95_minutes"] == pytest.approx(9.5)
    assert {w.address for w in whales if w.last_polled == NOW - 600} == set(plan.polled)


def test_a_skewed_population_gets_two_tiers_estimated_better_than_round_robin():
    rates = sorted(np.random.default_rng(5).lognormal(-3, 2, 3_000) / HOUR, reverse=True)
    tiers = busy_tier(rates, polls_per_run=670, run_interval_s=60, max_interval_s=HOUR - 60)
    cycle = 3_000 * 60 / 670
    assert 0 < tiers.busy < 3_000 and tiers.busy_interval_s < cycle < tiers.rest_interval_s
    assert tiers.p95_s < 0.95 * cycle


def test_the_planner_beats_round_robin_on_the_heavy_tailed_model():
    from benchmarks.polling_model import run

    planned = run(400, 40, 40)
    baseline = run(400, 40, 40, planner=False)
    assert planned["trades"] > 50 and planned["requests"] == baseline["requests"]
    assert planned["p95_s"] < baseline["p95_s"]
    assert planned["busiest_decile_p95_s"] < baseline["busiest_decile_p95_s"]
    assert planned["max_poll_gap_s"] <= HOUR


def test_new_whales_come_first():
    whales = [*_whales(5), WhaleState("0x" + "f" * 40, None, 0.0, new=True)]
    plan = plan_polls(whales, now=NOW, budget=6, max_interval_s=HOUR)
    assert plan.polled[0] == "0x" + "f" * 40 and plan.new_whales == 1


def test_a_whale_read_once_with_no_trade_is_no_longer_new(warehouse):
    empty, unread = "0x" + "e" * 40, "0x" + "d" * 40
    with warehouse.session() as session:
        sync_registry(session, [Whale(empty, "empty"), Whale(unread, "unread")])
        mark_polled(session, [empty], at=NOW - 60)
        states = whale_states(session, [empty, unread], now=NOW, stored=set())
    assert [(s.address, s.new, s.last_polled) for s in states] == [
        (empty, False, NOW - 60),
        (unread, True, None),
    ]
    plan = plan_polls(states, now=NOW, budget=5, max_interval_s=HOUR)
    assert plan.polled == [unread] and plan.new_whales == 1


def test_the_sync_records_the_plan_per_whale_and_in_its_metadata(
    world, fake_api, warehouse, registry_file
):
    report = _sync(fake_api, warehouse, registry_file)
    assert report.extra["plan_whales_planned"] == len(world.wallets)
    assert report.extra["plan_requests_planned"] <= report.extra["plan_budget_requests"]
    with warehouse.connection() as conn:
        rows = conn.execute("SELECT count(*), bool_and(planned) FROM whale_polling").fetchone()
    assert rows == (len(world.wallets), True)
    # a budget of one request a run: only one whale (plus none new) is polled next time
    tight = WhaleSyncOptions(key_rate_per_second=1.3, poll_seconds=1, reserved_per_minute=18)
    second = sync_whale_trades(fake_api, warehouse, tracked_whales(warehouse), tight)
    assert second.extra["plan_whales_planned"] == 1
    assert second.extra["plan_estimated_p95_minutes"] == pytest.approx(
        0.95 * len(world.wallets), abs=0.01
    )  # one whale a run: round-robin, a cycle of as many runs as whales
    assert second.extra["plan_whales_skipped"] == len(world.wallets) - 1
