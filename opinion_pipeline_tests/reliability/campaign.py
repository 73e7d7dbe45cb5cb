"""The fault campaign: many sync cycles per fault mode, new trades arriving between cycles.

Per mode: a fresh simulator and warehouse, faults on for the whole run, 20 cycles (registry
reload, whale sync, and every 2nd cycle, the last included, a market sweep) with simulated time
moving 30 minutes between cycles. A cycle may fail after its retries (the job would be a failed
run); a later one must recover. After the last cycle (plus, if it failed, cycles without new
time until one succeeds) the warehouse must equal the simulator's ground truth, apart from
fills quarantined with a reason. Unexpected errors (DuckDB, bugs) are not caught: they fail
the test.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opinion_pipeline.defs.markets.sync import sync_markets
from opinion_pipeline.defs.whale_registry.sync import sync_whale_registry, tracked_whales
from opinion_pipeline.defs.whale_trades.sync import WhaleSyncOptions, sync_whale_trades
from opinion_pipeline.opinion_api import OpinionAPI, OpinionAPIError
from opinion_pipeline.simulator.faults import ENVELOPES
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline.validation import PayloadUnusableError
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline_tests.conftest import write_whales_file
from opinion_pipeline_tests.reliability.helpers import (
    FAST_WORLD,
    compare_markets,
    compare_trades,
    exact_usd_values,
    fast_client,
)

CYCLES = 20
ADVANCE_S = 1800  # heavy wallets trade ~4 times an hour: ~2 new fills each per cycle
SWEEP_EVERY = 2  # market sweeps: every 5th whale sync in production, every 2nd here
MAX_SETTLE = 10
EXPECTED_ERRORS = (OpinionAPIError, PayloadUnusableError)
FAULT_COUNTERS = (
    "server_errors", "rate_limited", "dropped", "truncated", "malformed_rows", "errno_errors",
)  # fmt: skip


@dataclass(frozen=True)
class Mode:
    name: str
    faults: dict[str, Any]
    evidence: str  # the counter (simulator's, or the client's "timeouts") that must be > 0
    per_cycle: Callable[[random.Random], dict[str, Any]] | None = None
    client: dict[str, Any] = field(default_factory=dict)
    quarantine_expected: bool = False


MODES = [
    Mode("5xx_20pct", {"error_rate": 0.2}, "server_errors"),
    Mode(
        "429_storms",
        {},
        "rate_limited",
        per_cycle=lambda rng: {"burst_429": rng.choice((0, 2, 3, 4, 6))},
    ),
    Mode(
        "latency_beyond_read_timeout",
        {"latency_ms": 0, "latency_jitter_ms": 200},
        "timeouts",
        client={"read_timeout_s": 0.16},
    ),
    Mode("dropped_connections", {"drop_rate": 0.15}, "dropped"),
    Mode("truncated_bodies", {"truncate_rate": 0.15}, "truncated"),
    Mode("malformed_rows", {"malformed_rate": 0.08}, "malformed_rows", quarantine_expected=True),
    Mode(
        "envelope_switching",
        {"envelope": "alternate", "errno_rate": 0.1},
        "errno_errors",
        per_cycle=lambda rng: {"envelope": rng.choice(ENVELOPES)},
    ),
    Mode(
        "venue_quirks",  # Buy/Sell casing, usdAmount x 10^18, list: null
        {"side_case": "mixed", "usd_amount_scaled": True, "null_empty_list": True},
        "ok",
    ),
]


@dataclass
class Campaign:
    cycles: int = 0
    sweeps: int = 0
    settle_cycles: int = 0
    failed_cycles: int = 0
    cycles_with_new_trades: int = 0
    failures: Counter[str] = field(default_factory=Counter)


def _cycle(
    client: OpinionAPI, warehouse: DuckDBWarehouse, whales_file: Path, run: Campaign, sweep: bool
) -> bool:
    """One schedule cycle (whale sync, maybe a market sweep); True when all of it succeeded."""
    ok = True
    sync_whale_registry(warehouse, whales_file)
    try:
        report = sync_whale_trades(
            client,
            warehouse,
            tracked_whales(warehouse),
            WhaleSyncOptions(workers=4),
            run_id=f"whales-{run.cycles}",
        )
    except EXPECTED_ERRORS as error:
        ok = False
        run.failures[f"whales: {type(error).__name__}"] += 1
    else:
        run.cycles_with_new_trades += report.new_rows > 0
        if report.failed_wallets:
            ok = False
            for reason in report.failed_wallets.values():
                run.failures[f"wallet: {reason.split(':')[0]}"] += 1
    if sweep:
        try:
            sync_markets(client, warehouse, run_id=f"markets-{run.cycles}")
        except EXPECTED_ERRORS as error:
            ok = False
            run.failures[f"markets: {type(error).__name__}"] += 1
        run.sweeps += 1
    run.cycles += 1
    run.failed_cycles += not ok
    return ok


def run_campaign(
    mode: Mode, sim: SimulatorProcess, client: OpinionAPI, warehouse: DuckDBWarehouse, whales: Path
) -> Campaign:
    rng = random.Random(mode.name)
    sim.reset_counters()
    sim.set_faults(**mode.faults)
    run = Campaign()
    ok = False
    for cycle in range(CYCLES):
        if cycle:
            sim.advance(ADVANCE_S)
        if mode.per_cycle:
            sim.set_faults(**mode.per_cycle(rng))
        ok = _cycle(client, warehouse, whales, run, sweep=(CYCLES - 1 - cycle) % SWEEP_EVERY == 0)
    while not ok and run.settle_cycles < MAX_SETTLE:  # recover what the last cycle missed
        run.settle_cycles += 1
        if mode.per_cycle:
            sim.set_faults(**mode.per_cycle(rng))
        ok = _cycle(client, warehouse, whales, run, sweep=True)
    assert ok, f"no cycle recovered within {MAX_SETTLE} extra cycles: {dict(run.failures)}"
    return run


@dataclass
class Outcome:
    run: Campaign
    injected: dict[str, int]
    client_stats: dict[str, float]
    trades: dict[str, Any]
    markets: dict[str, Any]
    inexact_usd: int
    quarantine: dict[str, int]
    seconds: float


def quarantine_split(conn: Any) -> dict[str, int]:
    """Quarantine rows of trades, split into resolved (stored correctly later) and unresolved."""
    resolved, unresolved = conn.execute(
        "SELECT count(*) FILTER (WHERE resolved_at IS NOT NULL),"
        " count(*) FILTER (WHERE resolved_at IS NULL) FROM quarantine WHERE entity = 'trade'"
    ).fetchone()
    return {"resolved": int(resolved), "unresolved": int(unresolved)}


def campaign_in_own_world(mode_name: str, api_key: str, directory: Path) -> Outcome:
    """A whole campaign with a simulator, warehouse and limiter of its own (picklable result)."""
    mode = MODES_BY_NAME[mode_name]
    started = time.monotonic()
    with SimulatorProcess(api_key, **FAST_WORLD) as sim:
        whales = write_whales_file(directory / "whales.csv", sim.wallets())
        client = fast_client(sim, api_key, directory / "limiter", **mode.client)
        warehouse = DuckDBWarehouse(path=str(directory / "warehouse.duckdb"))
        run = run_campaign(mode, sim, client, warehouse, whales)
        with warehouse.connection(read_only=True) as conn:
            return Outcome(
                run=run,
                injected=sim.counters()["total"],
                client_stats=client.stats(),
                trades=compare_trades(sim, conn),
                markets=compare_markets(sim, conn),
                inexact_usd=exact_usd_values(conn),
                quarantine=quarantine_split(conn),
                seconds=round(time.monotonic() - started, 1),
            )


MODES_BY_NAME = {mode.name: mode for mode in MODES}
