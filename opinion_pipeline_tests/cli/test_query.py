"""warehouse-query: reads under the pipeline's lock, waits for writers, can never write."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time

import duckdb
import pytest

from opinion_pipeline.cli import query
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


@pytest.mark.unit
def test_missing_path_is_named_and_nothing_is_created(tmp_path, capsys):
    missing = tmp_path / "typo" / "deeper" / "w.duckdb"
    assert query.main(["--path", str(missing), "--tables"]) == 2
    err = capsys.readouterr().err
    assert f"no warehouse at {missing}" in err
    assert list(tmp_path.iterdir()) == [], "no directory or lock file made for a missing path"


def _money_warehouse(tmp_path) -> DuckDBWarehouse:
    path = tmp_path / "money.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE m AS SELECT 6763623.12::DECIMAL(38,18) AS total_volume_usd, "
            "0.0000001::DECIMAL(38,18) AS price, 12::DECIMAL(38,18) AS shares"
        )
    return DuckDBWarehouse(path=str(path))


@pytest.mark.unit
def test_money_prints_as_plain_decimals_in_table_and_csv(tmp_path, capsys):
    warehouse = _money_warehouse(tmp_path)
    assert query.main(["--path", warehouse.path, "SELECT * FROM m"]) == 0
    table = capsys.readouterr().out
    assert "6763623.12" in table.split("\n")[1] and "0.0000001" in table
    assert not re.search(r"\d[eE][+-]?\d", table), table
    assert query.main(["--path", warehouse.path, "--format", "csv", "SELECT * FROM m"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "6763623.12,0.0000001,12"


@pytest.mark.unit
def test_default_warehouse_follows_the_mode_and_is_named_on_stderr(tmp_path, monkeypatch, capsys):
    for name in ("OPINION_DATA_DIR", "OPINION_WAREHOUSE_PATH", "OPINION_MODE", "OPINION_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert query.main(["--tables"]) == 2
    err = capsys.readouterr().err
    simulator_file = tmp_path / "data" / "simulator" / "warehouse.duckdb"
    assert f"warehouse {simulator_file} (simulator mode)" in err
    assert f"no warehouse at {simulator_file}" in err
    assert not (tmp_path / "data").exists(), "a missing warehouse makes no directory"
    live_file = tmp_path / "data" / "warehouse.duckdb"
    live_file.parent.mkdir()
    duckdb.connect(str(live_file)).close()
    assert query.main(["--tables"]) == 2
    assert "OPINION_MODE=live opens it" in capsys.readouterr().err  # the other mode's file
    monkeypatch.setenv("OPINION_API_KEY", "sk-anything")
    assert query.main(["--tables"]) == 0
    assert f"warehouse {live_file} (live mode)" in capsys.readouterr().err
