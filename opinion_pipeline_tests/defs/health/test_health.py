"""The health check job: real warehouse files, a real Dagster instance, the simulator over HTTP."""

from __future__ import annotations

import json
import time
from pathlib import Path

import dagster as dg
import pytest

from opinion_pipeline.config import SettingsError, load_settings
from opinion_pipeline.defs.whale_trades.store import insert_trades
from opinion_pipeline.defs.whale_trades.validate import prepare_trades
from opinion_pipeline.tables import RowLimits
from opinion_pipeline.warehouse.catalog import health_row_limits, warehouse_tables
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession
from opinion_pipeline_tests.conftest import pipeline_warehouse
from opinion_pipeline_tests.factories import trade_row, wallet
from opinion_pipeline_tests.pipeline.helpers import run_job

JOB = "health_check"
ERROR = dg.AssetCheckSeverity.ERROR
WARN = dg.AssetCheckSeverity.WARN


def _seed_trades(count: int) -> None:
    rows = [trade_row(createdAt=int(time.time()) - 60) for _ in range(count)]
    batch = prepare_trades(wallet(1), rows)
    with pipeline_warehouse().transaction() as conn:
        insert_trades(DuckDBSession(conn), batch.rows, run_id="seed", alert_usd=10_000)


def _seed_quarantine(count: int) -> None:
    rows = [trade_row(price=f"not-a-price-{n}-{time.time_ns()}") for n in range(count)]
    batch = prepare_trades(wallet(2), rows)
    assert len(batch.rejects) == count
    with pipeline_warehouse().transaction() as conn:
        DuckDBSession(conn).quarantine(
            "trade", [(wallet(2), r) for r in batch.rejects], run_id="seed"
        )


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _value(evaluation: dg.AssetCheckEvaluation, name: str):
    return evaluation.metadata[name].value


def _run_text(instance: dg.DagsterInstance, run_id: str) -> str:
    """Everything the run recorded, serialised: what the UI and the event log could show."""
    records = instance.get_records_for_run(run_id).records
    return "\n".join(dg.serialize_value(record.event_log_entry) for record in records)


# -- thresholds ----------------------------------------------------------------------------------


# Stored tables the health check has never sized (no row_limits): the one-row version table
# and the archive's key list.
UNCHECKED_TABLES = {"schema_version", "archived_trades"}


@pytest.mark.unit
def test_thresholds_cover_every_table_and_merge_over_defaults(monkeypatch):
    monkeypatch.delenv("OPINION_HEALTH_THRESHOLDS", raising=False)
    tables = {table.name: table for table in warehouse_tables()}
    unlimited = sorted(name for name, t in tables.items() if t.row_limits is None)
    assert unlimited == sorted(UNCHECKED_TABLES), "a new table needs row_limits= in its spec"
    defaults = load_settings().thresholds()
    assert set(defaults) == set(tables) - UNCHECKED_TABLES
    for name, levels in defaults.items():  # the defaults are the specs' row_limits
        limits = tables[name].row_limits
        assert levels == {"warn": limits.warn, "error": limits.error}
    assert defaults["whale_activity"]["warn"] == 1_000_000  # the seed's activity threshold
    monkeypatch.setenv("OPINION_HEALTH_THRESHOLDS", json.dumps({"trades": {"warn": 7}}))
    merged = load_settings().thresholds()
    assert merged["trades"] == {"warn": 7, "error": defaults["trades"]["error"]}
    assert merged["markets"] == defaults["markets"]


@pytest.mark.unit
def test_row_limits_refuse_warn_above_error():
    with pytest.raises(ValueError, match="warn <= error"):
        RowLimits(warn=10, error=5)


@pytest.mark.unit
@pytest.mark.parametrize(
    "raw, fragment",
    [
        ("{not json", "not valid JSON"),
        ('{"trade": {"warn": 1}}', "unknown table 'trade'"),
        ('{"trades": {"warn": 10, "error": 5}}', "warn (10) is above error (5)"),
        ('{"trades": {"warn": "many"}}', "whole number"),
        ('{"trades": {"warning": 1}}', "must look like"),
    ],
)
def test_bad_thresholds_are_refused_not_ignored(monkeypatch, raw, fragment):
    monkeypatch.setenv("OPINION_HEALTH_THRESHOLDS", raw)
    with pytest.raises(SettingsError, match="OPINION_HEALTH_THRESHOLDS") as caught:
        load_settings()
    assert fragment in str(caught.value)


# -- the job ---------------------------------------------------------------------------------------


