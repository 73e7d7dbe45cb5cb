"""v4: whales gain provenance (source, admitted_at) and the discovery drop mark, from v3."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from opinion_pipeline.defs.whale_registry.sync import sync_whale_registry, tracked_whales
from opinion_pipeline.warehouse.catalog import warehouse_tables
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline.warehouse.migrations import warehouse_ddl

pytestmark = pytest.mark.unit

V4_COLUMNS = (
    "    source VARCHAR NOT NULL DEFAULT 'registry',\n",
    "    admitted_at TIMESTAMP WITH TIME ZONE,\n",
    "    discovery_dropped_at TIMESTAMP WITH TIME ZONE\n",
)


def v3_warehouse(path: Path) -> None:
    ddl = warehouse_ddl(warehouse_tables())
    for line in V4_COLUMNS:
        assert line in ddl, line
        ddl = ddl.replace(line, "", 1)
    ddl = ddl.replace(
        "inactive_since TIMESTAMP WITH TIME ZONE,\n", "inactive_since TIMESTAMP WITH TIME ZONE\n"
    )
    with duckdb.connect(str(path)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute(ddl)
        conn.execute("INSERT INTO schema_version VALUES (1, now()), (2, now()), (3, now())")
        conn.execute(
            "INSERT INTO whales (address, label, tags, in_registry, first_listed_at, "
            f"last_listed_at) VALUES ('0x{'ab' * 20}', 'old', [], true, "
            "TIMESTAMPTZ '2026-01-02', now())"
        )


def test_a_v3_warehouse_gets_whale_provenance(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    v3_warehouse(path)
    warehouse = DuckDBWarehouse(path=str(path))
    with warehouse.connection() as conn:
        assert 4 in [v for (v,) in conn.execute("SELECT version FROM schema_version").fetchall()]
        row = conn.execute(
            "SELECT source, admitted_at = first_listed_at, discovery_dropped_at FROM whales"
        ).fetchone()
        assert row == ("registry", True, None)
        nullable = conn.execute(
            "SELECT is_nullable FROM information_schema.columns "
            "WHERE table_name = 'whales' AND column_name = 'source'"
        ).fetchone()
        assert nullable == ("NO",)
    registry = tmp_path / "whales.csv"
    registry.write_text(f"address,label,tags\n0x{'ab' * 20},old,\n")
    sync_whale_registry(warehouse, registry)
    assert [whale.address for whale in tracked_whales(warehouse)] == [f"0x{'ab' * 20}"]
