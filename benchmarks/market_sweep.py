"""Market sweep: `python -m benchmarks.market_sweep [--markets 2000]`.

Runs the pipeline's `sync_markets` (every page of the market list, validation, upsert) against
the simulator limited to 15 req/s with 60-120 ms latency, into a fresh warehouse, and once more
into the now-filled warehouse (the steady state: every market is an update). The floor is
ceil(markets / 20) requests at 15 req/s (--markets counts the markets listed: the
simulator is configured with a few more, as some of its markets are still upcoming).
"""

from __future__ import annotations

import math
import time
from typing import Any

from benchmarks import common


def sweep(sim: Any, warehouse: Any, tmp: Any) -> dict[str, Any]:
    from opinion_pipeline.defs.markets.sync import sync_markets

    api = common.client(sim.base_url, tmp / "limiter")
    time.sleep(1.2)  # refill the simulator's bucket
    sim.reset_counters()
    started = time.perf_counter()
    report = sync_markets(api, warehouse)
    wall = time.perf_counter() - started
    api.close()
    counts = common.sim_totals(sim)
    return {
        "wall_s": round(wall, 3),
        "requests": counts["requests"],
        "req_per_s": round(counts["requests"] / wall, 3),
        "http_429": counts["rate_limited"],
        "markets_stored": report.new_rows + int(report.extra.get("markets_updated", 0)),
    }


def configured_for(visible: int) -> int:
    """Markets to configure so that about ``visible`` are listed at the frozen start.

    Some simulated markets are created after the start (upcoming), so 2,000 configured list
    only ~1,810; the benchmark sizes by what the sweep really has to read.
    """
    from opinion_pipeline.simulator.clock import SimClock
    from opinion_pipeline.simulator.world import World

    count = visible
    while True:
        world = World(
            seed=42, markets=count, wallets=1, history_days=0, start=common.FROZEN_START,
            clock=SimClock(common.FROZEN_START, 0),
        )  # fmt: skip
        if len(world.visible_markets(common.FROZEN_START)) >= visible:
            return count
        count += max(1, visible // 100)


def measure(markets: int, repeat: int) -> dict[str, Any]:

    floor = math.ceil(markets / common.PAGE_ROWS) / common.API_LIMIT
    configured = configured_for(markets)
    runs = []
    with (
        common.workdir("markets") as tmp,
        common.simulator(
            markets=configured,
            wallets=10,
            clock_speed=0.0,
            start_time=common.FROZEN_START,
            world_start=common.FROZEN_START,
            rate_limit=common.API_LIMIT,
            faults=dict(common.LATENCY),
        ) as sim,
    ):
        for index in range(repeat):
            warehouse = common.warehouse(tmp / f"w{index}.duckdb")
            for state in ("empty", "filled"):
                run = sweep(sim, warehouse, tmp)
                run.update(state=state, floor_s=round(floor, 3))
                run["wall_over_floor"] = round(run["wall_s"] / floor, 3)
                runs.append(run)
                common.say(f"  markets={markets} {state} #{index + 1}: {run}")
    result: dict[str, Any] = {
        "markets": markets, "configured": configured, "floor_s": round(floor, 3), "runs": runs,
    }  # fmt: skip
    for state in ("empty", "filled"):
        picked = [run for run in runs if run["state"] == state]
        result[state] = {
            "wall_s": common.spread([run["wall_s"] for run in picked]),
            "wall_over_floor": common.spread([run["wall_over_floor"] for run in picked]),
            "req_per_s": common.spread([run["req_per_s"] for run in picked]),
            "requests": picked[0]["requests"],
            "http_429_max": max(run["http_429"] for run in picked),
        }
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--markets", type=int, nargs="+", default=[2000])
    args = parser.parse_args(argv)
    if args.quick:
        args.markets, args.repeat = [100], 1
    sizes = [measure(markets, args.repeat) for markets in args.markets]
    for size in sizes:
        common.say(
            f"markets={size['markets']}: floor {size['floor_s']} s; "
            f"empty {size['empty']['wall_s']} s, filled {size['filled']['wall_s']} s, "
            f"{size['filled']['requests']} requests, 429s {size['filled']['http_429_max']}"
        )
    common.emit("market_sweep", {"machine": common.machine(), "sizes": sizes})
    return {"sizes": sizes}


if __name__ == "__main__":
    main()