def test_table_sizes_pass_warn_and_error_against_thresholds(pipeline_env, instance, monkeypatch):
    _seed_trades(3)
    monkeypatch.setenv("OPINION_HEALTH_THRESHOLDS", '{"trades": {"warn": 5, "error": 10}}')
    result = run_job(instance, JOB)
    checks = _checks(result)
    assert result.success
    assert checks["warehouse_reachable"].passed
    assert checks["api_reachable"].passed, checks["api_reachable"].description
    assert checks["table_size_trades"].passed and _value(checks["table_size_trades"], "rows") == 3
    table_checks = [name for name in checks if name.startswith("table_size_")]
    assert len(table_checks) == len(health_row_limits()) >= 20  # one per table

    monkeypatch.setenv("OPINION_HEALTH_THRESHOLDS", '{"trades": {"warn": 2, "error": 10}}')
    result = run_job(instance, JOB)
    trades = _checks(result)["table_size_trades"]
    assert result.success, "a WARN does not fail the run"
    assert not trades.passed and trades.severity == WARN
    assert _value(trades, "rows") == 3 and _value(trades, "warn_above") == 2

    monkeypatch.setenv("OPINION_HEALTH_THRESHOLDS", '{"trades": {"warn": 1, "error": 2}}')
    result = run_job(instance, JOB)
    trades = _checks(result)["table_size_trades"]
    assert not trades.passed and trades.severity == ERROR
    assert not result.success, "an ERROR fails the run, so the run-failure alert fires"
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert "table_size_trades" in failure.description
    # The materialization (with every count) is recorded even though the run failed.
    materialization = instance.get_latest_materialization_event(dg.AssetKey("pipeline_health"))
    assert materialization.asset_materialization.metadata["rows_trades"].value == 3
    assert materialization.asset_materialization.metadata["status"].value == "ERROR"


def test_quarantine_growth_counts_rows_since_the_previous_check(
    pipeline_env, instance, monkeypatch
):
    monkeypatch.setenv("OPINION_HEALTH_QUARANTINE_WARN", "2")
    _seed_quarantine(1)  # before the first check: more than 30 minutes ago is not known, so
    first = _checks(run_job(instance, JOB))["quarantine_growth"]  # the window is the last 30 min
    assert first.passed and _value(first, "new_rows") == 1

    _seed_quarantine(3)
    grown = _checks(run_job(instance, JOB))["quarantine_growth"]
    assert not grown.passed and grown.severity == WARN
    assert _value(grown, "new_rows") == 3 and _value(grown, "total_rows") == 4

    quiet = _checks(run_job(instance, JOB))["quarantine_growth"]
    assert quiet.passed and _value(quiet, "new_rows") == 0


@pytest.mark.parametrize("state", ["corrupt", "missing"])
def test_unreachable_warehouse_is_an_error(pipeline_env, instance, monkeypatch, tmp_path, state):
    path = Path(tmp_path / "broken" / "warehouse.duckdb")
    path.parent.mkdir()
    if state == "corrupt":
        path.write_bytes(b"this is not a duckdb database" * 100)
    monkeypatch.setenv("OPINION_WAREHOUSE_PATH", str(path))
    result = run_job(instance, JOB)
    checks = _checks(result)
    reachable = checks["warehouse_reachable"]
    assert not reachable.passed and reachable.severity == ERROR
    assert str(path) in reachable.description
    assert not result.success
    assert checks["api_reachable"].passed, "the API is still probed when the warehouse is down"
    assert not checks["table_size_trades"].passed
    assert "not reachable" in checks["table_size_trades"].description
    assert not path.with_name("warehouse.duckdb.wal").exists()
    if state == "missing":
        assert not path.exists(), "the health check must not create an empty warehouse"


def test_refused_key_is_an_error_that_never_shows_the_key(
    pipeline_env, instance, monkeypatch, api_key
):
    _seed_trades(1)
    good = run_job(instance, JOB)
    assert _checks(good)["api_reachable"].passed
    assert api_key not in _run_text(instance, good.run_id)

    wrong_key = "sk-wrong-" + api_key[::-1]
    monkeypatch.setenv("OPINION_API_KEY", wrong_key)
    result = run_job(instance, JOB)
    api = _checks(result)["api_reachable"]
    assert not api.passed and api.severity == ERROR
    assert "refused the key" in api.description and _value(api, "http_status") == 401
    assert not result.success
    text = _run_text(instance, result.run_id)
    assert wrong_key not in text and api_key not in text
    assert _checks(result)["warehouse_reachable"].passed


def test_missing_key_is_an_error_and_the_other_checks_still_run(
    pipeline_env, instance, monkeypatch
):
    _seed_trades(1)
    monkeypatch.delenv("OPINION_API_KEY")
    result = run_job(instance, JOB)
    checks = _checks(result)
    assert not checks["api_reachable"].passed
    assert "OPINION_API_KEY is not set" in checks["api_reachable"].description
    assert checks["warehouse_reachable"].passed and checks["table_size_trades"].passed
