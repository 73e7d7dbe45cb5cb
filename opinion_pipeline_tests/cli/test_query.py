"""warehouse-query: reads under the pipeline's lock, waits for writers, can never write."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

from opinion_pipeline.defs.whale_trades.store import insert_trades
from opinion_pipeline.defs.whale_trades.validate import prepare_trades
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline_tests.factories import trade_row, wallet


def _query(path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "opinion_pipeline.cli.query", "--path", str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _seeded(tmp_path) -> DuckDBWarehouse:
    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    batch = prepare_trades(wallet(9), [trade_row(), trade_row(), trade_row()])
    with warehouse.transaction() as conn:
        insert_trades(DuckDBSession(conn), batch.rows, run_id="t", alert_usd=10_000)
    return warehouse


def test_query_prints_rows_as_json(tmp_path):
    warehouse = _seeded(tmp_path)
    result = _query(warehouse.path, "--format", "json", "SELECT count(*) AS n FROM trades")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"n": 3}]


def test_query_waits_for_a_writer_instead_of_failing(tmp_path):
    warehouse = _seeded(tmp_path)
    released_at: list[float] = []

    def hold_the_lock() -> None:
        with warehouse.transaction():
            time.sleep(3)
            released_at.append(time.monotonic())

    writer = threading.Thread(target=hold_the_lock)
    writer.start()
    time.sleep(0.5)
    result = _query(warehouse.path, "SELECT count(*) FROM trades")
    finished = time.monotonic()
    writer.join()
    assert result.returncode == 0, result.stderr
    assert finished >= released_at[0], "the query ran only after the writer released the lock"


def test_query_cannot_write(tmp_path):
    warehouse = _seeded(tmp_path)
    result = _query(warehouse.path, "DELETE FROM trades")
    assert result.returncode == 1
    assert "read-only" in result.stderr.lower() or "read only" in result.stderr.lower()
    with warehouse.connection() as conn:
        assert conn.execute("SELECT count(*) FROM trades").fetchone()[0] == 3


def test_missing_warehouse_is_a_clear_error(tmp_path):
    result = _query(tmp_path / "nope.duckdb", "SELECT 1")
    assert result.returncode == 2
    assert "no warehouse" in result.stderr and "run a sync first" in result.stderr
