"""Regressions for the retention bugs this suite found (see RELIABILITY.md, "Bugs found").

1. An archived trade came back: the next sync re-read it (a whale's first page reaches past the
   cutoff, or a whale whose trades were all archived looked new and was backfilled) and stored
   it again, so it was in the table and in an archive, then archived a second time.
2. A data directory with a quote in its path (/home/o'brien/data) broke the COPY statement.
3. Two runs with the same cutoff second and run id (run_id None) wrote the same file name, and
   the second overwrote rows the first had archived and deleted.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from opinion_pipeline.defs.retention.archive import archive_and_delete
from opinion_pipeline.defs.whale_registry.sync import sync_whale_registry, tracked_whales
from opinion_pipeline.defs.whale_trades.store import insert_trades
from opinion_pipeline.defs.whale_trades.sync import WhaleSyncOptions, sync_whale_trades
from opinion_pipeline.defs.whale_trades.validate import prepare_trades
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline_tests.conftest import write_whales_file
from opinion_pipeline_tests.factories import trade_row, wallet
from opinion_pipeline_tests.reliability.crash import archive_state, archive_violations
from opinion_pipeline_tests.reliability.helpers import compare_trades, fast_client

DAY = 86_400


def _retention(warehouse: DuckDBWarehouse, archive: Path, now: datetime, days: int = 7) -> None:
    with warehouse.transaction() as conn:
        archive_and_delete(
            DuckDBSession(conn), archive, cutoff=now - timedelta(days=days), now=now, run_id=None
        )


def test_archived_trades_never_come_back(api_key: str, tmp_path: Path) -> None:
    world = {"seed": 3, "wallets": 8, "markets": 30, "history_days": 14}
    with SimulatorProcess(api_key, clock_speed=0.0, rate_limit=0.0, **world) as sim:
        whales = write_whales_file(tmp_path / "whales.csv", sim.wallets())
        client = fast_client(sim, api_key, tmp_path / "limiter")
        warehouse = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
        archive = tmp_path / "archive"

        def sync() -> int:
            sync_whale_registry(warehouse, whales)
            report = sync_whale_trades(
                client, warehouse, tracked_whales(warehouse), WhaleSyncOptions()
            )
            return report.new_rows

        assert sync() > 0
        for _ in range(3):  # retention, then syncs that re-read archived trades, repeatedly
            _retention(warehouse, archive, datetime.fromtimestamp(sim.clock()["now"], timezone.utc))
            sync()
            sim.advance(6 * 3600)
            sync()
        state = archive_state(warehouse.path, archive)
        archived = set().union(*state["files"]["trades"].values())
        with warehouse.connection(read_only=True) as conn:
            stored = compare_trades(sim, conn)
            fully_archived = conn.execute(
                "SELECT count(DISTINCT wallet) FROM archived_trades "
                "WHERE wallet NOT IN (SELECT wallet FROM trades)"
            ).fetchone()[0]
    assert not archived & set(state["table_keys"]["trades"]), "archived and stored again"
    assert archived and fully_archived, "some whales had their whole history archived"
    assert [k for k, n in _counts(state).items() if n > 1] == [], "archived twice"
    assert stored["truth"] == stored["stored"] + len(archived) and not stored["extra"]


def _counts(state: dict) -> dict[str, int]:
    counts: dict[str, int] = {}
    for keys in state["files"]["trades"].values():
        for key, number in keys.items():
            counts[key] = counts.get(key, 0) + number
    return counts


def _seed(warehouse: DuckDBWarehouse, ages: list[float], owner: int) -> set[str]:
    now = int(time.time())
    batch = prepare_trades(wallet(owner), [trade_row(createdAt=int(now - a * DAY)) for a in ages])
    with warehouse.transaction() as conn:
        insert_trades(DuckDBSession(conn), batch.rows, run_id="seed", alert_usd=0)
    return set(batch.rows["trade_key"])


def test_a_quote_in_the_data_directory_is_harmless(tmp_path: Path) -> None:
    base = tmp_path / "o'brien's data"
    warehouse = DuckDBWarehouse(path=str(base / "warehouse.duckdb"))
    keys = _seed(warehouse, [1, 100, 120], owner=1)
    _retention(warehouse, base / "archive", datetime.now(timezone.utc), days=90)
    pattern = (base / "archive" / "trades" / "**" / "*.parquet").as_posix().replace("'", "''")
    archived = {
        k for (k,) in duckdb.sql(f"SELECT trade_key FROM read_parquet('{pattern}')").fetchall()
    }
    with warehouse.connection(read_only=True) as conn:
        kept = {k for (k,) in conn.execute("SELECT trade_key FROM trades").fetchall()}
    assert len(archived) == 2 and archived | kept == keys


def test_two_runs_in_the_same_second_never_overwrite_an_archive(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
    ever = {"trades": _seed(warehouse, [1, 100, 101], owner=1), "whale_activity": set()}
    ever["whale_activity"] = set(ever["trades"])
    now = datetime.now(timezone.utc)
    _retention(warehouse, tmp_path / "archive", now, days=90)
    added = _seed(warehouse, [100.5], owner=2)  # e.g. a new whale's history: same month
    ever["trades"] |= added
    ever["whale_activity"] |= added
    _retention(warehouse, tmp_path / "archive", now, days=90)  # same cutoff, same run id
    state = archive_state(warehouse.path, tmp_path / "archive")
    assert archive_violations(state, ever) == []
    assert sum(_counts(state).values()) == 3
