"""Polling planner vs round-robin over HTTP, one key: `python -m benchmarks.polling`.

`python -m benchmarks.polling [--whales 10000 3000 1000] [--minutes 30] [--drain-minutes 10]
[--speed 3] [--history-days 14] [--quick]`

Per size (the issue's benchmark; benchmarks.polling_model is its model without HTTP):
1. **Backfill** every whale's history (`--history-days`, heavy-tailed activity) from an
   unlimited simulator with a frozen clock at T0, through the pipeline's own
   `sync_whale_trades` (as benchmarks.whale_sync does); the polls are recorded at T0.
2. **Each scheme** then starts from a copy of that warehouse against a fresh simulator with the
   same world, limited to 15 req/s, its clock running at `--speed` simulated seconds per real
   second from T0 and its limit refilling on that clock (`--rate-limit-clock simulated`, so the
   key still gets 15 requests per *simulated* second), answering in 60-120 simulated ms. The
   pipeline's client paces at 14.4 requests per simulated second, and the sync plans and
   records its polls on the simulator's clock (`sync_whale_trades(clock=...)`). A run starts
   at every simulated minute; a tick that falls while a run is going is skipped, as the
   schedule does. Schemes, both through `sync_whale_trades` at the same budget (the key's
   14.4 req/s x 50 s less 60 reserved requests: 670 requests a run):
   - **planner**: every whale handed to the sync, the planner chooses (defs/whale_trades);
   - **round-robin** (the baseline, today's scheme at this budget): the sync gets the next
     whales in turn, as many as the budget has requests left after the previous run's extra
     pages, so every whale is polled once a cycle.
3. **Ground truth** from the simulator (`/_sim/truth/trades?since=`): every trade created in
   the `--minutes` window; detection latency = when it was stored (its `ingested_at`, on the
   simulated clock) - its `createdAt`. The runs go on `--drain-minutes` after the window so
   that late trades are found; one still missing at the end counts with the time until then (a
   lower bound) and is reported as `undetected`. Longest poll gap: over every whale, between
   two polls (the backfill counts as one) or from the last poll to the end. Requests and 429s
   from the simulator's counters.

The speed is chosen so the machine keeps up: the pipeline's fixed cost per run (planning,
writes) is multiplied by it, so at 10,000 whales speed 6 made runs overrun their minute and
speed 3 did not (runs report their simulated duration: `runs_over_minute`). The real time is
(minutes + drain) x 60 / speed per scheme, plus the backfill (10,000 whales: ~4 minutes).
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from benchmarks import common
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession

SEED = 7
MARKETS = 200
KEY_RATE = 14.4  # the pipeline's pacing, requests per (simulated) second



def _world(wallets: int, history_days: float) -> dict[str, Any]:
    return {
        "seed": SEED,
        "markets": MARKETS,
        "wallets": wallets,
        "history_days": history_days,
        "start_time": common.FROZEN_START,
        "world_start": common.FROZEN_START,
        "extra_args": ["--activity", "heavy-tailed"],
    }


def backfill(world: dict[str, Any], path: Path, tmp: Path) -> dict[str, Any]:
    """Every whale's history into ``path``, polled at T0, from an unlimited frozen twin."""
    from opinion_pipeline.defs.whale_registry.store import sync_registry
    from opinion_pipeline.defs.whale_trades.sync import WhaleSyncOptions, sync_whale_trades

    with common.simulator(rate_limit=0, clock_speed=0.0, **world) as sim:
        whales = common.sim_whales(sim)
        warehouse = common.warehouse(path)
        with warehouse.transaction() as conn:
            sync_registry(DuckDBSession(conn), whales)
        api = common.client(sim.base_url, tmp / "limiter-backfill", rate=5000.0)
        options = WhaleSyncOptions(workers=6, key_rate_per_second=5000.0)  # all in one run
        started = time.perf_counter()
        report = sync_whale_trades(
            api, warehouse, whales, options, clock=lambda: float(common.FROZEN_START)
        )
        seconds = time.perf_counter() - started
        api.close()
    return {
        "trades": report.new_rows,
        "requests": report.requests,
        "seconds": round(seconds, 1),
        "whales_polled": report.extra["whales_polled"],
    }


