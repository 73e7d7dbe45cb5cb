"""Discovery's request budget: `python -m benchmarks.discovery_budget [--markets 400]`.

One discovery run (default settings: 12 leaderboard boards, OPINION_DISCOVERY_HOLDER_REQUESTS=20
holder requests) against the simulator at 15 req/s with 60-120 ms latency, after a market sweep.
Requests are counted by the simulator. Baselines: the naive holder scan (every page of both
sides of every active market with holders, as the original project's disabled job would need
to see every holder) and its cheapest form (the first page of both sides of every such market).
Discovery's share of the key's daily budget assumes its hourly schedule: 24 runs a day against
15 x 86,400 requests.
"""

from __future__ import annotations

import math
import time
from typing import Any

from benchmarks import common


def measure(markets: int, traders: int) -> dict[str, Any]:
    from opinion_pipeline.defs.markets.sync import sync_markets
    from opinion_pipeline.defs.whale_candidates.sources import holder_markets
    from opinion_pipeline.defs.whale_candidates.sync import DiscoveryOptions, discover

    with (
        common.workdir("discovery") as tmp,
        common.simulator(
            markets=markets, wallets=10, traders=traders, history_days=5, clock_speed=0.0,
            start_time=common.FROZEN_START, world_start=common.FROZEN_START,
            rate_limit=common.API_LIMIT, faults=dict(common.LATENCY),
        ) as sim,
    ):  # fmt: skip
        api = common.client(sim.base_url, tmp / "limiter")
        api = api.model_copy(update={"leaderboard_url": sim.leaderboard_url})
        warehouse = common.warehouse(tmp / "w.duckdb")
        sync_markets(api, warehouse)
        time.sleep(1.2)  # refill the simulator's bucket
        sim.reset_counters()
        options = DiscoveryOptions()
        started = time.perf_counter()
        report = discover(api, warehouse, options)
        wall = time.perf_counter() - started
        served = common.sim_totals(sim)
        with warehouse.reader() as session:
            every = holder_markets(session, 10**9)
        holders = {m["marketId"]: m["holders"] for m in sim.truth_holders()}
        api.close()
    pages = sum(
        max(1, math.ceil(len(holders.get(market_id, {}).get(side, [])) / common.PAGE_ROWS))
        for market_id in every
        for side in ("yes", "no")
    )
    daily = common.API_LIMIT * 86_400
    requests = served["requests"]
    return {
        "markets_configured": markets, "traders": traders, "holder_markets_active": len(every),
        "discovery_requests": requests, "pipeline_counted": report.requests,
        "http_429": served["rate_limited"], "wall_s": round(wall, 3),
        "admitted": int(report.extra.get("admitted", 0)),
        "naive_all_pages": pages, "naive_first_pages": 2 * len(every),
        "ratio_to_naive_all_pages": round(requests / pages, 4),
        "ratio_to_naive_first_pages": round(requests / (2 * len(every)), 4),
        "daily_share_pct": round(100 * 24 * requests / daily, 4),
        "naive_all_pages_daily_share_pct": round(100 * 24 * pages / daily, 4),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--markets", type=int, default=400)
    parser.add_argument("--traders", type=int, default=3000)
    args = parser.parse_args(argv)
    if args.quick:
        args.markets, args.traders = 30, 200
    figures = measure(args.markets, args.traders)
    common.say(f"discovery: {figures}")
    common.emit("discovery_budget", {"machine": common.machine(), **figures})
    return figures


if __name__ == "__main__":
    main()
