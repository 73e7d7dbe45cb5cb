"""Polling planner vs round-robin on one key, as a model in simulated time (no HTTP).

NOT the issue's `benchmarks.polling` (which drives the HTTP simulator for 30 minutes): this runs
the planner's own code (`defs/whale_trades/planner.plan_polls`) minute by minute against
trades drawn from the simulator's heavy-tailed activity model (simulator/activity.py: log-normal
rates, bursts, silences; 30 days of history before the run, as after a backfill), with the
rate estimate the sync uses (planner.estimate_rate), counting one request per poll plus one per
20 new trades, and reports the detection latency of each new trade (first poll after it) for
the planner and for polling every whale in turn at the same budget (round-robin).

    python -m benchmarks.polling_model [--whales 10000] [--minutes 90] [--budget 670] [--seed 7]
    [--quick]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
from bisect import bisect_left, bisect_right

from benchmarks.common import emit
from opinion_pipeline.defs.whale_trades.planner import (
    LONG_WINDOW_S,
    SHORT_TAU_S,
    WhaleState,
    estimate_rate,
    plan_polls,
)
from opinion_pipeline.simulator.activity import Arrivals

HOUR = 3600.0
HISTORY_DAYS = 30.0


def _trades(seed: int, whale: int, begin: float, end: float) -> tuple[list[float], float]:
    """The whale's trade times in [begin, end) from the simulator's activity model."""
    arrivals = Arrivals(random.Random(f"{seed}:{whale}"), begin=begin, start=0.0)
    times = []
    while (at := arrivals.next()) < end:
        times.append(at)
    return times, arrivals.base_per_s


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def _rate(times: list[float], seen: int, now: float, begin: float) -> float:
    """The planner's estimate (planner.whale_states) from the trades stored by ``now``."""
    low = bisect_left(times, now - LONG_WINDOW_S, 0, seen)
    recent = bisect_left(times, now - 8 * SHORT_TAU_S, 0, seen)
    short = sum(math.exp(-(now - t) / SHORT_TAU_S) for t in times[recent:seen]) / SHORT_TAU_S
    held = max(HOUR, min(LONG_WINDOW_S, now - max(begin, now - LONG_WINDOW_S)))
    return estimate_rate(short, seen - low, held)


def run(whales: int, minutes: int, budget: int, seed: int = 7, planner: bool = True) -> dict:
    span = minutes * 60.0
    begin = -HISTORY_DAYS * 86400.0  # history the rate estimate starts from (the backfill)
    drawn = [_trades(seed, i, begin, span) for i in range(whales)]
    trades = [times for times, _ in drawn]
    last_poll = [0.0] * whales  # after a backfill at t = 0
    next_index = [bisect_right(ts, 0.0) for ts in trades]
    latencies: list[list[float]] = [[] for _ in range(whales)]
    longest_gap, requests, cursor = 0.0, 0, 0
    for minute in range(1, minutes + 1):
        now = minute * 60.0
        if planner:
            states = [
                WhaleState(str(i), last_poll[i], _rate(trades[i], next_index[i], now, begin), False)
                for i in range(whales)
            ]
            chosen = [
                int(a)
                for a in plan_polls(states, now=now, budget=budget, max_interval_s=HOUR).polled
            ]
        else:
            chosen, spent = [], 0
            while spent < budget and len(chosen) < whales:
                chosen.append(cursor)
                cursor = (cursor + 1) % whales
                spent += 1
        for i in chosen:
            upto = bisect_right(trades[i], now)
            new = trades[i][next_index[i] : upto]
            requests += 1 + len(new) // 20
            latencies[i].extend(now - t for t in new)
            next_index[i] = upto
            longest_gap = max(longest_gap, now - last_poll[i])
            last_poll[i] = now
    longest_gap = max(longest_gap, max(span - t for t in last_poll))
    everything = [x for per in latencies for x in per]
    counts = [len(per) for per in latencies]
    busiest = sorted(range(whales), key=lambda i: -counts[i])[: max(1, whales // 10)]
    busy = [x for i in busiest for x in latencies[i]]
    return {
        "p50_s": _percentile(everything, 0.5), "p95_s": _percentile(everything, 0.95),
        "p99_s": _percentile(everything, 0.99), "busiest_decile_p95_s": _percentile(busy, 0.95),
        "max_poll_gap_s": longest_gap, "requests": requests, "trades": len(everything),
        "mean_s": statistics.fmean(everything) if everything else 0.0,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--whales", type=int, default=10_000)
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument(
        "--budget", type=int, default=670, help="poll requests per minute (as over HTTP)"
    )
    parser.add_argument("--seed", type=int, default=7, help="the activity model's seed")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.whales, args.minutes, args.budget = 1000, 60, 100
    planned = run(args.whales, args.minutes, args.budget, args.seed, planner=True)
    baseline = run(args.whales, args.minutes, args.budget, args.seed, planner=False)
    print(f"planner:     {planned}")
    print(f"round-robin: {baseline}")
    emit("polling_model", {
        "whales": args.whales, "minutes": args.minutes, "budget_per_minute": args.budget,
        "seed": args.seed,
        "p95_latency_s": planned["p95_s"], "baseline_p95_latency_s": baseline["p95_s"],
        "busiest_decile_p95_s": planned["busiest_decile_p95_s"],
        "baseline_busiest_decile_p95_s": baseline["busiest_decile_p95_s"],
        "max_poll_gap_s": planned["max_poll_gap_s"],
        "baseline_max_poll_gap_s": baseline["max_poll_gap_s"],
        "requests": planned["requests"], "baseline_requests": baseline["requests"],
        "http_429": 0, "model": True,
    })  # fmt: skip


if __name__ == "__main__":
    main()
