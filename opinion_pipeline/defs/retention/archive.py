"""Archive old rows to Parquet, then delete them, as one consistent step.

Order of work, all while holding the warehouse lock and inside one DuckDB transaction:

1. Remove archive files no manifest row knows (left by a run that died before committing:
   their rows were never deleted, so they would otherwise be archived twice).
2. For each table and month with rows older than the cutoff, write the rows to a temporary
   Parquet file, fsync it, and rename it into place.
3. Record each file in ``archive_manifest`` (and archived trade keys in ``archived_trades``,
   which syncs consult so an archived trade is never stored again) and delete the archived
   rows; commit.

A crash before the commit leaves every row in place and at most some orphan files, which the
next run removes before writing. A crash after it leaves nothing to redo. A rerun finds nothing
older than the cutoff and does nothing.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from opinion_pipeline.errors import UserFacingError
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse

ARCHIVED_TABLES = ("trades", "whale_activity")


class RetentionRefused(UserFacingError, ValueError):
    """The retention step was asked to do something it must not (future cutoff, delete all)."""


@dataclass
class RetentionResult:
    cutoff: datetime
    archived: dict[str, int] = field(default_factory=dict)  # table -> rows archived and deleted
    files: list[str] = field(default_factory=list)
    orphans_removed: int = 0
    files_in_manifest: int = 0


def _sql_literal(path: Path) -> str:
    """A path inside a SQL string literal: quotes doubled (a data dir such as /home/o'brien)."""
    return path.as_posix().replace("'", "''")


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def remove_orphans(conn: duckdb.DuckDBPyConnection, archive_dir: Path) -> int:
    """Delete archive files (and temporary files) the manifest does not list."""
    if not archive_dir.exists():
        return 0
    known = {row[0] for row in conn.execute("SELECT file_path FROM archive_manifest").fetchall()}
    removed = 0
    for path in archive_dir.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(archive_dir).as_posix()
        if path.suffix == ".tmp" or (path.suffix == ".parquet" and relative not in known):
            path.unlink()
            removed += 1
    return removed


def _months(conn: duckdb.DuckDBPyConnection, table: str, cutoff: datetime) -> list[str]:
    rows = conn.execute(
        f"SELECT DISTINCT strftime(created_at, '%Y-%m') FROM {table} "
        "WHERE created_at < ? ORDER BY 1",
        [cutoff],
    ).fetchall()
    return [month for (month,) in rows]


def _check_refusals(conn: duckdb.DuckDBPyConnection, cutoff: datetime, now: datetime) -> None:
    if cutoff > now:
        raise RetentionRefused(f"refusing a cutoff in the future ({cutoff.isoformat()})")
    for table in ARCHIVED_TABLES:
        total, old = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE created_at < ?) FROM {table}", [cutoff]
        ).fetchone()  # type: ignore[misc]
        if total and old == total:
            raise RetentionRefused(
                f"refusing to delete every row of {table} ({total} rows older than "
                f"{cutoff.isoformat()}); check the clock and OPINION_RETENTION_DAYS"
            )


def _archive_month(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    month: str,
    cutoff: datetime,
    archive_dir: Path,
    part_name: str,
    run_id: str | None,
) -> tuple[str, int]:
    relative = f"{table}/month={month}/{part_name}.parquet"
    final = archive_dir / relative
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():  # orphans are gone by now: this file is listed, and holds archived rows
        raise RetentionRefused(f"refusing to overwrite the archive file {relative}")
    temporary = final.with_suffix(".parquet.tmp")
    selection = (
        f"SELECT * FROM {table} WHERE created_at < $cutoff "
        f"AND strftime(created_at, '%Y-%m') = $month"
    )
    conn.execute(
        f"COPY ({selection} ORDER BY created_at) TO '{_sql_literal(temporary)}' (FORMAT PARQUET)",
        {"cutoff": cutoff, "month": month},
    )
    _fsync(temporary)
    os.replace(temporary, final)
    count, oldest, newest = conn.execute(
        f"SELECT count(*), min(created_at), max(created_at) FROM ({selection})",
        {"cutoff": cutoff, "month": month},
    ).fetchone()  # type: ignore[misc]
    conn.execute(
        "INSERT INTO archive_manifest VALUES (?, ?, ?, ?, ?, ?, ?, now(), ?)",
        [relative, table, month, count, oldest, newest, cutoff, run_id],
    )
    if table == "trades":  # so a sync that reads them again never stores them again
        conn.execute(
            "INSERT INTO archived_trades SELECT trade_key, wallet, created_at "
            f"FROM ({selection}) ON CONFLICT DO NOTHING",
            {"cutoff": cutoff, "month": month},
        )
    conn.execute(
        f"DELETE FROM {table} WHERE created_at < ? AND strftime(created_at, '%Y-%m') = ?",
        [cutoff, month],
    )
    return relative, int(count)


def run_retention(
    warehouse: DuckDBWarehouse,
    archive_dir: Path,
    *,
    cutoff: datetime,
    now: datetime,
    run_id: str | None,
) -> RetentionResult:
    """Archive then delete rows older than ``cutoff``, in one transaction under the lock."""
    with warehouse.transaction() as conn:
        result = archive_and_delete(conn, archive_dir, cutoff=cutoff, now=now, run_id=run_id)
        result.files_in_manifest = int(
            conn.execute("SELECT count(*) FROM archive_manifest").fetchone()[0]  # type: ignore[index]
        )
    return result


def archive_and_delete(
    conn: duckdb.DuckDBPyConnection,
    archive_dir: Path,
    *,
    cutoff: datetime,
    now: datetime,
    run_id: str | None,
) -> RetentionResult:
    """Archive then delete rows older than ``cutoff``. Call inside a transaction."""
    _check_refusals(conn, cutoff, now)
    result = RetentionResult(cutoff=cutoff)
    result.orphans_removed = remove_orphans(conn, archive_dir)
    # Unique per call: two runs with the same cutoff second and run id prefix (run_id None)
    # must never write the same file, or the second would overwrite archived rows.
    stamp = f"{cutoff.strftime('%Y%m%dT%H%M%S')}-{(run_id or 'manual')[:8]}"
    part_name = f"part-{stamp}-{uuid.uuid4().hex[:8]}"
    for table in ARCHIVED_TABLES:
        result.archived[table] = 0
        for month in _months(conn, table, cutoff):
            relative, count = _archive_month(
                conn, table, month, cutoff, archive_dir, part_name, run_id
            )
            result.files.append(relative)
            result.archived[table] += count
    return result
