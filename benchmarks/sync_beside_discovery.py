"""The whale sync's minute beside discovery: `python -m benchmarks.sync_beside_discovery`.

Issue 14's budget figure: the whale sync's duration, requests per minute and 429s alone, then
with discovery running beside it in another process that shares the key's limiter directory
(as the sync and discovery jobs do in production), against one simulator at 15 req/s with
60-120 ms latency. Discovery runs back to back (every source due on every run) for the whole
sync, a worse case than its hourly schedule. Each sync starts from a copy of one warehouse
whose whales were backfilled, so both measure the same steady cycle (one request per whale
with nothing new). Requests and 429s come from the simulator's counters; the sync's own
requests from its report, discovery's from the other process's reports.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import common
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession


def _child(base_url: str, leaderboard_url: str, limiter: str, path: str) -> None:
    """Discovery in its own process: runs until a line arrives on stdin, then reports."""
    from opinion_pipeline.defs.whale_candidates.sync import DiscoveryOptions, discover

    api = common.client(base_url, Path(limiter))
    api = api.model_copy(update={"leaderboard_url": leaderboard_url})
    warehouse = common.warehouse(Path(path))
    options = DiscoveryOptions(leaderboard_refresh_minutes=0, holders_refresh_minutes=0)
    print("ready", flush=True)
    sys.stdin.readline()  # go
    import selectors

    stop = selectors.DefaultSelector()
    stop.register(sys.stdin, selectors.EVENT_READ)
    runs, requests, started = 0, 0, time.time()
    while not stop.select(timeout=0):
        requests += discover(api, warehouse, options).requests
        runs += 1
    api.close()
    print(json.dumps({"runs": runs, "requests": requests, "seconds": time.time() - started}))


def _sync_once(sim: Any, whales: list[Any], base: Path, tmp: Path, name: str) -> Any:
    from opinion_pipeline.defs.whale_trades.sync import WhaleSyncOptions, sync_whale_trades

    path = tmp / f"{name}.duckdb"
    shutil.copy(base, path)
    api = common.client(sim.base_url, tmp / "limiter")
    report = sync_whale_trades(api, common.warehouse(path), whales, WhaleSyncOptions())
    api.close()
    return report


def _figures(wall: float, sync_requests: int, served: dict[str, int]) -> dict[str, Any]:
    return {
        "wall_s": round(wall, 3),
        "sync_requests": sync_requests,
        "sync_req_per_min": round(60 * sync_requests / wall, 1),
        "all_requests": served["requests"],
        "all_req_per_min": round(60 * served["requests"] / wall, 1),
        "http_429": served["rate_limited"],
    }


def run_pair(sim: Any, whales: list[Any], base: Path, tmp: Path, index: int) -> dict[str, Any]:
    """One sync alone, then one beside a discovery process; figures of both."""
    time.sleep(1.2)  # refill the simulator's bucket
    sim.reset_counters()
    started = time.perf_counter()
    report = _sync_once(sim, whales, base, tmp, f"alone-{index}")
    alone = _figures(time.perf_counter() - started, report.requests, common.sim_totals(sim))

    shutil.copy(base, tmp / "discovery.duckdb")
    args = [sim.base_url, sim.leaderboard_url, str(tmp / "limiter"), str(tmp / "discovery.duckdb")]
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.sync_beside_discovery", "--child", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin and child.stdout
    if child.stdout.readline().strip() != "ready":
        raise RuntimeError("the discovery process did not start")
    time.sleep(1.2)
    sim.reset_counters()
    child.stdin.write("go\n")
    child.stdin.flush()
    time.sleep(0.2)  # discovery is already asking when the sync starts
    started = time.perf_counter()
    report = _sync_once(sim, whales, base, tmp, f"beside-{index}")
    wall = time.perf_counter() - started
    served = common.sim_totals(sim)
    child.stdin.write("stop\n")
    child.stdin.flush()
    out, _ = child.communicate(timeout=120)
    if child.returncode:
        raise RuntimeError(f"the discovery process failed (exit {child.returncode})")
    beside = _figures(wall, report.requests, served)
    beside["discovery"] = json.loads(out.strip().splitlines()[-1])
    beside["wall_ratio_to_alone"] = round(wall / alone["wall_s"], 3)
    return {"alone": alone, "beside": beside}


def measure(wallets: int, markets: int, traders: int, repeat: int) -> dict[str, Any]:
    from opinion_pipeline.defs.markets.sync import sync_markets
    from opinion_pipeline.defs.whale_registry.store import sync_registry

    with (
        common.workdir("beside") as tmp,
        common.simulator(
            markets=markets, wallets=wallets, traders=traders, history_days=0.5, clock_speed=0.0,
            start_time=common.FROZEN_START, world_start=common.FROZEN_START,
            rate_limit=common.API_LIMIT, faults=dict(common.LATENCY),
        ) as sim,
    ):  # fmt: skip
        whales = common.sim_whales(sim)
        base = tmp / "base.duckdb"
        warehouse = common.warehouse(base)
        api = common.client(sim.base_url, tmp / "limiter")
        sync_markets(api, warehouse)
        with warehouse.transaction() as conn:
            sync_registry(DuckDBSession(conn), whales)
        _sync_once(sim, whales, base, tmp, "backfill")
        shutil.move(tmp / "backfill.duckdb", base)
        api.close()
        pairs = common.repeated(
            repeat, "pair", lambda index: run_pair(sim, whales, base, tmp, index)
        )
    ratios = [pair["beside"]["wall_ratio_to_alone"] for pair in pairs]
    return {
        "whales": wallets, "markets": markets, "traders": traders, "pairs": pairs,
        "alone_wall_s": common.spread([p["alone"]["wall_s"] for p in pairs]),
        "beside_wall_s": common.spread([p["beside"]["wall_s"] for p in pairs]),
        "wall_ratio_beside_to_alone": common.spread(ratios),
        "http_429_max": max(p[k]["http_429"] for p in pairs for k in ("alone", "beside")),
        "beside_within_minute": all(p["beside"]["wall_s"] < 60 for p in pairs),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, Any]:
    if argv is None and sys.argv[1:2] == ["--child"]:
        _child(*sys.argv[2:6])
        return {}
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--wallets", type=int, default=300)
    parser.add_argument("--markets", type=int, default=400)
    parser.add_argument("--traders", type=int, default=3000)
    args = parser.parse_args(argv)
    if args.quick:
        args.wallets, args.markets, args.traders, args.repeat = 20, 30, 200, 1
    figures = measure(args.wallets, args.markets, args.traders, args.repeat)
    common.say(
        f"whale sync of {args.wallets}: alone {figures['alone_wall_s']} s, beside discovery "
        f"{figures['beside_wall_s']} s, ratio {figures['wall_ratio_beside_to_alone']}, "
        f"429s {figures['http_429_max']}"
    )
    common.emit("sync_beside_discovery", {"machine": common.machine(), **figures})
    return figures


if __name__ == "__main__":
    main()
