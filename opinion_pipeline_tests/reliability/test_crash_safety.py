"""Crash safety: SIGKILL a whale sync, a market sweep and a retention run at random points.

Each task runs in its own process against a shared DuckDB file (and the simulator, slowed with
latency so kills land mid-sync). After every kill the warehouse must open and be consistent;
after a normal rerun it must equal the truth: no trade lost or duplicated, no row deleted
without being archived, no row archived twice; after the whale sync's rerun every wallet is
proven complete by the coverage ledger, and the proof holds against the truth. (After a kill
the file is opened as the next run opens it: a kill during the very first run can leave the
schema half created, which that open completes.)
"""

from __future__ import annotations

import random
import time
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

import pytest

from opinion_pipeline.defs.whale_trades.store import insert_trades
from opinion_pipeline.defs.whale_trades.validate import prepare_trades
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline_tests.factories import trade_row, wallet
from opinion_pipeline_tests.reliability.completeness import prove
from opinion_pipeline_tests.reliability.crash import (
    KillLog,
    archive_state,
    archive_violations,
    kill_round,
    run_to_end,
)
from opinion_pipeline_tests.reliability.figures import record
from opinion_pipeline_tests.reliability.helpers import (
    FAST_CLIENT,
    FAST_WORLD,
    compare_markets,
    compare_trades,
)

WHALE_KILLS = 25
MARKET_KILLS = 15
RETENTION_KILLS = 20
DAY = 86_400


def _client_params(sim: SimulatorProcess, api_key: str, limiter_dir: Path) -> dict[str, Any]:
    return {
        "base_url": sim.base_url,
        "api_key": api_key,
        "limiter_dir": str(limiter_dir),
        **FAST_CLIENT,
        "max_retries": 3,
    }


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_whale_sync_killed_anywhere_loses_and_duplicates_nothing(
    forkserver: BaseContext, fast_sim: SimulatorProcess, api_key: str, whales_file: Path, tmp_path
) -> None:
    fast_sim.set_faults(latency_ms=10, latency_jitter_ms=30)
    warehouse = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
    params: dict[str, Any] = {
        "client": _client_params(fast_sim, api_key, tmp_path / "limiter"),
        "warehouse": warehouse.path,
        "whales_file": str(whales_file),
    }
    rng = random.Random(11)
    log = KillLog()
    for number in range(WHALE_KILLS):
        params["run_id"] = f"kill-{number}"
        params["flush_every_wallets"] = rng.choice((1, 2, 100))  # many commits, or one
        kill_round(forkserver, "whale_sync", params, log, rng, default=2.0)
        with warehouse.connection() as conn:  # as the next run opens it
            after_kill = compare_trades(fast_sim, conn)
        assert not after_kill["extra"], f"kill {number}: duplicated or invented fills"
        if rng.random() < 0.6:
            fast_sim.advance(1800)  # new trades arrive between runs
    run_to_end(forkserver, "whale_sync", {**params, "run_id": "rerun"})
    with warehouse.connection(read_only=True) as conn:
        final = compare_trades(fast_sim, conn)
        proof = prove(fast_sim, conn)
    record(
        "crash/whale_sync",
        kills_landed_mid_run=log.landed,
        runs_finished_before_kill=log.finished_first,
        fills_in_truth=final["truth"],
        fills_stored=final["stored"],
        rows_lost=final["missing"],
        rows_duplicated=sum(final["extra"].values()),
        wallets=proof.wallets,
        wallets_proven=proof.proven,
        wallets_proven_pct=round(100 * proof.share, 1),
    )
    assert log.landed >= WHALE_KILLS // 2, "most kills must land while the sync runs"
    assert not final["extra"] and final["missing"] == 0 and final["quarantined"] == 0
    assert proof.wallets == 8 and proof.proven == proof.wallets, proof.not_proven
    assert final["truth"] > 300


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_market_sweep_killed_anywhere_converges(
    forkserver: BaseContext, api_key: str, tmp_path
) -> None:
    with SimulatorProcess(api_key, **{**FAST_WORLD, "markets": 150}) as sim:
        sim.set_faults(latency_ms=30, latency_jitter_ms=40)
        warehouse = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
        params: dict[str, Any] = {
            "client": _client_params(sim, api_key, tmp_path / "limiter"),
            "warehouse": warehouse.path,
        }
        rng = random.Random(12)
        log = KillLog()
        for number in range(MARKET_KILLS):
            params["run_id"] = f"kill-{number}"
            kill_round(forkserver, "market_sweep", params, log, rng, default=1.5)
            with warehouse.connection() as conn:  # as the next run opens it
                state = compare_markets(sim, conn)
            assert not state["extra"], f"kill {number}: markets that do not exist"
            sim.advance(rng.choice((0, 6 * 3600, 2 * DAY)))  # statuses and volumes change
        run_to_end(forkserver, "market_sweep", {**params, "run_id": "rerun"})
        with warehouse.connection(read_only=True) as conn:
            final = compare_markets(sim, conn)
    record(
        "crash/market_sweep",
        kills_landed_mid_run=log.landed,
        runs_finished_before_kill=log.finished_first,
        markets_in_truth=final["truth"],
        markets_wrong_after_rerun=final["wrong"],
    )
    assert log.landed >= MARKET_KILLS // 2, "most kills must land while the sweep runs"
    assert final["wrong"] == 0 and not final["extra"] and final["stored"] == final["truth"]


