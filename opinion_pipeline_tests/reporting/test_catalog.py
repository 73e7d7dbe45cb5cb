"""The asset catalog explains itself, and each table's one column spec is what every layer uses.

From one declaration per table (``opinion_pipeline.tables``) come the pandera schema of the API
payload, the DuckDB DDL, the casts that load a validated frame and the catalog's column schema.
These tests hold each derivation against the real thing: DESCRIBE of the table DuckDB created,
pandera's verdict on real rows, the types DuckDB gives the load casts, and what the Definitions
carry on every asset.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from opinion_pipeline.definitions import build_definitions
from opinion_pipeline.defs.markets.tables import MARKETS
from opinion_pipeline.defs.markets.validate import prepare_markets
from opinion_pipeline.defs.run_history.prune import archive_frame, write_parquet
from opinion_pipeline.defs.run_history.tables import RUN_HISTORY
from opinion_pipeline.defs.whale_trades.tables import TRADES
from opinion_pipeline.defs.whale_trades.validate import prepare_trades
from opinion_pipeline.reporting import catalog
from opinion_pipeline.tables import Table
from opinion_pipeline.validation.frames import validate_rows
from opinion_pipeline.validation.schema import payload_schema
from opinion_pipeline.warehouse.catalog import table as warehouse_table
from opinion_pipeline.warehouse.catalog import warehouse_tables
from opinion_pipeline.warehouse.ddl import load_select
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline_tests.factories import market_row, trade_row, wallet

pytestmark = pytest.mark.unit

GROUPS = {"ingest", "analytics", "maintenance"}
ASSETS = {
    "markets",
    "whale_registry",
    "whale_candidates",
    "whale_trades",
    "whale_activity",
    "whale_stats",
    "trades_archive",
    "pipeline_health",
    "whale_status",
    "sync_statistics",
    "run_history_archive",
    "whale_positions",
    "trade_alerts",
    "position_changes",
    "whale_pnl",
    "whale_skill",
    "market_flows",
}
# Assets whose data is a warehouse table: the UI's columns must be that table's.
ASSET_TABLES = {
    "markets": "markets",
    "whale_registry": "whales",
    "whale_trades": "trades",
    "whale_activity": "whale_activity",
    "whale_stats": "whale_stats",
    "trades_archive": "archive_manifest",
    "whale_status": "whales",
    "whale_positions": "whale_positions",
    "position_changes": "position_changes",
    "whale_pnl": "whale_pnl",
    "whale_skill": "whale_skill",
    "market_flows": "market_flows",
    "trade_alerts": "alert_ledger",
}
# Payload tables: their validated frames, built from real rows by the datasets' own code.
PAYLOAD_FRAMES = {
    "markets": lambda: prepare_markets([market_row(7), market_row(8)]).rows,
    "trades": lambda: prepare_trades(wallet(1), [trade_row(), trade_row()]).rows,
}

Shape = list[tuple[str, str, bool, bool]]


def spec_shape(table: Table) -> Shape:
    return [(c.name, c.type, c.nullable, c.name in table.key) for c in table.columns]


def schema_shape(schema: dg.TableSchema) -> Shape:
    """(name, type, nullable, unique) per column of a catalog column schema."""
    return [(c.name, c.type, c.constraints.nullable, c.constraints.unique) for c in schema.columns]


def duckdb_shape(conn: duckdb.DuckDBPyConnection, relation: str, key: tuple[str, ...]) -> Shape:
    """The same, read with DESCRIBE from DuckDB. ``key`` marks the declared key (a PRIMARY KEY
    shows as PRI; the trades key is kept by its writer, so DESCRIBE cannot show it)."""
    rows = conn.execute(f"DESCRIBE {relation}").fetchall()
    return [
        (name, kind, null == "YES", pk == "PRI" or name in key) for name, kind, null, pk, *_ in rows
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
        problems.append(f"{name}: no dagster/column_schema (use reporting.catalog.column_schema)")
    else:
        problems += [
            f"{name}.{column.name}: no description (add it to the column's spec)"
            for column in schema.columns
            if not (column.description or "").strip() or not column.type
        ]
    return problems


@pytest.fixture(scope="module")
def specs() -> dict[str, dg.AssetSpec]:
    return {s.key.to_user_string(): s for s in build_definitions().resolve_all_asset_specs()}


def test_every_asset_is_catalogued(specs: dict[str, dg.AssetSpec]) -> None:
    assert set(specs) == ASSETS
    problems = [problem for spec in specs.values() for problem in catalog_problems(spec)]
    assert not problems, "\n".join(problems)


def test_catalog_check_reports_a_bare_asset() -> None:
    """The check above can fail: an asset with nothing but a name fails on every count."""
    problems = catalog_problems(dg.AssetSpec("bare", group_name="misc"))
    assert len(problems) == 5, problems


@pytest.mark.parametrize("table", warehouse_tables(), ids=lambda table: table.name)
def test_the_ddl_creates_what_the_spec_declares(tmp_path: Path, table: Table) -> None:
    """Spec -> DDL -> DuckDB -> DESCRIBE gives back the spec: names, order, types, nulls, key."""
    with DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb")).connection() as conn:
        assert duckdb_shape(conn, table.name, table.key) == spec_shape(table)
        primary = conn.execute(
            "SELECT count(*) FROM duckdb_constraints() "
            "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'",
            [table.name],
        ).fetchone()[0]
    assert primary == (1 if table.key_kind == "primary" else 0)


def test_a_drifted_table_is_caught(tmp_path: Path) -> None:
    """A column added to the real table (and not to the spec) makes the shapes differ."""
    stats = warehouse_table("whale_stats")
    with DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb")).connection() as conn:
        conn.execute("ALTER TABLE whale_stats ADD COLUMN sharpe DOUBLE")
        real = duckdb_shape(conn, "whale_stats", stats.key)
    assert spec_shape(stats) != real
    assert real[-1] == ("sharpe", "DOUBLE", True, False)


@pytest.mark.parametrize("table", [MARKETS, TRADES], ids=lambda table: table.name)
def test_the_payload_schema_checks_exactly_the_sourced_columns(table: Table) -> None:
    schema = payload_schema(table)
    sourced = [c.source.field for c in table.columns if c.source is not None]
    assert list(schema.columns) == sourced
    row = (market_row(7) if table is MARKETS else trade_row()) | {"unrelated": object()}
    for column in table.columns:
        if column.source is None or column.source.nullable:
            continue
        broken = {k: v for k, v in row.items() if k != column.source.field}
        _valid, rejects = validate_rows([broken], schema)
        assert len(rejects) == 1, column.name
        assert f"{column.source.field}: missing" in rejects[0].reason


@pytest.mark.parametrize("name", sorted(PAYLOAD_FRAMES))
def test_the_load_casts_give_the_table_types(name: str) -> None:
    """Casting a validated frame with load_select yields exactly the table's frame columns."""
    table = warehouse_table(name)
    frame = PAYLOAD_FRAMES[name]()
    assert list(frame.columns) == table.frame_columns
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.register("batch", frame)
        conn.execute(f"CREATE TABLE loaded AS SELECT {load_select(table)} FROM batch")
        loaded = {name: kind for name, kind, *_ in conn.execute("DESCRIBE loaded").fetchall()}
    declared = {c.name: c.type for c in table.columns if c.in_frame}
    integer_like = {"SMALLINT", "INTEGER"}  # loaded as BIGINT, narrowed by the INSERT
    assert set(loaded) == set(declared)
    for column, kind in declared.items():
        assert loaded[column] == ("BIGINT" if kind in integer_like else kind), column


