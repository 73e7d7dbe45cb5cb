"""v5: whale_position_pnl loses its PRIMARY KEY index, keeping every row, in one transaction."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from opinion_pipeline.defs.whale_pnl.compute import recompute_pnl
from opinion_pipeline.warehouse import migrations
from opinion_pipeline.warehouse.catalog import warehouse_tables
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline.warehouse.migrations import primary_key_columns, warehouse_ddl

pytestmark = pytest.mark.unit

KEY = ("wallet", "market_id", "outcome_side")
V5_LAST = "    computed_at TIMESTAMP WITH TIME ZONE\n)"
V4_LAST = (
    "    computed_at TIMESTAMP WITH TIME ZONE,\n"
    "    PRIMARY KEY (wallet, market_id, outcome_side)\n)"
)


def v4_warehouse(path: Path) -> list[tuple]:
    """A warehouse as version 4 wrote it, with two position rows; returns them."""
    statements = warehouse_ddl(warehouse_tables()).split(";\n\n")
    [position] = [s for s in statements if "TABLE IF NOT EXISTS whale_position_pnl" in s]
    assert V5_LAST in position
    statements[statements.index(position)] = position.replace(V5_LAST, V4_LAST)
    with duckdb.connect(str(path)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute(";\n\n".join(statements))
        conn.execute("INSERT INTO schema_version SELECT range, now() FROM range(1, 5)")
        conn.execute(
            "INSERT INTO whale_position_pnl (wallet, market_id, outcome_side, cost, net_pnl) "
            "VALUES ('0xa', 1, 1, 2.5, -0.000000000000000001), ('0xa', 1, 2, 1, 3)"
        )
        assert primary_key_columns(conn, "whale_position_pnl") == list(KEY)
        return conn.execute("SELECT * FROM whale_position_pnl ORDER BY ALL").fetchall()


def test_a_v4_warehouse_keeps_its_positions_without_the_index(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    before = v4_warehouse(path)
    warehouse = DuckDBWarehouse(path=str(path))
    with warehouse.connection() as conn:
        assert primary_key_columns(conn, "whale_position_pnl") == []
        assert conn.execute("SELECT * FROM whale_position_pnl ORDER BY ALL").fetchall() == before
        assert 5 in [v for (v,) in conn.execute("SELECT version FROM schema_version").fetchall()]
    # the recompute replaces the table in full on the migrated warehouse
    assert recompute_pnl(warehouse, datetime.now(timezone.utc)).positions == 0


def test_a_failed_v5_leaves_the_v4_table(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "w.duckdb"
    before = v4_warehouse(path)
    real_step = migrations.STEPS[5]

    def breaks_after_its_work(conn: duckdb.DuckDBPyConnection) -> None:
        real_step(conn)
        raise OSError("disk full")

    monkeypatch.setitem(migrations.STEPS, 5, breaks_after_its_work)
    with pytest.raises(OSError, match="disk full"), DuckDBWarehouse(path=str(path)).connection():
        pass
    with duckdb.connect(str(path)) as conn:
        assert primary_key_columns(conn, "whale_position_pnl") == list(KEY)
        assert conn.execute("SELECT * FROM whale_position_pnl ORDER BY ALL").fetchall() == before
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (4,)
