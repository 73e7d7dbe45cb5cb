"""Parquet files outside the warehouse: directories of archive files the pipeline writes.

The run-history archive keeps Dagster runs as Parquet files rather than warehouse rows. DuckDB
is the engine that reads and writes them here, so dataset folders need not know it: they hand
a frame and the column types, or ask for one column across every finished file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pandas as pd


def _literal(path: Path | str) -> str:
    return Path(path).as_posix().replace("'", "''")


def column_values(root: Path, column: str) -> set:
    """Every value of ``column`` across the finished ``*.parquet`` files under ``root``.

    Temporary files (named ``.<name>.tmp``) are not read, so a crash mid-write counts nothing.
    """
    if not root.exists() or not any(root.rglob("*.parquet")):
        return set()
    with duckdb.connect() as conn:
        rows = conn.execute(
            f"SELECT {column} FROM read_parquet('{_literal(root / '**' / '*.parquet')}', "
            "union_by_name = true)"
        ).fetchall()
    return {value for (value,) in rows}


def write_checked(frame: pd.DataFrame, target: Path, column_types: Mapping[str, str]) -> None:
    """Write ``frame`` cast to ``column_types`` beside ``target``, count it back, then rename.

    A reader never sees a half-written file: the rename is the commit.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.register("frame_to_write", frame)
        casts = ", ".join(
            f"CAST({name} AS {kind}) AS {name}" for name, kind in column_types.items()
        )
        conn.execute(
            f"COPY (SELECT {casts} FROM frame_to_write) TO '{_literal(temporary)}' (FORMAT PARQUET)"
        )
        written = conn.execute(f"SELECT count(*) FROM read_parquet('{_literal(temporary)}')")
        (count,) = written.fetchone()  # type: ignore[misc]
    if count != len(frame):
        temporary.unlink(missing_ok=True)
        raise OSError(f"{temporary} holds {count} rows, expected {len(frame)}")
    os.replace(temporary, target)