def _insert_trades(
    warehouse: DuckDBWarehouse, ages_days: list[float], ever: dict[str, set[str]]
) -> None:
    """Trades (and, alert threshold 0, activity rows) of the given ages, spread over wallets."""
    now = int(time.time())
    with warehouse.transaction() as conn:
        for owner in range(1, 4):
            rows = [
                trade_row(createdAt=int(now - age * DAY), amount="500")
                for age in ages_days[owner - 1 :: 3]
            ]
            batch = prepare_trades(wallet(owner), rows)
            insert_trades(DuckDBSession(conn), batch.rows, run_id="seed", alert_usd=0)
            keys = set(batch.rows["trade_key"])
            ever["trades"] |= keys
            ever["whale_activity"] |= keys


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_retention_killed_anywhere_never_loses_or_doubles_an_archived_row(
    forkserver: BaseContext, tmp_path: Path
) -> None:
    warehouse = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
    archive_dir = tmp_path / "archive"
    params = {"warehouse": warehouse.path, "archive_dir": str(archive_dir), "retention_days": 90}
    ever: dict[str, set[str]] = {"trades": set(), "whale_activity": set()}
    rng = random.Random(13)
    _insert_trades(warehouse, [rng.uniform(0.5, 60) for _ in range(60)], ever)  # stay
    log = KillLog()
    orphans_seen = 0
    for number in range(RETENTION_KILLS):
        _insert_trades(warehouse, [rng.uniform(100, 800) for _ in range(600)], ever)
        params["run_id"] = f"kill-{number:02d}-{rng.getrandbits(32):08x}"
        kill_round(forkserver, "retention", params, log, rng, default=1.5)
        state = archive_state(warehouse.path, archive_dir)
        assert archive_violations(state, ever) == [], f"after kill {number}"
        orphans_seen += bool(state["orphans"])
    run_to_end(forkserver, "retention", {**params, "run_id": "rerun-00"})
    state = archive_state(warehouse.path, archive_dir)
    with warehouse.connection(read_only=True) as conn:
        old_left = conn.execute(
            "SELECT count(*) FROM trades WHERE created_at < now() - INTERVAL 90 DAY"
        ).fetchone()[0]
        files = conn.execute("SELECT count(*) FROM archive_manifest").fetchone()[0]
    archived = sum(sum(keys.values()) for keys in state["files"]["trades"].values())
    record(
        "crash/retention",
        kills_landed_mid_run=log.landed,
        runs_finished_before_kill=log.finished_first,
        kills_that_left_orphan_files=orphans_seen,
        rows_ever_stored=len(ever["trades"]) + len(ever["whale_activity"]),
        trades_archived=archived,
        archive_files=files,
        rows_lost=0 if not archive_violations(state, ever) else "see failure",
    )
    assert archive_violations(state, ever) == []
    assert state["orphans"] == [], "a completed run leaves no unlisted archive file"
    assert old_left == 0 and archived == len(ever["trades"]) - 60
    assert log.landed >= RETENTION_KILLS // 2, "most kills must land while retention runs"
