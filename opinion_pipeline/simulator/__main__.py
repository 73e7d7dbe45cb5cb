"""Command line: ``python -m opinion_pipeline.simulator --port PORT --api-key KEY [...]``.

Prints exactly one line on stdout once it listens (``Opinion API simulator serving
http://HOST:PORT/openapi``), then serves until SIGTERM or SIGINT. The key may come from
OPINION_SIMULATOR_API_KEY instead of argv, which keeps it out of ``ps``; it is never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from opinion_pipeline.simulator.activity import ACTIVITIES
from opinion_pipeline.simulator.clock import SimClock
from opinion_pipeline.simulator.counters import Counters
from opinion_pipeline.simulator.faults import Faults, FaultSettings, FaultSettingsError
from opinion_pipeline.simulator.limits import RateLimiter
from opinion_pipeline.simulator.server import SimulatorServer
from opinion_pipeline.simulator.simulation import Simulation
from opinion_pipeline.simulator.util import API_KEY_ENV
from opinion_pipeline.simulator.wallets import build_wallets, whales_csv
from opinion_pipeline.simulator.world import World


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m opinion_pipeline.simulator",
        description="Serve a deterministic simulation of the Opinion OpenAPI over HTTP.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="interface to bind (default: loopback only)")
    add("--port", type=int, default=0, help="port to listen on; 0 picks a free one")
    add("--api-key", help=f"the accepted apikey (or set {API_KEY_ENV}, which hides it from ps)")
    add("--seed", type=int, default=42, help="world seed (default 42)")
    add("--markets", type=int, default=60, help="top-level markets (default 60)")
    add("--wallets", type=int, default=30, help="simulated wallets (default 30)")
    add(
        "--traders",
        type=int,
        default=2000,
        help="ordinary untracked traders (default 2000) the leaderboard and holders rank",
    )
    add("--history-days", type=float, default=14.0, help="trade history of active wallets")
    add(
        "--activity",
        choices=ACTIVITIES,
        default="profiles",
        help="trade arrivals: the three fixed profiles (default) or heavy-tailed rates with "
        "bursts and silences (simulator/activity.py)",
    )
    add("--clock-speed", type=float, default=1.0, help="simulated s per real s; 0 freezes time")
    add("--start-time", type=int, help="simulated start, epoch seconds (default: now)")
    add(
        "--world-start",
        type=int,
        help="epoch seconds the world is generated around (default: --start-time); keep it "
        "fixed across restarts so the same trades come back with the same timestamps",
    )
    add("--rate-limit", type=float, default=15.0, help="requests/s per key; 0 disables")
    add(
        "--rate-limit-clock",
        choices=("real", "simulated"),
        default="real",
        help="the clock the rate limit refills on: real seconds (default) or simulated ones "
        "(benchmarks that run the clock fast, limits.py)",
    )
    add("--faults", default="", help="initial faults as JSON, e.g. '{\"error_rate\": 0.1}'")
    add("--print-whales-csv", action="store_true", help="print the wallets as a whales CSV")
    add("--quiet", action="store_true", help="no notes on stderr")
    return parser


def _initial_faults(parser: argparse.ArgumentParser, raw: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        faults = json.loads(raw)
        FaultSettings().with_update(faults)
    except (json.JSONDecodeError, FaultSettingsError) as error:
        parser.error(f"--faults: {error}")
    return faults


def _check_counts(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.markets < 1 or args.wallets < 0 or args.history_days < 0 or args.traders < 0:
        parser.error("--markets must be >= 1, --wallets, --traders and --history-days >= 0")
    if args.clock_speed < 0 or args.rate_limit < 0:
        parser.error("--clock-speed and --rate-limit must be >= 0")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_counts(parser, args)
    if args.print_whales_csv:
        sys.stdout.write(whales_csv(build_wallets(args.seed, args.wallets), seed=args.seed))
        return 0
    api_key = args.api_key or os.environ.get(API_KEY_ENV, "")
    if not api_key:
        parser.error(f"an API key is required: --api-key or {API_KEY_ENV}")
    faults = _initial_faults(parser, args.faults)
    start = args.start_time if args.start_time is not None else int(time.time())
    clock = SimClock(start, args.clock_speed)
    world = World(
        seed=args.seed,
        markets=args.markets,
        wallets=args.wallets,
        traders=args.traders,
        history_days=args.history_days,
        activity=args.activity,
        start=args.world_start if args.world_start is not None else start,
        clock=clock,
    )
    simulation = Simulation(
        world=world,
        api_key=api_key,
        limiter=RateLimiter(
            args.rate_limit,
            clock=clock.seconds if args.rate_limit_clock == "simulated" else time.monotonic,
        ),
        faults=Faults(args.seed, faults),
        counters=Counters(),
        quiet=args.quiet,
    )
    server = SimulatorServer(args.host, args.port, simulation)
    host = f"[{args.host}]" if ":" in args.host else args.host
    port = server.server_address[1]

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"Opinion API simulator serving http://{host}:{port}/openapi", flush=True)
    simulation.note(
        f"seed={args.seed} markets={len(world.markets)} wallets={len(world.wallets)} "
        f"traders={len(world.traders)} "
        f"start={start} speed={args.clock_speed} "
        f"rate_limit={args.rate_limit}/s ({args.rate_limit_clock} clock) faults={faults}"
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    simulation.note("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
