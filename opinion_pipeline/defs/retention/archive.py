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

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from opinion_pipeline.defs.retention.tables import ARCHIVE_MANIFEST
from opinion_pipeline.defs.whale_trades.tables import ARCHIVED_TRADES, TRADES, WHALE_ACTIVITY
from opinion_pipeline.errors import UserFacingError
from opinion_pipeline.tables import Table
from opinion_pipeline.warehouse.port import Warehouse, WarehouseSession

# Each archived table, with the ledger that remembers its archived keys (None: no ledger).
ARCHIVED: tuple[tuple[Table, Table | None], ...] = (
    (TRADES, ARCHIVED_TRADES),  # so a sync that reads them again never stores them again
    (WHALE_ACTIVITY, None),
)
ARCHIVED_TABLES = tuple(table.name for table, _ in ARCHIVED)


class RetentionRefused(UserFacingError, ValueError):
    """The retention step was asked to do something it must not (future cutoff, delete all)."""


@dataclass
class RetentionResult:
    cutoff: datetime
    archived: dict[str, int] = field(default_factory=dict)  # table -> rows archived and deleted
    files: list[str] = field(default_factory=list)
    orphans_removed: int = 0
    files_in_manifest: int = 0


def remove_orphans(session: WarehouseSession, archive_dir: Path) -> int:
    """Delete archive files (and temporary files) the manifest does not list."""
    if not archive_dir.exists():
        return 0
    known = {path for (path,) in session.query("SELECT file_path FROM archive_manifest")}
    removed = 0
    for path in archive_dir.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(archive_dir).as_posix()
        if path.suffix == ".tmp" or (path.suffix == ".parquet" and relative not in known):
            path.unlink()
            removed += 1
    return removed


def _months(session: WarehouseSession, table: Table, cutoff: datetime) -> list[str]:
    rows = session.query(
        f"SELECT DISTINCT strftime(created_at, '%Y-%m') FROM {table.name} "
        "WHERE created_at < $cutoff ORDER BY 1",
        {"cutoff": cutoff},
    )
    return [month for (month,) in rows]


def _check_refusals(session: WarehouseSession, cutoff: datetime, now: datetime) -> None:
    if cutoff > now:
        raise RetentionRefused(f"refusing a cutoff in the future ({cutoff.isoformat()})")
    for table, _ledger in ARCHIVED:
        ((total, old),) = session.query(
            f"SELECT count(*), count(*) FILTER (WHERE created_at < $cutoff) FROM {table.name}",
            {"cutoff": cutoff},
        )
        if total and old == total:
            raise RetentionRefused(
                f"refusing to delete every row of {table.name} ({total} rows older than "
                f"{cutoff.isoformat()}); check the clock and OPINION_RETENTION_DAYS"
            )


def _archive_month(
    session: WarehouseSession,
    archived: tuple[Table, Table | None],
    month: str,
    cutoff: datetime,
    archive_dir: Path,
    part_name: str,
    run_id: str | None,
) -> tuple[str, int]:
    table, ledger = archived
    relative = f"{table.name}/month={month}/{part_name}.parquet"
    final = archive_dir / relative
    if final.exists():  # orphans are gone by now: this file is listed, and holds archived rows
        raise RetentionRefused(f"refusing to overwrite the archive file {relative}")
    part = session.archive_then_delete(
        table, older_than=cutoff, month=month, target=final, ledger=ledger
    )
    session.execute(
        f"INSERT INTO {ARCHIVE_MANIFEST.name} VALUES "
        "($path, $table, $month, $rows, $oldest, $newest, $cutoff, now(), $run_id)",
        {
            "path": relative,
            "table": table.name,
            "month": month,
            "rows": part.rows,
            "oldest": part.oldest,
            "newest": part.newest,
            "cutoff": cutoff,
            "run_id": run_id,
        },
    )
    return relative, part.rows


def run_retention(
    warehouse: Warehouse,
    archive_dir: Path,
    *,
    cutoff: datetime,
    now: datetime,
    run_id: str | None,
) -> RetentionResult:
    """Archive then delete rows older than ``cutoff``, in one transaction under the lock."""
    with warehouse.session() as session:
        result = archive_and_delete(session, archive_dir, cutoff=cutoff, now=now, run_id=run_id)
        result.files_in_manifest = session.count(ARCHIVE_MANIFEST)
    return result


def archive_and_delete(
    session: WarehouseSession,
    archive_dir: Path,
    *,
    cutoff: datetime,
    now: datetime,
    run_id: str | None,
) -> RetentionResult:
    """Archive then delete rows older than ``cutoff``. Call inside a transaction."""
    _check_refusals(session, cutoff, now)
    result = RetentionResult(cutoff=cutoff)
    result.orphans_removed = remove_orphans(session, archive_dir)
    # Unique per call: two runs with the same cutoff second and run id prefix (run_id None)
    # must never write the same file, or the second would overwrite archived rows.
    stamp = f"{cutoff.strftime('%Y%m%dT%H%M%S')}-{(run_id or 'manual')[:8]}"
    part_name = f"part-{stamp}-{uuid.uuid4().hex[:8]}"
    for archived in ARCHIVED:
        name = archived[0].name
        result.archived[name] = 0
        for month in _months(session, archived[0], cutoff):
            relative, count = _archive_month(
                session, archived, month, cutoff, archive_dir, part_name, run_id
            )
            result.files.append(relative)
            result.archived[name] += count
    return result
