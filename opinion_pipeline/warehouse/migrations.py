"""Bring a warehouse made by an older version of the pipeline up to the current schema.

``schema_version`` holds one row per version applied. A new warehouse gets the current schema
straight from the DDL and is recorded as such; an older one runs each missing step, in order,
each in its own transaction with its version row, so a crash leaves it at a version it fully
has. Steps must be safe to run on a warehouse of any size the pipeline can produce.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from opinion_pipeline.warehouse.schema import create_statement, primary_key_columns


class SchemaVersionError(RuntimeError):
    """The warehouse was written by a newer version of the pipeline than this one."""


def _trades_without_primary_key(conn: duckdb.DuckDBPyConnection) -> None:
    """v2: ``trades`` keeps its natural key without a PRIMARY KEY index (see schema.py)."""
    if not primary_key_columns(conn, "trades"):
        return
    conn.execute("ALTER TABLE trades RENAME TO trades_v1")
    conn.execute(create_statement("trades"))
    conn.execute("INSERT INTO trades SELECT * FROM trades_v1")
    conn.execute("DROP TABLE trades_v1")


STEPS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {
    2: _trades_without_primary_key,
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
