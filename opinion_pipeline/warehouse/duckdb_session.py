"""The DuckDB adapter of the warehouse port (``warehouse.port.WarehouseSession``).

Everything DuckDB-specific that datasets need is here: frames registered as relations and cast
to their tables' types, upserts, the anti-join that inserts only new keys, COPY to Parquet.

Why ``insert_new`` works the way it does (BENCHMARKS.md, "Warehouse writes"): most syncs
re-read rows already stored (every whale's first page), so the keys alone are checked first and
a batch with nothing new costs one key scan; only the new rows are then cast and inserted
straight from the frame, and a key repeated within the batch is dropped beforehand, so the
insert needs no ON CONFLICT (and ``trades`` no PRIMARY KEY index).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from opinion_pipeline.tables import Table
from opinion_pipeline.validation import Reject
from opinion_pipeline.warehouse.ddl import load_expression
from opinion_pipeline.warehouse.port import (
    NOW,
    ArchivedPart,
    Inserted,
    KeyExists,
    Upserted,
    Value,
)


def _sql_literal(path: Path) -> str:
    """A path inside a SQL string literal: quotes doubled (a data dir such as /home/o'brien)."""
    return path.as_posix().replace("'", "''")


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


class DuckDBSession:
    """One open DuckDB connection, as the port's session (the warehouse resource opens it)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn

    # -- frames ----------------------------------------------------------------------------------

    @contextmanager
    def _registered(self, name: str, frame: pd.DataFrame) -> Iterator[str]:
        self.conn.register(name, frame)
        try:
            yield name
        finally:
            self.conn.unregister(name)

    def _writer_values(
        self, table: Table, values: Mapping[str, Value], params: list[Any]
    ) -> list[str]:
        """SQL for columns the writer sets: NOW, KeyExists, or a constant (as a parameter)."""
        expressions = []
        for column, value in values.items():
            if value is NOW:
                expressions.append("now()")
            elif isinstance(value, KeyExists):
                kind = table.column(value.column).type
                expressions.append(
                    f"CAST({value.column} AS {kind}) IN "
                    f"(SELECT {value.table_column} FROM {value.table})"
                )
            else:
                params.append(value)
                expressions.append(f"CAST(? AS {table.column(column).type})")
        return expressions

    @staticmethod
    def _frame_columns(table: Table, rows: pd.DataFrame) -> list[str]:
        return [name for name in table.column_names if name in rows.columns]

    # -- writes ----------------------------------------------------------------------------------

    def upsert(
        self,
        table: Table,
        rows: pd.DataFrame,
        *,
        on_insert: Mapping[str, Value] | None = None,
        always: Mapping[str, Value] | None = None,
        changed: Sequence[str] = (),
    ) -> Upserted:
        on_insert, always = dict(on_insert or {}), dict(always or {})
        unique = rows.drop_duplicates(subset=list(table.key), keep="first")
        columns = self._frame_columns(table, unique)
        casts = ", ".join(load_expression(table.column(name)) for name in columns)
        params: list[Any] = []
        written = {**on_insert, **always}
        values = self._writer_values(table, written, params)
        join = " AND ".join(
            f"t.{key} = CAST(b.{key} AS {table.column(key).type})" for key in table.key
        )
        differ = " OR ".join(
            f"t.{name} IS DISTINCT FROM CAST(b.{name} AS {table.column(name).type})"
            for name in changed
        )
        updates = [f"{name} = excluded.{name}" for name in columns if name not in table.key]
        updates += [f"{name} = excluded.{name}" for name in always]
        with self._registered("upsert_batch", unique):
            existing, differing = self.conn.execute(
                f"SELECT count(*), count(*) FILTER (WHERE {differ or 'false'}) "
                f"FROM upsert_batch b JOIN {table.name} t ON {join}"
            ).fetchone()  # type: ignore[misc]
            select = ", ".join([casts, *values]) if values else casts
            self.conn.execute(
                f"INSERT INTO {table.name} ({', '.join([*columns, *written])}) "
                f"SELECT {select} FROM upsert_batch "
                f"ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {', '.join(updates)}",
                params,
            )
        return Upserted(
            inserted=len(unique) - int(existing), updated=int(existing), changed=int(differing)
        )

    def insert_new(
        self,
        table: Table,
        rows: pd.DataFrame,
        *,
        known_in: Sequence[Table] = (),
        always: Mapping[str, Value] | None = None,
    ) -> Inserted:
        always = dict(always or {})
        if len(table.key) != 1:
            raise ValueError(f"insert_new needs a one-column key; {table.name} has {table.key}")
        columns = self._frame_columns(table, rows)
        if rows.empty:
            return Inserted(rows[columns], skipped=0, true_counts={})
        fresh = self._not_stored(table, rows[columns], known_in)
        flags = [name for name, value in always.items() if isinstance(value, KeyExists)]
        if fresh.empty:
            return Inserted(fresh, skipped=len(rows), true_counts=dict.fromkeys(flags, 0))
        params: list[Any] = []
        values = self._writer_values(table, always, params)
        casts = ", ".join(load_expression(table.column(name)) for name in columns)
        with self._registered("insert_batch", fresh):
            counts = {}
            for name in flags:
                flag_sql = self._writer_values(table, {name: always[name]}, [])[0]
                counts[name] = int(
                    self.conn.execute(
                        f"SELECT count(*) FILTER (WHERE {flag_sql}) FROM insert_batch"
                    ).fetchone()[0]  # type: ignore[index]
                )
            select = ", ".join([casts, *values]) if values else casts
            self.conn.execute(
                f"INSERT INTO {table.name} ({', '.join([*columns, *always])}) "
                f"SELECT {select} FROM insert_batch",
                params,
            )
        return Inserted(fresh, skipped=len(rows) - len(fresh), true_counts=counts)

    def _not_stored(
        self, table: Table, rows: pd.DataFrame, known_in: Sequence[Table]
    ) -> pd.DataFrame:
        """The rows whose key is stored nowhere, first of any repeated key.

        Only positions travel back from DuckDB (no strings), and repeats are looked for among
        the new rows only, so a batch of rows already stored costs one anti-join on the key.
        """
        (key,) = table.key
        candidates = pd.DataFrame({key: rows[key].to_numpy(), "position": np.arange(len(rows))})
        anti = " ".join(f"ANTI JOIN {other.name} USING ({key})" for other in (table, *known_in))
        with self._registered("batch_keys", candidates):
            positions = self.conn.execute(f"SELECT position FROM batch_keys {anti}").fetchnumpy()[
                "position"
            ]
        fresh = rows
        if len(positions) < len(rows):
            fresh = rows.iloc[np.sort(np.asarray(positions))]
        repeated = fresh[key].duplicated(keep="first").to_numpy()
        return fresh[~repeated] if repeated.any() else fresh

    def quarantine(
        self, entity: str, rejects: Sequence[tuple[str | None, Reject]], *, run_id: str | None
    ) -> int:
        if not rejects:
            return 0
        raws = [reject.raw_json() for _, reject in rejects]
        frame = pd.DataFrame(
            {
                "quarantine_key": [
                    hashlib.sha256(f"{entity}|{wallet}|{raw}".encode()).hexdigest()[:32]
                    for (wallet, _), raw in zip(rejects, raws, strict=True)
                ],
                "wallet": [wallet for wallet, _ in rejects],
                "reason": [reject.reason for _, reject in rejects],
                "raw_json": raws,
            }
        ).drop_duplicates(subset="quarantine_key")
        with self._registered("rejects", frame):
            inserted = self.conn.execute(
                """
                INSERT INTO quarantine
                    (quarantine_key, entity, wallet, reason, raw_json, first_seen_at, run_id)
                SELECT quarantine_key, ?, wallet, reason, raw_json, now(), ? FROM rejects
                ON CONFLICT (quarantine_key) DO NOTHING
                """,
                [entity, run_id],
            ).fetchone()[0]  # type: ignore[index]
        return int(inserted)

    def archive_then_delete(
        self,
        table: Table,
        *,
        older_than: datetime,
        month: str,
        target: Path,
        ledger: Table | None = None,
        time_column: str = "created_at",
    ) -> ArchivedPart:
        selection = (
            f"SELECT * FROM {table.name} WHERE {time_column} < $cutoff "
            f"AND strftime({time_column}, '%Y-%m') = $month"
        )
        params = {"cutoff": older_than, "month": month}
        temporary = target.with_suffix(".parquet.tmp")
        target.parent.mkdir(parents=True, exist_ok=True)
        self.conn.execute(
            f"COPY ({selection} ORDER BY {time_column}) TO '{_sql_literal(temporary)}' "
            "(FORMAT PARQUET)",
            params,
        )
        _fsync(temporary)
        os.replace(temporary, target)
        count, oldest, newest = self.conn.execute(
            f"SELECT count(*), min({time_column}), max({time_column}) FROM ({selection})", params
        ).fetchone()  # type: ignore[misc]
        if ledger is not None:  # so a sync that reads them again never stores them again
            self.conn.execute(
                f"INSERT INTO {ledger.name} SELECT {', '.join(ledger.column_names)} "
                f"FROM ({selection}) ON CONFLICT DO NOTHING",
                params,
            )
        self.conn.execute(
            f"DELETE FROM {table.name} WHERE {time_column} < $cutoff "
            f"AND strftime({time_column}, '%Y-%m') = $month",
            params,
        )
        return ArchivedPart(target.name, int(count), oldest, newest)

    # -- reads -----------------------------------------------------------------------------------

    def watermarks(self, tables: Sequence[Table], *, by: str, column: str) -> dict[Any, int]:
        union = " UNION ALL ".join(f"SELECT {by}, {column} FROM {table.name}" for table in tables)
        rows = self.conn.execute(
            f"SELECT {by}, CAST(epoch(max({column})) AS BIGINT) FROM ({union}) GROUP BY {by}"
        ).fetchall()
        return {key: int(newest) for key, newest in rows}

    def count(self, table: Table | str) -> int:
        name = table if isinstance(table, str) else table.name
        return int(self.conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0])  # type: ignore[index]

    def table_names(self) -> set[str]:
        rows = self.conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
        ).fetchall()
        return {name for (name,) in rows}

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        return self.conn.execute(sql, dict(params or {})).fetchall()

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        result = self.conn.execute(sql, dict(params or {})).fetchone()
        return int(result[0]) if result and isinstance(result[0], int) else 0

    def frame(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        return self.conn.execute(sql, dict(params or {})).df()
