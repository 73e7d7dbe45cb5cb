"""The fault campaign: many sync cycles per fault mode, new trades arriving between cycles.

Per mode: a fresh simulator and warehouse, faults on for the whole run, 20 cycles (registry
reload, whale sync, and every 2nd cycle, the last included, a market sweep) with simulated time
moving 30 minutes between cycles. A cycle may fail after its retries (the job would be a failed
run); a later one must recover. Before cycle ``PLANT_AT`` the oldest trades of the busiest
wallets proven complete are deleted behind the pipeline's back (a planted gap): the first poll
that accounts for such a wallet must show the gap (``trades_complete`` WARN) and a repair must
close it within ``REPAIR_RUNS`` runs. After the last cycle (plus, if it failed or the ledger
still shows a gap, cycles without new time, faults still on, until one succeeds with every
wallet proven) the warehouse must equal the simulator's ground truth, apart from fills
quarantined with a reason, and every wallet must be proven complete (completeness.py checks
the proof against the truth). Unexpected errors (DuckDB, bugs) are not caught: they fail the test.
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
from opinion_pipeline.defs.whale_trades.checks import trades_complete_check
from opinion_pipeline.defs.whale_trades.coverage import CoverageSummary
from opinion_pipeline.defs.whale_trades.sync import WhaleSyncOptions, sync_whale_trades
from opinion_pipeline.opinion_api import OpinionAPI, OpinionAPIError
from opinion_pipeline.simulator.faults import ENVELOPES
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline.validation import PayloadUnusableError
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline_tests.conftest import write_whales_file
from opinion_pipeline_tests.reliability.completeness import Proof, ledger_gaps, plant_gap, prove
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
PLANT_AT = 10  # the cycle before which the gap is planted
PLANTED_WALLETS, PLANTED_ROWS = 2, 3  # the busiest complete wallets lose 3 oldest trades
REPAIR_RUNS = 4  # runs after detection within which the repair must have closed the gap
OPTIONS = WhaleSyncOptions(workers=4)
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
    coverage: CoverageSummary | None = None  # the ledger after the last whale sync that ran
    ledger: Counter[str] = field(default_factory=Counter)  # gaps_found, repairs_closed, ...
    planted: PlantedGap | None = None
    before_plant: dict[str, int] = field(default_factory=dict)  # the ledger mid-campaign

    @property
    def proven_complete(self) -> bool:
        cov = self.coverage
        return cov is not None and cov.with_gap == 0 and cov.complete == cov.wallets


@dataclass
class PlantedGap:
    """A gap planted before cycle PLANT_AT, and when the ledger saw it and a repair closed it."""

    deleted: dict[str, int]
    at: float  # Unix seconds
    detected_after: dict[str, int] = field(default_factory=dict)  # wallet -> runs after planting
    gap_seen: dict[str, int] = field(default_factory=dict)
    check_at_detection: list[str] = field(default_factory=list)  # trades_complete results
    repaired_after: dict[str, int] = field(default_factory=dict)  # wallet -> runs after detection
    outcomes: dict[str, str] = field(default_factory=dict)

    def follow(
        self, warehouse: DuckDBWarehouse, coverage: CoverageSummary | None, runs: int
    ) -> None:
        """After run ``runs`` (1 = the first after planting): what the ledger shows now."""
        with warehouse.connection(read_only=True) as conn:
            rows = ledger_gaps(conn, sorted(self.deleted))
        for wallet, (gap, checked_at, _repairs, outcome) in rows.items():
            if wallet not in self.detected_after and checked_at >= self.at:
                self.detected_after[wallet] = runs
                self.gap_seen[wallet] = int(gap)
                check = trades_complete_check(
                    "whale_trades", coverage, max_repairs=OPTIONS.max_repairs
                )
                self.check_at_detection.append(
                    "passed" if check.passed else f"failed {check.severity.value}"
                )
            elif wallet in self.detected_after and wallet not in self.repaired_after and gap == 0:
                self.repaired_after[wallet] = runs - self.detected_after[wallet]
                self.outcomes[wallet] = outcome or ""


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
            OPTIONS,
            run_id=f"whales-{run.cycles}",
        )
    except EXPECTED_ERRORS as error:
        ok = False
        run.failures[f"whales: {type(error).__name__}"] += 1
    else:
        run.coverage = report.coverage
        run.ledger.update(
            {name: int(report.extra[name]) for name in ("gaps_found", "repairs_closed")}
        )
        run.ledger.update({"repairs_persisting": int(report.extra["repairs_persisting"])})
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
        if cycle == PLANT_AT:
            with warehouse.connection() as conn:
                (unresolved,) = conn.execute(
                    "SELECT count(*) FROM quarantine WHERE entity = 'trade' AND resolved_at IS NULL"
                ).fetchone()
                run.before_plant = {
                    "quarantine_unresolved": int(unresolved),
                    "wallets_proven": run.coverage.complete if run.coverage else 0,
                }
                deleted = plant_gap(conn, PLANTED_WALLETS, PLANTED_ROWS)
            run.planted = PlantedGap(deleted=deleted, at=time.time())
        ok = _cycle(client, warehouse, whales, run, sweep=(CYCLES - 1 - cycle) % SWEEP_EVERY == 0)
        if run.planted:
            run.planted.follow(warehouse, run.coverage, cycle - PLANT_AT + 1)
    # Recover what the last cycle missed, and let the repairs close what the ledger still shows.
    while not (ok and run.proven_complete) and run.settle_cycles < MAX_SETTLE:
        run.settle_cycles += 1
        if mode.per_cycle:
            sim.set_faults(**mode.per_cycle(rng))
        ok = _cycle(client, warehouse, whales, run, sweep=True)
        if run.planted:
            run.planted.follow(warehouse, run.coverage, CYCLES - PLANT_AT + run.settle_cycles)
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
    proof: Proof
    final_check: str  # trades_complete after the last run: passed, or failed and its severity
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
                proof=prove(sim, conn),
                final_check=_check_text(run.coverage),
                seconds=round(time.monotonic() - started, 1),
            )


def _check_text(coverage: CoverageSummary | None) -> str:
    check = trades_complete_check("whale_trades", coverage, max_repairs=OPTIONS.max_repairs)
    return "passed" if check.passed else f"failed {check.severity.value}: {check.description}"


MODES_BY_NAME = {mode.name: mode for mode in MODES}
