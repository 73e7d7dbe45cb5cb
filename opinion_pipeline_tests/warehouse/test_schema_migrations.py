"""A warehouse written by an older pipeline is brought up to date without losing a row, and the
trade key stays unique without a PRIMARY KEY index."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from opinion_pipeline.defs.whale_trades.checks import trade_keys_check
from opinion_pipeline.defs.whale_trades.store import insert_trades, repeated_trade_keys
from opinion_pipeline.defs.whale_trades.validate import prepare_trades
from opinion_pipeline.warehouse import migrations
from opinion_pipeline.warehouse.catalog import warehouse_tables
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse, WarehouseError
from opinion_pipeline.warehouse.migrations import warehouse_ddl
from opinion_pipeline.warehouse.versions import SCHEMA_VERSION
from opinion_pipeline_tests.factories import trade_row, wallet

pytestmark = pytest.mark.unit

DDL = warehouse_ddl(warehouse_tables())
# The v1 schema differed only in this line of the trades table.
V1_KEY = "trade_key VARCHAR PRIMARY KEY,"
V2_KEY = "trade_key VARCHAR NOT NULL,"


def v1_warehouse(path: Path, trades: int = 3) -> list[tuple]:
    """A warehouse as version 1 wrote it, holding ``trades`` trades; returns its trade rows."""
    assert V2_KEY in DDL
    batch = prepare_trades(wallet(1), [trade_row() for _ in range(trades)])
    with duckdb.connect(str(path)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute(DDL.replace(V2_KEY, V1_KEY, 1))
        conn.execute("INSERT INTO schema_version VALUES (1, now())")
        insert_trades(DuckDBSession(conn), batch.rows, run_id="v1", alert_usd=10_000)
        return conn.execute("SELECT * FROM trades ORDER BY trade_key").fetchall()


def primary_keys(conn: duckdb.DuckDBPyConnection, table: str) -> int:
    return conn.execute(
        "SELECT count(*) FROM duckdb_constraints() "
        "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'",
        [table],
    ).fetchone()[0]


def versions(conn: duckdb.DuckDBPyConnection) -> list[int]:
    return [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()]


def test_a_new_warehouse_starts_at_the_current_version(tmp_path: Path) -> None:
    with DuckDBWarehouse(path=str(tmp_path / "w.duckdb")).connection() as conn:
        assert versions(conn) == [SCHEMA_VERSION]
        assert primary_keys(conn, "trades") == 0
        assert primary_keys(conn, "whale_activity") == 1


def test_a_v1_warehouse_is_migrated_with_every_row(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    before = v1_warehouse(path)
    with duckdb.connect(str(path)) as conn:
        assert primary_keys(conn, "trades") == 1
    warehouse = DuckDBWarehouse(path=str(path))
    with warehouse.connection() as conn:
        assert primary_keys(conn, "trades") == 0
        assert versions(conn) == list(range(1, SCHEMA_VERSION + 1))
        assert conn.execute("SELECT * FROM trades ORDER BY trade_key").fetchall() == before
        nullable = conn.execute(
            "SELECT is_nullable FROM duckdb_columns() "
            "WHERE table_name = 'trades' AND column_name = 'trade_key'"
        ).fetchone()[0]
        assert not nullable
        quarantine = [row[0] for row in conn.execute("DESCRIBE quarantine").fetchall()]
        assert quarantine[-2:] == ["resolved_at", "resolved_to"]  # v3, in the spec's order
    with warehouse.connection() as conn:  # opening again changes nothing
        assert versions(conn) == list(range(1, SCHEMA_VERSION + 1))
        assert len(conn.execute("SELECT * FROM trades").fetchall()) == len(before)


def test_a_failed_migration_leaves_the_warehouse_at_v1(tmp_path: Path, monkeypatch) -> None:
    """A step that breaks after its work rolls back whole: v1 table, v1 rows, version 1."""
    path = tmp_path / "w.duckdb"
    before = v1_warehouse(path)
    real_step = migrations.STEPS[2]

    def breaks_after_its_work(conn: duckdb.DuckDBPyConnection) -> None:
        real_step(conn)
        raise OSError("disk full")

    monkeypatch.setitem(migrations.STEPS, 2, breaks_after_its_work)
    with pytest.raises(OSError, match="disk full"), DuckDBWarehouse(path=str(path)).connection():
        pass
    with duckdb.connect(str(path)) as conn:
        assert primary_keys(conn, "trades") == 1
        assert versions(conn) == [1]
        assert conn.execute("SELECT * FROM trades ORDER BY trade_key").fetchall() == before
        tables = {
            name for (name,) in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        assert "trades_v1" not in tables


def test_a_newer_warehouse_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with DuckDBWarehouse(path=str(path)).connection() as conn:
        conn.execute("INSERT INTO schema_version VALUES (?, now())", [SCHEMA_VERSION + 1])
    newer = f"schema version {SCHEMA_VERSION + 1}, newer"
    with pytest.raises(WarehouseError, match=newer), DuckDBWarehouse(path=str(path)).connection():
        pass


def test_the_key_stays_unique_across_repeated_and_overlapping_writes(warehouse) -> None:
    rows = [trade_row() for _ in range(30)]
    for run, window in enumerate([rows[:10], rows[5:20], rows, rows[25:]]):
        batch = prepare_trades(wallet(2), window)
        with warehouse.transaction() as conn:
            insert_trades(DuckDBSession(conn), batch.rows, run_id=f"run-{run}", alert_usd=10_000)
    with warehouse.connection() as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT trade_key) FROM trades"
        ).fetchone()
        assert total == distinct == 30
        assert all(repeated_trade_keys(DuckDBSession(conn), f"run-{run}") == [] for run in range(4))


def test_the_key_check_catches_a_repeated_key(warehouse) -> None:
    batch = prepare_trades(wallet(3), [trade_row() for _ in range(3)])
    with warehouse.transaction() as conn:
        insert_trades(DuckDBSession(conn), batch.rows, run_id="good", alert_usd=10_000)
        key = conn.execute("SELECT trade_key FROM trades LIMIT 1").fetchone()[0]
        # A writer that skipped insert_trades: the same trade stored again by another run.
        conn.execute(
            "INSERT INTO trades SELECT * REPLACE ('bad' AS run_id) FROM trades WHERE trade_key = ?",
            [key],
        )
    with warehouse.connection() as conn:
        repeated = repeated_trade_keys(DuckDBSession(conn), "bad")
        assert repeated == [(key, 2)]
        assert repeated_trade_keys(DuckDBSession(conn), "good") == [(key, 2)]
    result = trade_keys_check("whale_trades", repeated)
    assert not result.passed
    assert result.metadata["repeated_keys"].value == 1
    assert key in result.metadata["repeated"].value
    assert trade_keys_check("whale_trades", []).passed


def test_a_table_missing_from_a_current_warehouse_is_created_on_the_next_open(tmp_path: Path):
    """The up-to-date shortcut of ensure_schema must not skip a table that is not there."""
    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    with warehouse.connection() as conn:
        conn.execute("DROP TABLE whale_polling")
        assert not migrations.up_to_date(conn, warehouse_tables())
    with warehouse.connection() as conn:
        assert migrations.up_to_date(conn, warehouse_tables())
        assert conn.execute("SELECT count(*) FROM whale_polling").fetchone() == (0,)
