"""Create the warehouse's tables, and bring one made by an older pipeline up to date.

Schema creation lives here with the migrations: :func:`ensure_schema` creates what is missing
from the catalog's column specs, then migrates. ``schema_version`` holds one row per version
applied. A new warehouse gets the current schema straight from the specs and is recorded as
such; an older one runs each missing step, in order,
each in its own transaction with its version row, so a crash leaves it at a version it fully
has. Steps must be safe to run on a warehouse of any size the pipeline can produce.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import duckdb

from opinion_pipeline.tables import Table
from opinion_pipeline.warehouse.catalog import table as catalog_table
from opinion_pipeline.warehouse.ddl import create_statement
from opinion_pipeline.warehouse.versions import SCHEMA_VERSION


class SchemaVersionError(RuntimeError):
    """The warehouse was written by a newer version of the pipeline than this one."""


def ensure_schema(conn: duckdb.DuckDBPyConnection, tables: Sequence[Table]) -> None:
    """Create what is missing and migrate an older warehouse; two small queries when up to date."""
    conn.execute("SET TimeZone = 'UTC'")
    if up_to_date(conn, tables):
        return
    conn.execute(warehouse_ddl(tables))
    migrate(conn, SCHEMA_VERSION)


def up_to_date(conn: duckdb.DuckDBPyConnection, tables: Sequence[Table]) -> bool:
    """Every table exists and the current version is recorded: the DDL would change nothing.

    Every write session passes here (a dozen per whale-sync run); running the whole DDL, one
    CREATE TABLE IF NOT EXISTS per table, cost 25-45 ms a session (BENCHMARKS.md "Orchestration").
    """
    names = [table.name for table in tables]
    (found,) = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name IN "
        "(SELECT unnest($names))",
        {"names": names},
    ).fetchone()  # type: ignore[misc]
    return found == len(set(names)) and applied_version(conn) == SCHEMA_VERSION


def warehouse_ddl(tables: Sequence[Table]) -> str:
    return ";\n\n".join(create_statement(table) for table in tables) + ";\n"


def primary_key_columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of ``table``'s PRIMARY KEY as DuckDB has it (empty when it has none)."""
    rows = conn.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() "
        "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'",
        [table],
    ).fetchall()
    return [name for (names,) in rows for name in names]


def _rebuild_without_primary_key(
    conn: duckdb.DuckDBPyConnection, table: str, from_version: int
) -> None:
    """Recreate ``table`` from its tables.py spec (no PRIMARY KEY index), keeping every row; the
    old table is ``<table>_v<from_version>`` until the copy is done."""
    if not primary_key_columns(conn, table):
        return
    old = f"{table}_v{from_version}"
    conn.execute(f"ALTER TABLE {table} RENAME TO {old}")
    conn.execute(create_statement(catalog_table(table)))
    conn.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    conn.execute(f"DROP TABLE {old}")


def _trades_without_primary_key(conn: duckdb.DuckDBPyConnection) -> None:
    """v2: ``trades`` keeps its natural key without a PRIMARY KEY index (its tables.py)."""
    _rebuild_without_primary_key(conn, "trades", from_version=1)


def _quarantine_resolution(conn: duckdb.DuckDBPyConnection) -> None:
    """v3: quarantine rows can be marked resolved (read valid later), with the row they became."""
    conn.execute("ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS resolved_at TIMESTAMPTZ")
    conn.execute("ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS resolved_to VARCHAR")


def _whale_provenance(conn: duckdb.DuckDBPyConnection) -> None:
    """v4: whales record where they came from (registry file or discovery) and when they were
    admitted; a discovered whale can be marked dropped. Existing whales all came from the file."""
    conn.execute("ALTER TABLE whales ADD COLUMN IF NOT EXISTS source VARCHAR DEFAULT 'registry'")
    conn.execute("UPDATE whales SET source = 'registry' WHERE source IS NULL")
    conn.execute("ALTER TABLE whales ALTER COLUMN source SET NOT NULL")
    conn.execute("ALTER TABLE whales ADD COLUMN IF NOT EXISTS admitted_at TIMESTAMPTZ")
    conn.execute("UPDATE whales SET admitted_at = first_listed_at WHERE admitted_at IS NULL")
    conn.execute("ALTER TABLE whales ADD COLUMN IF NOT EXISTS discovery_dropped_at TIMESTAMPTZ")


def _position_pnl_without_primary_key(conn: duckdb.DuckDBPyConnection) -> None:
    """v5: ``whale_position_pnl`` keeps its key without a PRIMARY KEY index (its tables.py)."""
    _rebuild_without_primary_key(conn, "whale_position_pnl", from_version=4)


STEPS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {
    2: _trades_without_primary_key,
    3: _quarantine_resolution,
    4: _whale_provenance,
    5: _position_pnl_without_primary_key,
}


def applied_version(conn: duckdb.DuckDBPyConnection) -> int | None:
    """The newest version recorded, or None for a warehouse the DDL has just created."""
    return conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]  # type: ignore[index]


def migrate(conn: duckdb.DuckDBPyConnection, target: int) -> None:
    """Apply the steps between the warehouse's version and ``target`` (outside a transaction)."""
    current = applied_version(conn)
    if current == target:
        return
    if current is None:
        _record(conn, target)
        return
    if current > target:
        raise SchemaVersionError(
            f"the warehouse is at schema version {current}, newer than this pipeline's "
            f"{target}: upgrade opinion-pipeline, or point OPINION_WAREHOUSE_PATH elsewhere"
        )
    for version in range(current + 1, target + 1):
        conn.execute("BEGIN TRANSACTION")
        try:
            STEPS[version](conn)
            _record(conn, version)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def _record(conn: duckdb.DuckDBPyConnection, version: int) -> None:
    conn.execute("INSERT INTO schema_version VALUES (?, now()) ON CONFLICT DO NOTHING", [version])
