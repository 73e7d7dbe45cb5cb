"""Whale sync at the API limit: `python -m benchmarks.whale_sync [--wallets 300 1000]`.

The simulator limits the key to 15 req/s and answers in 60-120 ms. Per size, the benchmark:
1. backfills every whale's history from a *second* simulator with the same world (same seed,
   counts, frozen clock) but no rate limit, so the backfill costs seconds, not minutes;
2. measures a cycle with nothing new and, after moving the frozen clock forward, a cycle with
   new trades, against the rate-limited simulator: the pipeline's `sync_whale_trades` (repeated,
   each time on a fresh copy of the backfilled warehouse) and the seed's scheme as the baseline
   (5 whales per batch, one after another, 1 s pause between batches).
Requests and 429s come from the simulator's own counters.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from benchmarks import common
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession

SEED = 7
MARKETS = 200



def _world(wallets: int, history_days: float) -> dict[str, Any]:
    return {
        "seed": SEED,
        "markets": MARKETS,
        "wallets": wallets,
        "history_days": history_days,
        "clock_speed": 0.0,
        "start_time": common.FROZEN_START,
        "world_start": common.FROZEN_START,
    }


def backfill(world: dict[str, Any], path: Path, tmp: Path) -> dict[str, Any]:
    """Full histories into ``path`` from an unlimited twin of the measured simulator."""
    from opinion_pipeline.defs.whale_registry.store import sync_registry
    from opinion_pipeline.defs.whale_trades.sync import WhaleSyncOptions, sync_whale_trades

    with common.simulator(rate_limit=0, **world) as sim:
        whales = common.sim_whales(sim)
        warehouse = common.warehouse(path)
        with warehouse.transaction() as conn:
            sync_registry(DuckDBSession(conn), whales)
        api = common.client(sim.base_url, tmp / "limiter-backfill", rate=5000.0)
        started = time.perf_counter()
        report = sync_whale_trades(api, warehouse, whales, WhaleSyncOptions(workers=6))
        seconds = time.perf_counter() - started
        api.close()
    return {"trades": report.new_rows, "requests": report.requests, "seconds": round(seconds, 1)}


def seed_scheme(api: Any, warehouse: Any, whales: list[Any], *, batch: int = 5) -> int:
    """The seed's scheme: 5 whales fetched one after another, written, then a 1 s pause."""
    import pandas as pd

    from opinion_pipeline.defs.whale_registry.store import mark_polled
    from opinion_pipeline.defs.whale_trades.store import insert_trades, wallet_watermarks
    from opinion_pipeline.defs.whale_trades.validate import prepare_trades

    with warehouse.connection() as conn:
        watermarks = wallet_watermarks(DuckDBSession(conn))
    new = 0
    for start in range(0, len(whales), batch):
        if start:
            time.sleep(1.0)
        group = whales[start : start + batch]
        frames = []
        for whale in group:
            watermark = watermarks.get(whale.address)
            fetched = api.fetch_wallet_trades(whale.address, watermark=watermark)
            frames.append(prepare_trades(whale.address, fetched.rows).rows)
        rows = pd.concat(frames, ignore_index=True)
        with warehouse.transaction() as conn:
            new += insert_trades(DuckDBSession(conn), rows, run_id="baseline", alert_usd=10_000).new
            mark_polled(DuckDBSession(conn), [whale.address for whale in group])
    return new


def _measure(sim: Any, run: Any, whales: int) -> dict[str, Any]:
    """Run ``run()`` against the limited simulator; figures from its counters."""
    time.sleep(1.2)  # let the simulator's bucket refill after the previous run
    sim.reset_counters()
    started, cpu = time.perf_counter(), time.process_time()
    new_rows = run()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    counts = common.sim_totals(sim)
    rate = counts["requests"] / wall
    return {
        "wall_s": round(wall, 3),
        "requests": counts["requests"],
        "req_per_s": round(rate, 3),
        "limit_use": round(rate / common.API_LIMIT, 4),
        "http_429": counts["rate_limited"],
        "floor_s": round(whales / common.API_LIMIT, 3),
        "wall_over_floor": round(wall / (whales / common.API_LIMIT), 3),
        "new_rows": int(new_rows),
        "cpu_s": round(cpu, 2),  # this process's CPU (all threads): the sync's own cost
    }


