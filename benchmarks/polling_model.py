"""Polling planner vs round-robin on one key, as a model in simulated time (no HTTP).

NOT the issue's `benchmarks.polling` (which drives the HTTP simulator for 30 minutes): this runs
the planner's own code (`defs/whale_trades/planner.plan_polls`) minute by minute against
seeded Poisson trades with heavy-tailed per-whale rates (log-normal), counting one request per
poll plus one per 20 new trades, and reports the detection latency of each new trade (first
poll after it) for the planner and for polling every whale in turn at the same budget.

    python -m benchmarks.polling_model [--whales 10000] [--minutes 60] [--budget 600]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics

from benchmarks.common import emit
from opinion_pipeline.defs.whale_trades.planner import WhaleState, plan_polls

HOUR = 3600.0


def _trades(rng: random.Random, rate: float, span: float) -> list[float]:
    times, t = [], 0.0
    while rate > 0:
        t += rng.expovariate(rate)
        if t >= span:
            return times
        times.append(t)
    return times


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def run(whales: int, minutes: int, budget: int, seed: int = 7, planner: bool = True) -> dict:
    rng = random.Random(seed)
    rates = [min(30.0, rng.lognormvariate(-3.0, 1.8)) / HOUR for _ in range(whales)]  # per s
    span = minutes * 60.0
    history = 6 * HOUR  # warm-up history the rate estimate starts from
    trades = [_trades(rng, r, span + history) for r in rates]
    trades = [[t - history for t in ts] for ts in trades]
    last_poll = [0.0] * whales  # after a backfill at t = 0
    next_index = [sum(1 for t in ts if t <= 0) for ts in trades]
    latencies: list[list[float]] = [[] for _ in range(whales)]
    longest_gap, requests, cursor = 0.0, 0, 0
    for minute in range(1, minutes + 1):
        now = minute * 60.0
        if planner:
            states = []
            for i in range(whales):
                seen = [t for t in trades[i][: next_index[i]] if t > now - 30 * 86400]
                short = sum(math.exp(-(now - t) / HOUR) for t in seen) / HOUR
                rate = max(short, len(seen) / (now + history), 1 / (30 * 86400))  # observed span
                states.append(WhaleState(str(i), last_poll[i], rate, new=False))
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
            new = [t for t in trades[i][next_index[i] :] if t <= now]
            requests += 1 + len(new) // 20
            latencies[i].extend(now - t for t in new)
            next_index[i] += len(new)
            longest_gap = max(longest_gap, now - last_poll[i])
            last_poll[i] = now
    longest_gap = max(longest_gap, max(span - t for t in last_poll))
    everything = [x for per in latencies for x in per]
    busiest = sorted(range(whales), key=lambda i: -rates[i])[: max(1, whales // 10)]
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
    parser.add_argument("--budget", type=int, default=600, help="poll requests per minute")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.whales, args.minutes, args.budget = 300, 10, 30
    planned = run(args.whales, args.minutes, args.budget, planner=True)
    baseline = run(args.whales, args.minutes, args.budget, planner=False)
    print(f"planner:     {planned}")
    print(f"round-robin: {baseline}")
    emit("polling_model", {
        "whales": args.whales, "minutes": args.minutes, "budget_per_minute": args.budget,
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
