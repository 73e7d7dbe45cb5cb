"""Positions snapshots at the API limit: `python -m benchmarks.positions_snapshot [--whales 1000]`.

A rate-limited simulator (15 req/s, 60-120 ms per answer) with W tracked wallets; the
pipeline's `sync_positions` snapshots every whale once (all due: none was snapshotted before),
through the pipeline's client and its limiter at 14.4 req/s. The floor is the requests the
snapshot needs (one per page of 20 positions, counted by the simulator) at 15 req/s; the
figure is wall time over that floor. Repeated runs take a new snapshot time each, so each
snapshots every whale again.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks import common
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession

SEED = 7
MARKETS = 200


def _run(sim: Any, path: Path, tmp: Path, index: int, workers: int) -> dict[str, Any]:
    from opinion_pipeline.defs.whale_positions.sync import PositionSyncOptions, sync_positions

    time.sleep(1.2)  # let the simulator's bucket refill after the previous run
    sim.reset_counters()
    api = common.client(sim.base_url, tmp / "limiter")
    now = datetime.fromtimestamp(common.FROZEN_START, timezone.utc) + timedelta(hours=2 * index)
    started = time.perf_counter()
    report = sync_positions(
        api, common.warehouse(path), PositionSyncOptions(workers=workers), now=now
    )
    wall = time.perf_counter() - started
    api.close()
    counts = common.sim_totals(sim)
    floor = counts["requests"] / common.API_LIMIT
    return {
        "wall_s": round(wall, 3),
        "requests": counts["requests"],
        "http_429": counts["rate_limited"],
        "floor_s": round(floor, 3),
        "wall_over_floor": round(wall / floor, 3) if floor else None,
        "whales_snapshotted": int(report.extra["whales_snapshotted"]),
        "position_rows": report.new_rows,
        "failed": len(report.failed_wallets),
    }


def measure(whales: int, repeat: int, workers: int) -> dict[str, Any]:
    from opinion_pipeline.defs.whale_registry.store import sync_registry

    world = {
        "seed": SEED,
        "markets": MARKETS,
        "wallets": whales,
        "history_days": 3,
        "clock_speed": 0.0,
        "start_time": common.FROZEN_START,
        "world_start": common.FROZEN_START,
    }
    with (
        common.workdir("positions") as tmp,
        common.simulator(**world, faults=dict(common.LATENCY)) as sim,
    ):
        path = tmp / "warehouse.duckdb"
        tracked = common.sim_whales(sim)
        with common.warehouse(path).transaction() as conn:
            sync_registry(DuckDBSession(conn), tracked)
        runs = common.repeated(
            repeat, "snapshot", lambda index: _run(sim, path, tmp, index, workers)
        )
    return {
        "whales": whales,
        "workers": workers,
        "runs": runs,
        "requests": runs[0]["requests"],
        "wall_s": common.spread([run["wall_s"] for run in runs]),
        "wall_over_floor": common.spread([run["wall_over_floor"] or 0 for run in runs]),
        "http_429_max": max(run["http_429"] for run in runs),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--whales", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)
    if args.quick:
        args.whales, args.repeat = 10, 1
    figures = {"machine": common.machine(), **measure(args.whales, args.repeat, args.workers)}
    common.say(
        f"positions snapshot of {args.whales} whales: {figures['requests']} requests, "
        f"{figures['wall_s']} s, wall / floor {figures['wall_over_floor']}"
    )
    common.emit("positions_snapshot", figures)
    return figures


if __name__ == "__main__":
    main()
