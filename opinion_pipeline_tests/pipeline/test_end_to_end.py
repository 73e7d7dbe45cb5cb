"""End to end against the simulator: Dagster jobs on a real instance, a real DuckDB file."""

from __future__ import annotations

import dagster as dg
import yaml

from opinion_pipeline_tests.conftest import pipeline_warehouse
from opinion_pipeline_tests.pipeline.helpers import (
    ROOT,
    failure_text,
    run_job,
    truth_fills,
    warehouse_fills,
)


def test_several_cycles_equal_the_ground_truth(
    fresh_simulator, pipeline_env, instance, monkeypatch
):
    sim = fresh_simulator
    monkeypatch.setenv("OPINION_API_BASE_URL", sim.base_url)
    assert run_job(instance, "sync_markets").success
    for cycle in range(4):
        result = run_job(instance, "sync_whale_trades")
        assert result.success, f"cycle {cycle} failed"
        sim.advance(3 * 3600)  # several hours: heavy wallets trade several times
    assert run_job(instance, "sync_markets").success
    assert run_job(instance, "sync_whale_trades").success

    truth = truth_fills(sim.truth_trades())
    with pipeline_warehouse().connection() as conn:
        stored = warehouse_fills(conn)
        unknown = conn.execute("SELECT count(*) FROM trades WHERE NOT market_known").fetchone()[0]
    assert sum(truth.values()) > 50, "the simulated world should have a real amount of trades"
    assert stored == truth  # every trade exactly once, twins included
    assert unknown == 0, "after a market sweep every traded market is known"


def test_markets_upsert_keeps_status_changes(fresh_simulator, pipeline_env, instance, monkeypatch):
    sim = fresh_simulator
    monkeypatch.setenv("OPINION_API_BASE_URL", sim.base_url)
    assert run_job(instance, "sync_markets").success
    sim.advance(30 * 24 * 3600)
    assert run_job(instance, "sync_markets").success

    truth = {}
    for market in sim.truth_markets():
        truth[market["marketId"]] = market["status"]
        for child in market.get("childMarkets") or []:
            truth[child["marketId"]] = child["status"]
    with pipeline_warehouse().connection() as conn:
        stored = dict(conn.execute("SELECT market_id, status FROM markets").fetchall())
        children = conn.execute(
            "SELECT count(*) FROM markets WHERE parent_market_id IS NOT NULL"
        ).fetchone()[0]
        zero_times = conn.execute(
            "SELECT count(*) FROM markets WHERE epoch(resolved_at) = 0 OR epoch(cutoff_at) = 0"
        ).fetchone()[0]
    assert stored == truth
    assert children > 0
    assert zero_times == 0, "a 0 timestamp means unset and is stored as NULL"


def test_materialization_records_the_sync_log(fresh_simulator, pipeline_env, instance, monkeypatch):
    monkeypatch.setenv("OPINION_API_BASE_URL", fresh_simulator.base_url)
    assert run_job(instance, "sync_whale_trades").success
    event = instance.get_latest_materialization_event(dg.AssetKey("whale_trades"))
    metadata = event.asset_materialization.metadata
    for name in (
        "items_fetched",
        "new_rows",
        "duplicates_skipped",
        "quarantined",
        "requests",
        "retries",
        "rate_limited_429s",
        "seconds",
    ):
        assert name in metadata, name
    # The figures are the run's own: they agree with the warehouse and the simulator's counters.
    with pipeline_warehouse().connection() as conn:
        (stored,) = conn.execute("SELECT count(*) FROM trades").fetchone()
    served = fresh_simulator.counters()["total"]
    assert metadata["new_rows"].value == stored > 0
    assert metadata["items_fetched"].value >= stored
    assert metadata["quarantined"].value == 0
    assert metadata["requests"].value >= len(fresh_simulator.wallets())
    assert metadata["requests"].value <= served["requests"]
    assert metadata["rate_limited_429s"].value == served["rate_limited"] + served["burst_429"]
    assert metadata["seconds"].value > 0
    check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("whale_trades"), "payload_valid")]
    )
    assert check, "the payload check ran"
    keys = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("whale_trades"), "trade_keys_unique")]
    )
    evaluation = next(iter(keys.values())).evaluation
    assert evaluation.passed and evaluation.metadata["repeated_keys"].value == 0


def test_malformed_rows_are_quarantined(fresh_simulator, pipeline_env, instance, monkeypatch):
    sim = fresh_simulator
    monkeypatch.setenv("OPINION_API_BASE_URL", sim.base_url)
    sim.set_faults(malformed_rate=0.2)
    result = run_job(instance, "sync_whale_trades")
    assert result.success
    checks = {check.check_name: check for check in result.get_asset_check_evaluations()}
    assert not checks["payload_valid"].passed
    assert "failures" in checks["payload_valid"].metadata
    assert checks["trade_keys_unique"].passed
    with pipeline_warehouse().connection() as conn:
        quarantined = conn.execute("SELECT reason, raw_json FROM quarantine").fetchall()
        stored = warehouse_fills(conn)
    assert quarantined, "some rows were malformed"
    assert all(reason for reason, _ in quarantined)
    truth = truth_fills(sim.truth_trades())
    assert not (stored - truth), "nothing malformed reached the trades table"


def test_wholly_unusable_payload_fails_and_writes_nothing(
    fresh_simulator, pipeline_env, instance, monkeypatch
):
    sim = fresh_simulator
    monkeypatch.setenv("OPINION_API_BASE_URL", sim.base_url)
    sim.set_faults(malformed_rate=1.0)
    for job, table in (("sync_markets", "markets"), ("sync_whale_trades", "trades")):
        result = run_job(instance, job)
        assert not result.success, job
        message = failure_text(result)
        assert "none of the" in message and "passed validation" in message
        with pipeline_warehouse().connection() as conn:
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0


def test_bad_registry_line_fails_naming_the_line(pipeline_env, instance, tmp_path):
    path = tmp_path / "whales.csv"
    good = "0x" + "ab" * 20
    path.write_text(f"address,label,tags\n{good},one,\n0x1234,broken,\n{good},again,\n")
    result = run_job(instance, "sync_whale_trades")
    assert not result.success
    message = failure_text(result)
    assert "line 3" in message and "line 4" in message and "duplicate" in message


def test_sync_progress_shows_in_the_run_logs(fresh_simulator, pipeline_env, monkeypatch):
    """dagster.yaml makes the opinion_pipeline loggers part of each run's event log."""
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    monkeypatch.setenv("OPINION_API_BASE_URL", fresh_simulator.base_url)
    with dg.instance_for_test(overrides={"python_logs": config["python_logs"]}) as instance:
        result = run_job(instance, "sync_whale_trades")
        assert result.success
        messages = [
            record.user_message
            for record in instance.all_logs(result.run_id)
            if record.user_message
        ]
    assert any("full history of" in message for message in messages)
    assert any(message.startswith("whale sync:") for message in messages)