def _cycle(
    sim: Any, whales: list[Any], base: Path, tmp: Path, args: Any, label: str
) -> dict[str, Any]:
    """Repeated pipeline runs and one baseline run of one cycle, from the same warehouse."""
    from opinion_pipeline.defs.whale_trades.sync import WhaleSyncOptions, sync_whale_trades

    ours = []
    for index in range(args.repeat):
        path = tmp / f"ours-{label}-{index}.duckdb"
        shutil.copy(base, path)
        api = common.client(sim.base_url, tmp / "limiter")
        options = WhaleSyncOptions(workers=args.workers)

        def run(api: Any = api, path: Path = path, options: Any = options) -> int:
            return sync_whale_trades(api, common.warehouse(path), whales, options).new_rows

        figures = _measure(sim, run, len(whales))
        api.close()
        path.unlink()
        ours.append(figures)
        common.say(f"  {label} pipeline #{index + 1}: {figures}")
    walls = [run["wall_s"] for run in ours]
    summary = {
        "pipeline": ours,
        "wall_s": common.spread(walls),
        "limit_use": common.spread([run["limit_use"] for run in ours], 4),
        "req_per_s": common.spread([run["req_per_s"] for run in ours]),
        "http_429_max": max(run["http_429"] for run in ours),
        "floor_s": ours[0]["floor_s"],
        "wall_over_floor": common.spread([run["wall_over_floor"] for run in ours]),
        "new_rows": ours[0]["new_rows"],
        "cpu_s": common.spread([run["cpu_s"] for run in ours], 2),
    }
    if args.baseline_whales < 0:  # growth runs skip the slow baseline
        return summary
    sample = whales[: args.baseline_whales] if args.baseline_whales else whales
    path = tmp / f"baseline-{label}.duckdb"
    shutil.copy(base, path)
    api = common.client(sim.base_url, tmp / "limiter")
    baseline = _measure(sim, lambda: seed_scheme(api, common.warehouse(path), sample), len(sample))
    api.close()
    path.unlink()
    baseline["wall_s_full"] = round(baseline["wall_s"] * len(whales) / len(sample), 3)
    common.say(f"  {label} baseline (seed scheme, {len(sample)} whales): {baseline}")
    summary["baseline"] = baseline
    summary["speedup_vs_seed"] = common.spread([baseline["wall_s_full"] / w for w in walls], 2)
    return summary


def bench_size(wallets: int, args: Any) -> dict[str, Any]:
    world = _world(wallets, args.history_days)
    with common.workdir("whales") as tmp:
        base = tmp / "backfilled.duckdb"
        filled = backfill(world, base, tmp)
        common.say(f"whales={wallets}: backfill {filled}")
        faults = dict(common.LATENCY)
        with common.simulator(rate_limit=common.API_LIMIT, faults=faults, **world) as sim:
            whales = common.sim_whales(sim)
            nothing = _cycle(sim, whales, base, tmp, args, "nothing-new")
            sim.advance(args.advance)
            fresh = _cycle(sim, whales, base, tmp, args, "new-trades")
    return {"whales": wallets, "backfill": filled, "nothing_new": nothing, "new_trades": fresh}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--wallets", type=int, nargs="+", default=[300, 1000])
    parser.add_argument("--history-days", type=float, default=14.0)
    parser.add_argument("--advance", type=float, default=3600.0, help="sim seconds of new trades")
    parser.add_argument("--workers", type=int, default=4, help="OPINION_SYNC_WORKERS")
    parser.add_argument(
        "--baseline-whales",
        type=int,
        default=0,
        help="baseline on the first N whales only, time scaled linearly (0 = all, -1 = none)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.wallets, args.history_days, args.repeat, args.advance = [10], 0.5, 1, 600.0
    sizes = [bench_size(wallets, args) for wallets in args.wallets]
    figures = {"machine": common.machine(), "workers": args.workers, "sizes": sizes}
    for size in sizes if args.baseline_whales >= 0 else []:
        for cycle in ("nothing_new", "new_trades"):
            data = size[cycle]
            common.say(
                f"whales={size['whales']} {cycle}: wall {data['wall_s']['median']} s "
                f"(floor {data['floor_s']} s), {data['req_per_s']['median']} req/s, "
                f"limit use {data['limit_use']}, 429s {data['http_429_max']}, "
                f"baseline {data['baseline']['wall_s_full']} s, "
                f"speedup {data['speedup_vs_seed']}"
            )
    common.emit("whale_sync", figures)
    return figures


if __name__ == "__main__":
    main()
