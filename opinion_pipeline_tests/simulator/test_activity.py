"""The heavy-tailed activity model (simulator/activity.py): rates, bursts, silences, the seed."""

from __future__ import annotations

import math
import random

import pytest

from opinion_pipeline.simulator.activity import (
    BURST_MIN_PER_HOUR,
    DAY,
    HOUR,
    MAX_PER_HOUR,
    Arrivals,
)
from opinion_pipeline.simulator.clock import SimClock
from opinion_pipeline.simulator.world import World
from opinion_pipeline_tests.simulator.helpers import START, check_trade

pytestmark = pytest.mark.unit


def _times(seed: int, days: float = 30.0) -> tuple[list[float], Arrivals]:
    arrivals = Arrivals(random.Random(seed), begin=0.0, start=days * DAY)
    times = []
    while (at := arrivals.next()) < days * DAY:
        times.append(at)
    return times, arrivals


def test_rates_are_heavy_tailed_most_wallets_rare_a_few_very_busy():
    drawn = [_times(seed) for seed in range(400)]
    counts = sorted((len(times) for times, _ in drawn), reverse=True)
    assert all(arrivals.base_per_s * HOUR <= MAX_PER_HOUR for _, arrivals in drawn)
    assert sum(counts[:40]) > 0.6 * sum(counts), "the busiest tenth makes most trades"
    median_per_day = counts[len(counts) // 2] / 30
    assert median_per_day < 3, "the median wallet is rare"
    assert counts[0] > 100 * max(1, counts[len(counts) // 2])


def test_a_quiet_wallet_bursts_and_wallets_fall_silent():
    bursts = silences = 0
    for seed in range(200):
        times, arrivals = _times(seed)
        if arrivals.base_per_s * HOUR < 0.05:  # quiet: a burst is an hour with several trades
            bursts += any(
                sum(1 for t in times[i : i + 3] if t - times[i] < HOUR) >= 3
                for i in range(len(times))
            )
        gaps = [b - a for a, b in zip([0.0, *times], [*times, 30 * DAY], strict=True)]
        expected_gap = 1 / max(arrivals.base_per_s, 1e-12)
        silences += max(gaps) > max(2 * DAY, 8 * expected_gap) or arrivals.stop_at < 30 * DAY
    assert bursts >= 10 and silences >= 20
    assert BURST_MIN_PER_HOUR >= 1


def test_the_same_seed_gives_the_same_trades_and_a_stopped_wallet_stays_silent():
    assert _times(3)[0] == _times(3)[0] and _times(3)[0] != _times(4)[0]
    stopped = next(a for a in (_times(s)[1] for s in range(100)) if a.stop_at < 30 * DAY)
    assert stopped.next() == math.inf and stopped.next() == math.inf


def test_the_world_serves_heavy_tailed_trades_only_when_asked():
    def world(activity: str) -> World:
        return World(
            seed=42, markets=60, wallets=60, start=START, clock=SimClock(START, 0),
            activity=activity,
        )  # fmt: skip

    default, tailed = world("profiles"), world("heavy-tailed")
    counts = []
    for wallet in tailed.wallets:
        fills = tailed.fills(wallet, START)
        for fill in fills[:3]:
            check_trade(tailed.render(wallet, fill))
        counts.append(len(fills))
    old = [len(default.fills(wallet, START)) for wallet in default.wallets]
    assert counts != old
    assert max(counts) > 5 * max(1, sorted(counts)[len(counts) // 2])  # bursts lift the median
    with pytest.raises(ValueError, match="activity"):
        world("bursty")