class SimTime:
    """The simulator's clock, read locally: anchored when the benchmark sets its speed."""

    def __init__(self, sim: Any, speed: float) -> None:
        self.speed = speed
        snapshot = sim.set_speed(speed)
        self.wall0, self.mono0 = time.time(), time.monotonic()
        self.sim0 = float(snapshot["now_s"])

    def __call__(self) -> float:
        return self.sim0 + self.speed * (time.monotonic() - self.mono0)

    def of_wall(self, wall: float) -> float:
        """A wall-clock instant (e.g. a row's ingested_at) on the simulated clock."""
        return self.sim0 + self.speed * (wall - self.wall0)

    def sleep_until(self, moment: float) -> None:
        left = (moment - self()) / self.speed
        if left > 0:
            time.sleep(left)


class RoundRobin:
    """The baseline: the next whales in turn, one request each within the run's budget."""

    def __init__(self, whales: list[Any], budget: int) -> None:
        self.whales, self.budget, self.cursor, self.extra = whales, budget, 0, 0

    def next_batch(self) -> list[Any]:
        count = max(1, min(len(self.whales), self.budget - self.extra))
        batch = [self.whales[(self.cursor + i) % len(self.whales)] for i in range(count)]
        self.cursor = (self.cursor + count) % len(self.whales)
        return batch

    def spent(self, requests: int, polled: int) -> None:
        self.extra = max(0, requests - polled)  # pages beyond the first: taken off the next run


def _polls(warehouse: Any) -> dict[str, float]:
    with warehouse.reader() as session:
        rows = session.query("SELECT address, epoch(last_polled_at) FROM whales")
    return {address: float(at) for address, at in rows if at is not None}


