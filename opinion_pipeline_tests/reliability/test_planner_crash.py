"""The polling planner's state survives SIGKILL: a restart never forgets a whale (issue #15).

A universe of 40 whales against a budget of 12 requests a run (the planner must choose), and
a floor of 5 minutes. Whale syncs are SIGKILLed at random points (crash.py: fetching,
planning, writing, committing). After every kill, from the warehouse as the next run opens it:
every registry whale is still tracked, has its history and its last poll, and has a polling
row due within the floor; the planner, run forward from that state, polls every whale within
the floor and its first run polls about as many whales as a normal run (not the universe).
Then a real restart is run and its report compared with a normal run's.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from dataclasses import replace
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

import pytest

from opinion_pipeline.defs.whale_registry.sync import tracked_whales
from opinion_pipeline.defs.whale_trades.planner import PollBudget, plan_polls, whale_states
from opinion_pipeline.defs.whale_trades.store import wallet_watermarks
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline_tests.conftest import write_whales_file
from opinion_pipeline_tests.reliability.crash import KillLog, kill_round, run_to_end
from opinion_pipeline_tests.reliability.figures import record
from opinion_pipeline_tests.reliability.helpers import FAST_CLIENT, FAST_WORLD

WALLETS = 40
KILLS = 12
FLOOR_MINUTES = 5
# 0.5 req/s x 24 s = 12 requests a run; nothing reserved; repairs 3 requests at most.
OPTIONS: dict[str, Any] = {
    "key_rate_per_second": 0.5,
    "poll_seconds": 24.0,
    "reserved_per_minute": 0,
    "max_poll_interval_minutes": FLOOR_MINUTES,
}
BUDGET = PollBudget(rate_per_second=0.5, poll_seconds=24.0, reserved_per_minute=0).requests
RUN_S = 60.0
SIMULATED_RUNS = 3 * FLOOR_MINUTES  # three floors' worth of one-minute runs


def _planner_after_kill(warehouse: DuckDBWarehouse, registry: set[str]) -> dict[str, float]:
    """The planner's state as the next run sees it, and that run and later ones, simulated."""
    now = time.time()
    floor_s = FLOOR_MINUTES * 60.0
    tracked = {whale.address for whale in tracked_whales(warehouse)}  # as the next run opens it
    assert tracked == registry, f"whales forgotten: {sorted(registry - tracked)}"
    with warehouse.session() as session:
        stored = set(wallet_watermarks(session))
        states = whale_states(session, sorted(registry), now=now, stored=stored)
        polling = dict(
            session.query(
                "SELECT wallet, epoch(next_due_at) - epoch(planned_at) FROM whale_polling"
            )
        )
    assert all(not state.new for state in states), "a whale's history was forgotten"
    assert all(state.last_polled is not None for state in states), "a last poll was forgotten"
    assert set(polling) == registry, f"no polling row: {sorted(registry - set(polling))}"
    assert max(polling.values()) <= floor_s, "a whale planned beyond the floor"
    last = {state.address: float(state.last_polled) for state in states}  # type: ignore[arg-type]
    worst, first_run = 0.0, 0
    for run in range(SIMULATED_RUNS):
        at = now + run * RUN_S
        current = [replace(state, last_polled=last[state.address]) for state in states]
        plan = plan_polls(current, now=at, budget=BUDGET, max_interval_s=floor_s)
        first_run = first_run or len(plan.polled)
        for wallet in plan.polled:
            worst = max(worst, at - last[wallet])
            last[wallet] = at
    end = now + (SIMULATED_RUNS - 1) * RUN_S
    worst = max(worst, *(end - polled for polled in last.values()))
    return {"first_run_polls": first_run, "worst_staleness_s": worst}


def _phase(warehouse: DuckDBWarehouse, since: float, planned: int) -> str:
    """Where a kill landed, by the polls committed: none, some of the run's, or all."""
    with warehouse.connection(read_only=True) as conn:
        (polled,) = conn.execute(
            "SELECT count(*) FROM whales WHERE epoch(last_polled_at) >= ?", [since]
        ).fetchone()
    if polled == 0:
        return "none (planning, fetching, first write)"
    return "all (after the last write)" if polled >= planned else "some (between writes)"


def _report(path: Path) -> dict[str, float]:
    return json.loads(path.read_text())


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_planner_state_survives_sigkill_and_a_restart_polls_a_normal_run(
    forkserver: BaseContext, api_key: str, tmp_path: Path
) -> None:
    with SimulatorProcess(api_key, **{**FAST_WORLD, "wallets": WALLETS}) as sim:
        sim.set_faults(latency_ms=10, latency_jitter_ms=30)
        whales = write_whales_file(tmp_path / "whales.csv", sim.wallets())
        registry = {wallet["address"].lower() for wallet in sim.wallets()}
        warehouse = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
        params: dict[str, Any] = {
            "client": {
                "base_url": sim.base_url,
                "api_key": api_key,
                "limiter_dir": str(tmp_path / "limiter"),
                **FAST_CLIENT,
                "max_retries": 3,
            },
            "warehouse": warehouse.path,
            "whales_file": str(whales),
        }
        run_to_end(forkserver, "whale_sync", {**params, "run_id": "backfill"})
        planned = {**params, "options": OPTIONS}
        normal_path = tmp_path / "normal.json"
        started = time.monotonic()
        run_to_end(
            forkserver,
            "whale_sync",
            {**planned, "run_id": "normal", "report_path": str(normal_path)},
        )
        normal = _report(normal_path)
        rng = random.Random(14)
        log = KillLog(last_duration=time.monotonic() - started)  # aim the kills at the run
        first_runs, worst = [], 0.0
        phases: Counter[str] = Counter()
        for number in range(KILLS):
            planned["run_id"] = f"kill-{number}"
            planned["flush_every_wallets"] = rng.choice((1, 2, 100))
            before = time.time()
            kill_round(forkserver, "whale_sync", planned, log, rng, default=0.6)
            phases[_phase(warehouse, before, int(normal["whales_polled"]))] += 1
            view = _planner_after_kill(warehouse, registry)
            first_runs.append(int(view["first_run_polls"]))
            worst = max(worst, view["worst_staleness_s"])
            if rng.random() < 0.5:
                sim.advance(600)  # new trades: the kills land in writes too
        restart_path = tmp_path / "restart.json"
        run_to_end(
            forkserver,
            "whale_sync",
            {**planned, "run_id": "restart", "report_path": str(restart_path)},
        )
        restart = _report(restart_path)
    record(
        "crash/planner_state",
        whales=WALLETS,
        budget_requests_per_run=BUDGET,
        floor_minutes=FLOOR_MINUTES,
        kills_landed_mid_run=log.landed,
        runs_finished_before_kill=log.finished_first,
        normal_run_whales_polled=normal["whales_polled"],
        restart_whales_polled=restart["whales_polled"],
        kills_by_whales_committed=dict(phases),
        first_planned_run_after_kill_polls=[min(first_runs), max(first_runs)],
        worst_staleness_simulated_minutes=round(worst / 60.0, 2),
    )
    assert log.landed >= KILLS // 2, "most kills must land while the sync runs"
    assert worst <= FLOOR_MINUTES * 60.0, "a whale went unpolled beyond the floor"
    assert normal["whales_polled"] <= BUDGET < WALLETS
    tolerance = max(2, math.ceil(0.25 * normal["whales_polled"]))
    for polled in (*first_runs, restart["whales_polled"]):
        assert abs(polled - normal["whales_polled"]) <= tolerance, (first_runs, restart)
    assert restart["whales_failed"] == 0
