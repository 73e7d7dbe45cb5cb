"""Fault campaign: per fault mode, 20+ sync cycles with new trades; nothing lost or doubled,
a planted gap found and repaired, every wallet proven complete at the end.

The campaigns (see campaign.py) run in parallel processes, one world each: most of their time
is spent waiting on faults (429 back-off, timeouts), the rest is pandera and DuckDB work that
one process would serialise. Each parametrised test then checks one mode's outcome.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import Any

import pytest

from opinion_pipeline_tests.reliability.campaign import (
    CYCLES,
    FAULT_COUNTERS,
    MODES,
    PLANTED_ROWS,
    PLANTED_WALLETS,
    REPAIR_RUNS,
    Mode,
    campaign_in_own_world,
)
from opinion_pipeline_tests.reliability.figures import record

PROCESSES = len(MODES)


@pytest.fixture(scope="module")
def outcomes(
    api_key: str, tmp_path_factory: pytest.TempPathFactory, forkserver: BaseContext
) -> dict[str, Any]:
    """Every mode's campaign, in parallel processes; a mode's error is kept for its test."""
    with ProcessPoolExecutor(max_workers=PROCESSES, mp_context=forkserver) as pool:
        futures = {
            mode.name: pool.submit(
                campaign_in_own_world, mode.name, api_key, tmp_path_factory.mktemp(mode.name)
            )
            for mode in MODES
        }
    results: dict[str, Any] = {}
    for name, future in futures.items():
        error = future.exception()
        results[name] = error if error is not None else future.result()
    return results


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", MODES, ids=[mode.name for mode in MODES])
def test_fault_mode_loses_and_duplicates_nothing(mode: Mode, outcomes: dict[str, Any]) -> None:
    outcome = outcomes[mode.name]
    if isinstance(outcome, BaseException):
        raise outcome
    run, trades, markets, injected = outcome.run, outcome.trades, outcome.markets, outcome.injected
    timeouts = int(outcome.client_stats.get("timeouts", 0))
    proof, planted = outcome.proof, run.planted
    evidence = timeouts if mode.evidence == "timeouts" else injected[mode.evidence]
    record(
        f"fault_campaign/{mode.name}",
        cycles=run.cycles,
        market_sweeps=run.sweeps,
        settle_cycles=run.settle_cycles,
        failed_cycles_recovered=run.failed_cycles,
        cycles_with_new_trades=run.cycles_with_new_trades,
        failures=dict(run.failures),
        faults_injected={name: injected[name] for name in FAULT_COUNTERS if injected[name]},
        client_timeouts=timeouts,
        client_retries=int(outcome.client_stats.get("retries", 0)),
        requests=injected["requests"],
        fills_in_truth=trades["truth"],
        fills_stored=trades["stored"],
        fills_quarantined=trades["missing"],
        quarantine_rows_resolved=outcome.quarantine["resolved"],
        quarantine_rows_unresolved=outcome.quarantine["unresolved"],
        rows_lost=len(trades["unexplained"]),
        rows_duplicated_or_invented=sum(trades["extra"].values()),
        markets_wrong_unexplained=len(markets["unexplained"]),
        wallets=proof.wallets,
        wallets_proven=proof.proven,
        wallets_proven_pct=round(100 * proof.share, 1),
        trades_complete_final=outcome.final_check,
        gaps_found=run.ledger["gaps_found"],
        repairs_closed=run.ledger["repairs_closed"],
        repairs_persisting=run.ledger["repairs_persisting"],
        quarantine_unresolved_before_plant=run.before_plant["quarantine_unresolved"],
        wallets_proven_before_plant=run.before_plant["wallets_proven"],
        planted_gap_rows=sum(planted.deleted.values()),
        planted_gap_detected_after_runs=sorted(planted.detected_after.values()),
        planted_gap_check_at_detection=planted.check_at_detection,
        planted_gap_repaired_runs_after_detection=sorted(planted.repaired_after.values()),
        seconds=outcome.seconds,
    )
    assert evidence > 0, f"the {mode.name} fault never fired: the campaign proves nothing"
    assert run.cycles >= CYCLES
    assert run.cycles_with_new_trades >= CYCLES // 2, "new trades kept arriving"
    assert not trades["extra"], f"fills stored that the API never had: {trades['extra']}"
    assert not trades["unexplained"], (
        f"fills lost without a quarantine row: {trades['unexplained']}"
    )
    assert not markets["extra"] and not markets["unexplained"], markets
    assert outcome.inexact_usd == 0, "usd_value must be amount x quoteTokenUsdPrice exactly"
    if not mode.quarantine_expected:
        assert trades["missing"] == 0 and markets["wrong"] == 0
    # A fill missing from the store is explained by an unresolved row; a resolved row is no loss.
    assert outcome.quarantine["unresolved"] >= trades["missing"]
    assert trades["truth"] > 300
    # Completeness: every wallet proven by the ledger, and the proof true against the truth.
    assert proof.wallets == 8 and proof.proven == proof.wallets, proof.not_proven
    assert outcome.final_check == "passed"
    # The planted gap: seen at the first poll that accounted for the wallet, then repaired.
    assert planted.deleted == dict.fromkeys(planted.deleted, PLANTED_ROWS)
    assert len(planted.deleted) == PLANTED_WALLETS
    assert set(planted.detected_after) == set(planted.deleted), "the gap was never accounted"
    assert all(gap > 0 for gap in planted.gap_seen.values()), planted.gap_seen
    assert all(result == "failed WARN" for result in planted.check_at_detection)
    assert set(planted.repaired_after) == set(planted.deleted), planted
    assert max(planted.repaired_after.values()) <= REPAIR_RUNS, planted.repaired_after
    assert set(planted.outcomes.values()) == {"closed"}
    assert run.ledger["repairs_closed"] >= PLANTED_WALLETS