def run_scheme(
    scheme: str, world: dict[str, Any], base: Path, tmp: Path, args: Any
) -> dict[str, Any]:
    """Minute-by-minute whale-sync runs of one scheme; its figures against the truth."""
    from opinion_pipeline.defs.whale_trades.planner import PollBudget
    from opinion_pipeline.defs.whale_trades.sync import WhaleSyncOptions, sync_whale_trades

    path = tmp / f"{scheme}.duckdb"
    shutil.copy(base, path)
    warehouse = common.warehouse(path)
    options = WhaleSyncOptions(
        workers=args.workers, key_rate_per_second=KEY_RATE, poll_seconds=args.poll_seconds
    )
    budget = PollBudget(KEY_RATE, options.poll_seconds, options.reserved_per_minute).requests
    faults = {key: value / args.speed for key, value in common.LATENCY.items()}
    extra = [*world["extra_args"], "--rate-limit-clock", "simulated"]
    simulated = {**world, "extra_args": extra}
    with common.simulator(
        rate_limit=common.API_LIMIT, clock_speed=0.0, faults=faults, **simulated
    ) as sim:
        whales = common.sim_whales(sim)
        rotation = RoundRobin(whales, budget)
        if scheme == "round-robin":  # the budget must not bind: the batch is the plan
            options = dataclasses.replace(options, poll_seconds=options.poll_seconds * 100)
        api = common.client(sim.base_url, tmp / f"limiter-{scheme}", rate=KEY_RATE * args.speed)
        last_poll = dict.fromkeys((w.address for w in whales), float(common.FROZEN_START))
        longest_gap, runs, skipped, sim_seconds, real_seconds = 0.0, 0, 0, [], []
        plan_numbers: list[dict[str, Any]] = []
        start = float(common.FROZEN_START)
        end = start + 60.0 * (args.minutes + args.drain_minutes)
        sim.reset_counters()
        clock = SimTime(sim, args.speed)
        tick = start + 60.0
        while tick <= end:
            clock.sleep_until(tick)
            began, real = clock(), time.perf_counter()
            batch = whales if scheme == "planner" else rotation.next_batch()
            report = sync_whale_trades(api, warehouse, batch, options, clock=clock)
            finished = clock()
            runs += 1
            sim_seconds.append(finished - began)
            real_seconds.append(time.perf_counter() - real)
            rotation.spent(report.requests, report.extra["whales_polled"])
            plan_numbers.append(report.extra)
            if runs % 10 == 0:
                common.say(
                    f"  {scheme} run {runs}: {sim_seconds[-1]:.1f} s simulated "
                    f"({real_seconds[-1]:.2f} s real), {report.requests} requests, "
                    f"{report.new_rows} new trades, load {os.getloadavg()[0]:.1f}"
                )
            for address, at in _polls(warehouse).items():
                if at > last_poll[address]:
                    longest_gap = max(longest_gap, at - last_poll[address])
                    last_poll[address] = at
            following = tick + 60.0
            while following < finished:  # ticks during the run are skipped, as the schedule does
                following += 60.0
                skipped += 1
            tick = following
        end = min(end, clock())
        counts = common.sim_totals(sim)
        sim.set_speed(0.0)
        truth = sim.truth_trades(since=int(start) + 1)
        api.close()
    longest_gap = max(longest_gap, max(end - at for at in last_poll.values()))
    window = (start, start + 60.0 * args.minutes)
    figures = _latencies(warehouse, truth, clock, len(whales), window, end)
    return {
        "scheme": scheme,
        **figures,
        "max_poll_gap_s": round(longest_gap, 1),
        "requests": counts["requests"],
        "http_429": counts["rate_limited"],
        "req_per_sim_s": round(counts["requests"] / max(1.0, end - start), 3),
        "runs": runs,
        "ticks_skipped": skipped,
        "runs_over_minute": sum(1 for s in sim_seconds if s > 60.0),
        "run_sim_s": common.spread(sim_seconds, 1),
        "run_real_s": common.spread(real_seconds, 2),
        "budget_per_run": budget,
        "last_plan": {k: v for k, v in plan_numbers[-1].items() if k.startswith("plan_")},
    }


def _latencies(
    warehouse: Any, truth: list[dict[str, Any]], clock: SimTime, whales: int,
    window: tuple[float, float], end: float,
) -> dict[str, Any]:  # fmt: skip
    """Detection latency of every trade created in the window, from the warehouse; the busiest
    decile is the tenth of all ``whales`` with the most trades in the window."""
    start, window_end = window
    with warehouse.reader() as session:
        stored = session.query(
            "SELECT wallet, lower(tx_hash), epoch(created_at)::BIGINT, min(epoch(ingested_at)), "
            "count(*) FROM trades WHERE epoch(created_at) > $start "
            "GROUP BY ALL",
            {"start": start},
        )
    found = {(w, tx, at): (clock.of_wall(ingested), n) for w, tx, at, ingested, n in stored}
    wanted = Counter(
        (row["walletAddress"], str(row["txHash"]).lower(), int(row["createdAt"])) for row in truth
    )
    unknown = sum(n for key, (_, n) in found.items() if key not in wanted)
    per_whale: dict[str, list[float]] = defaultdict(list)
    undetected = 0
    for key, copies in wanted.items():
        wallet, _tx, created = key
        if not start < created <= window_end:
            continue
        if key in found:
            latency = found[key][0] - created
        else:
            latency, undetected = end - created, undetected + copies
        per_whale[wallet].extend([max(0.0, latency)] * copies)
    every = [x for values in per_whale.values() for x in values]
    busiest = sorted(per_whale, key=lambda w: (-len(per_whale[w]), w))[: math.ceil(whales / 10)]
    decile = [x for wallet in busiest for x in per_whale[wallet]]
    return {
        "trades": len(every),
        "undetected": undetected,
        "stored_not_in_truth": unknown,
        **{f"p{q}_latency_s": _pct(every, q) for q in (50, 95, 99)},
        **{f"busiest_decile_p{q}_latency_s": _pct(decile, q) for q in (50, 95, 99)},
        "mean_latency_s": round(statistics.fmean(every), 1) if every else None,
        "busiest_decile_trades": len(decile),
    }


