"""The asset catalog explains itself: every asset is described, owned, typed and grouped, and
its column schema is the one DuckDB (or the Parquet writer) actually produces."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from opinion_pipeline.assets import catalog
from opinion_pipeline.definitions import build_definitions
from opinion_pipeline.operations.run_history import archive_frame, write_parquet
from opinion_pipeline.resources.warehouse import DuckDBWarehouse
from opinion_pipeline.warehouse.schema import NATURAL_KEYS, TABLES

GROUPS = {"ingest", "analytics", "maintenance"}
# Assets whose data is a warehouse table: the UI's columns must be that table's.
ASSET_TABLES = {
    "markets": "markets",
    "whale_registry": "whales",
    "whale_trades": "trades",
    "whale_activity": "whale_activity",
    "whale_stats": "whale_stats",
    "trades_archive": "archive_manifest",
    "whale_status": "whales",
}

Shape = list[tuple[str, str, bool, bool]]


def schema_shape(schema: dg.TableSchema) -> Shape:
    """(name, type, nullable, unique) per column: what must agree with the real table."""
    return [(c.name, c.type, c.constraints.nullable, c.constraints.unique) for c in schema.columns]


def duckdb_shape(conn: duckdb.DuckDBPyConnection, relation: str) -> Shape:
    """The same, read with DESCRIBE from DuckDB (key = PRI, or the table's declared natural key,
    which its writer keeps unique without an index)."""
    natural = set(NATURAL_KEYS.get(relation, ()))
    rows = conn.execute(f"DESCRIBE {relation}").fetchall()
    return [
        (name, kind, null == "YES", key == "PRI" or name in natural)
        for name, kind, null, key, *_ in rows
    ]


def catalog_problems(spec: dg.AssetSpec) -> list[str]:
    """What a user browsing the catalog would find missing on this asset."""
    name = spec.key.to_user_string()
    problems = []
    if not (spec.description or "").strip():
        problems.append(f"{name}: no description")
    if not spec.owners:
        problems.append(f"{name}: no owners")
    if not spec.kinds:
        problems.append(f"{name}: no kinds")
    if spec.group_name not in GROUPS:
        problems.append(f"{name}: group {spec.group_name!r} not in {sorted(GROUPS)}")
    schema = spec.metadata.get(catalog.COLUMN_SCHEMA_KEY)
    if not isinstance(schema, dg.TableSchema) or not schema.columns:
        problems.append(f"{name}: no dagster/column_schema (use assets/catalog.column_schema)")
    else:
        problems += [
            f"{name}.{column.name}: no description (add it to catalog.DESCRIPTIONS)"
            for column in schema.columns
            if not (column.description or "").strip() or not column.type
        ]
    return problems


def test_every_asset_is_catalogued() -> None:
    specs = list(build_definitions().resolve_all_asset_specs())
    assert len(specs) >= 6
    problems = [problem for spec in specs for problem in catalog_problems(spec)]
    assert not problems, "\n".join(problems)


def test_catalog_check_reports_a_bare_asset() -> None:
    """The check above can fail: an asset with nothing but a name fails on every count."""
    problems = catalog_problems(dg.AssetSpec("bare", group_name="misc"))
    assert len(problems) == 5, problems


def test_column_schemas_match_the_warehouse_tables(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
    with warehouse.connection(read_only=False) as conn:
        for table in TABLES:
            assert schema_shape(catalog.table_schema(table)) == duckdb_shape(conn, table), table


def test_a_drifted_table_is_caught(tmp_path: Path) -> None:
    """A column added to the real table (and not to the DDL) makes the shapes differ."""
    warehouse = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
    with warehouse.connection() as conn:
        conn.execute("ALTER TABLE whale_stats ADD COLUMN sharpe DOUBLE")
        real = duckdb_shape(conn, "whale_stats")
    assert schema_shape(catalog.table_schema("whale_stats")) != real
    assert real[-1] == ("sharpe", "DOUBLE", True, False)


@pytest.mark.parametrize("asset, table", sorted(ASSET_TABLES.items()))
def test_assets_show_their_table(asset: str, table: str) -> None:
    spec = next(
        s for s in build_definitions().resolve_all_asset_specs() if s.key.to_user_string() == asset
    )
    schema = spec.metadata[catalog.COLUMN_SCHEMA_KEY]
    assert schema_shape(schema) == schema_shape(catalog.table_schema(table))
    assert schema.constraints is not None
    assert schema.constraints.other[0].startswith(
        "unique key" if table in NATURAL_KEYS else "primary key"
    )


def test_run_history_schema_matches_the_parquet_written(tmp_path: Path) -> None:
    target = tmp_path / "runs.parquet"
    write_parquet(archive_frame([], datetime.now(timezone.utc)), target)
    with duckdb.connect() as conn:
        real = duckdb_shape(conn, f"SELECT * FROM read_parquet('{target.as_posix()}')")
    declared = schema_shape(catalog.table_schema(catalog.RUN_HISTORY))
    assert [(n, t) for n, t, *_ in declared] == [(n, t) for n, t, *_ in real]


def test_descriptions_carry_the_ddl_comments() -> None:
    columns = {c.name: c for c in catalog.table_schema("trades").columns}
    assert "identical twin fill" in (columns["occurrence"].description or "")
    assert columns["usd_value"].type == "DECIMAL(38,18)"
    assert columns["created_at"].type == "TIMESTAMP WITH TIME ZONE"
    assert not columns["created_at"].constraints.nullable
    assert columns["trade_key"].constraints.unique
