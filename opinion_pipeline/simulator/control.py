"""The /_sim control routes: ground truth, counters, faults and the clock, for tests.

No API key is needed and no fault applies here, so a test can always read the truth it compares
the pipeline's warehouse with, whatever state it has put the API in.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from opinion_pipeline.simulator.faults import FaultSettingsError
from opinion_pipeline.simulator.holders import truth_holders
from opinion_pipeline.simulator.leaderboard import truth_leaderboard
from opinion_pipeline.simulator.truth_pnl import pnl_truth

if TYPE_CHECKING:
    from opinion_pipeline.simulator.simulation import Simulation

Reply = tuple[int, Any]


def _bad(message: str) -> Reply:
    return 400, {"error": message}


def _json_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    value = json.loads(body)
    if not isinstance(value, dict):
        raise ValueError("the body must be a JSON object")
    return value


def _info(sim: Simulation) -> dict[str, Any]:
    world = sim.world
    return {
        "seed": world.seed,
        "start_time": world.start,
        "markets": len(world.markets),
        "wallets": len(world.wallets),
        "traders": len(world.traders),
        "history_days": world.history_days,
        "rate_limit": sim.limiter.rate,
        "clock": world.clock.snapshot(),
    }


def _clock(sim: Simulation, update: dict[str, Any]) -> Reply:
    unknown = sorted(set(update) - {"advance_seconds", "speed"})
    if unknown:
        return _bad(f"unknown clock field {unknown[0]!r}")
    clock = sim.world.clock
    for name in ("advance_seconds", "speed"):
        value = update.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            return _bad(f"{name} must be a number >= 0")
    if "speed" in update:
        clock.set_speed(update["speed"])
    if update.get("advance_seconds"):
        clock.advance(update["advance_seconds"])
    sim.note(f"clock now {clock.snapshot()}")
    return 200, clock.snapshot()


def _faults(sim: Simulation, update: dict[str, Any]) -> Reply:
    try:
        settings = sim.faults.update(update)
    except FaultSettingsError as error:
        return _bad(str(error))
    sim.note(f"faults now {settings}")
    return 200, settings


def handle_control(
    sim: Simulation, method: str, path: str, query: dict[str, list[str]], body: bytes
) -> Reply:
    """Answer one /_sim request: (HTTP status, JSON payload)."""
    route = path.rstrip("/")
    world = sim.world
    if method == "GET":
        now = world.now()
        if route == "/_sim":
            return 200, _info(sim)
        if route == "/_sim/truth/markets":
            return 200, {"now": now, "markets": world.truth_markets(now)}
        if route == "/_sim/truth/leaderboard":
            return 200, truth_leaderboard(world, now, query)
        if route == "/_sim/truth/holders":
            return 200, truth_holders(world, now, query)
        if route == "/_sim/traders":
            rows = [
                {"address": w.address, "label": w.label, "profile": w.profile}
                for w in world.traders
            ]
            return 200, {"traders": rows}
        if route == "/_sim/truth/trades":
            raw = (query.get("wallet") or [""])[0]
            wallet = world.wallet(raw) if raw else None
            if raw and wallet is None:
                return 200, {"now": now, "trades": []}
            since = (query.get("since") or [""])[0]
            if since and not since.isdigit():
                return _bad("since must be epoch seconds")
            trades = world.truth_trades(now, wallet, int(since) if since else None)
            return 200, {"now": now, "trades": trades}
        if route == "/_sim/truth/pnl":
            raw = (query.get("wallet") or [""])[0]
            wallet = world.wallet(raw) if raw else None
            if raw and wallet is None:
                return 200, {"now": now, "wallets": []}
            return 200, pnl_truth(world, now, wallet)
        if route == "/_sim/wallets":
            wallets = [
                {"address": w.address, "label": w.label, "profile": w.profile}
                for w in world.wallets
            ]
            return 200, {"wallets": wallets}
        if route == "/_sim/counters":
            return 200, sim.counters.snapshot()
        if route == "/_sim/faults":
            return 200, sim.faults.get()
        if route == "/_sim/clock":
            return 200, world.clock.snapshot()
    elif method == "POST":
        try:
            update = _json_body(body)
        except ValueError as error:
            return _bad(f"invalid JSON body: {error}")
        if route == "/_sim/counters/reset":
            sim.counters.reset()
            return 200, sim.counters.snapshot()
        if route == "/_sim/faults":
            return _faults(sim, update)
        if route == "/_sim/clock":
            return _clock(sim, update)
    return 404, {"error": f"no control route {method} {route}"}