def _pct(values: list[float], q: float) -> float | None:
    return round(common.percentile(values, q), 1) if values else None


def bench_size(wallets: int, args: Any) -> dict[str, Any]:
    world = _world(wallets, args.history_days)
    with common.workdir("polling") as tmp:
        base = tmp / "backfilled.duckdb"
        filled = backfill(world, base, tmp)
        common.say(f"whales={wallets}: backfill {filled}")
        schemes = {}
        for scheme in ("planner", "round-robin"):
            schemes[scheme] = run_scheme(scheme, world, base, tmp, args)
            common.say(f"whales={wallets} {scheme}: {schemes[scheme]}")
    ours, baseline = schemes["planner"], schemes["round-robin"]
    ratio = (baseline["p95_latency_s"] or 0) / (ours["p95_latency_s"] or math.inf)
    return {
        "whales": wallets,
        "backfill": filled,
        "p95_latency_s": ours["p95_latency_s"],
        "baseline_p95_latency_s": baseline["p95_latency_s"],
        "p95_ratio_to_baseline": round(ratio, 2),
        "max_poll_gap_s": ours["max_poll_gap_s"],
        "http_429": ours["http_429"] + baseline["http_429"],
        "planner": ours,
        "round_robin": baseline,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--whales", type=int, nargs="+", default=[10_000])
    parser.add_argument("--minutes", type=int, default=30, help="simulated minutes measured")
    parser.add_argument("--drain-minutes", type=int, default=10, help="runs after the window")
    parser.add_argument("--speed", type=float, default=3.0, help="simulated s per real s")
    parser.add_argument("--history-days", type=float, default=14.0)
    parser.add_argument("--workers", type=int, default=4, help="OPINION_SYNC_WORKERS")
    parser.add_argument("--poll-seconds", type=float, default=50.0, help="of each minute")
    args = parser.parse_args(argv)
    if args.quick:  # a budget of 67 requests a run, so the round-robin cycle is ~5 runs
        args.whales, args.minutes, args.drain_minutes = [300], 4, 2
        args.speed, args.history_days, args.poll_seconds = 20.0, 1.0, 5.0
    sizes = [bench_size(wallets, args) for wallets in args.whales]
    for size in sizes:
        ours, baseline = size["planner"], size["round_robin"]
        common.say(
            f"whales={size['whales']}: p95 {ours['p95_latency_s']} s vs round-robin "
            f"{baseline['p95_latency_s']} s ({size['p95_ratio_to_baseline']}x); p50 "
            f"{ours['p50_latency_s']} / {baseline['p50_latency_s']} s; p99 "
            f"{ours['p99_latency_s']} / {baseline['p99_latency_s']} s; busiest decile p95 "
            f"{ours['busiest_decile_p95_latency_s']} / "
            f"{baseline['busiest_decile_p95_latency_s']} s; longest gap "
            f"{ours['max_poll_gap_s']} / {baseline['max_poll_gap_s']} s; requests "
            f"{ours['requests']} / {baseline['requests']}; 429s {size['http_429']}; runs over "
            f"their minute {ours['runs_over_minute']} / {baseline['runs_over_minute']}"
        )
    first = sizes[0]
    headline = {key: first[key] for key in ("p95_latency_s", "baseline_p95_latency_s",
                                            "p95_ratio_to_baseline", "max_poll_gap_s")}  # fmt: skip
    common.emit("polling", {
        **headline,
        "http_429": sum(size["http_429"] for size in sizes),
        "whales": first["whales"], "minutes": args.minutes, "drain_minutes": args.drain_minutes,
        "speed": args.speed, "history_days": args.history_days, "machine": common.machine(),
        "sizes": sizes,
    })  # fmt: skip
    return first


if __name__ == "__main__":
    main()