@pytest.mark.parametrize("asset, table", sorted(ASSET_TABLES.items()))
def test_assets_show_their_tables_spec(
    specs: dict[str, dg.AssetSpec], asset: str, table: str
) -> None:
    spec_table = warehouse_table(table)
    schema = specs[asset].metadata[catalog.COLUMN_SCHEMA_KEY]
    assert schema_shape(schema) == spec_shape(spec_table)
    assert [c.description for c in schema.columns] == [c.description for c in spec_table]
    assert schema.constraints is not None
    assert schema.constraints.other[0].startswith(
        "unique key" if spec_table.key_kind == "writer" else "primary key"
    )


def test_run_history_schema_matches_the_parquet_written(tmp_path: Path) -> None:
    target = tmp_path / "runs.parquet"
    write_parquet(archive_frame([], datetime.now(timezone.utc)), target)
    with duckdb.connect() as conn:
        real = duckdb_shape(conn, f"SELECT * FROM read_parquet('{target.as_posix()}')", ())
    assert [(n, t) for n, t, *_ in spec_shape(RUN_HISTORY)] == [(n, t) for n, t, *_ in real]


def test_descriptions_come_from_the_spec() -> None:
    columns = {c.name: c for c in catalog.table_schema(TRADES).columns}
    assert "identical twin fill" in (columns["occurrence"].description or "")
    assert columns["usd_value"].type == "DECIMAL(38,18)"
    assert columns["created_at"].type == "TIMESTAMP WITH TIME ZONE"
    assert not columns["created_at"].constraints.nullable
    assert columns["trade_key"].constraints.unique
