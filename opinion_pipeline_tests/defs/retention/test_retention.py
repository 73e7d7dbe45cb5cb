"""Retention: archive to Parquet, then delete, with exact row accounting; reruns are harmless."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from opinion_pipeline.config import load_settings
from opinion_pipeline.defs.retention.archive import RetentionRefused, archive_and_delete
from opinion_pipeline.defs.whale_trades.store import insert_trades
from opinion_pipeline.defs.whale_trades.validate import prepare_trades
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline_tests.conftest import pipeline_warehouse
from opinion_pipeline_tests.factories import trade_row, wallet
from opinion_pipeline_tests.pipeline.helpers import run_job

DAY = 86_400


def _seed(warehouse: DuckDBWarehouse, ages_days: list[float]) -> None:
    now = int(time.time())
    rows = [trade_row(createdAt=int(now - age * DAY), amount="20000") for age in ages_days]
    batch = prepare_trades(wallet(1), rows)
    with warehouse.transaction() as conn:
        insert_trades(DuckDBSession(conn), batch.rows, run_id="seed", alert_usd=10_000)


def _archived_keys(directory: Path, table: str) -> list[str]:
    pattern = (directory / table / "**" / "*.parquet").as_posix()
    return sorted(
        k for (k,) in duckdb.sql(f"SELECT trade_key FROM read_parquet('{pattern}')").fetchall()
    )


def _keys(conn, table: str, where: str = "true") -> list[str]:
    return sorted(
        k for (k,) in conn.execute(f"SELECT trade_key FROM {table} WHERE {where}").fetchall()
    )


def test_cleanup_job_archives_then_deletes_exactly_the_old_rows(pipeline_env):
    warehouse = pipeline_warehouse()
    ages = [1, 5, 30, 89, 91, 95, 120, 150, 200, 400]
    _seed(warehouse, ages)
    with warehouse.connection() as conn:
        old_trades = _keys(conn, "trades", "created_at < now() - INTERVAL 90 DAY")
        old_activity = _keys(conn, "whale_activity", "created_at < now() - INTERVAL 90 DAY")
        young = _keys(conn, "trades", "created_at >= now() - INTERVAL 90 DAY")
    assert len(old_trades) == 6 and len(old_activity) == 6 and len(young) == 4

    with dg.instance_for_test() as instance:
        result = run_job(instance, "cleanup_old_activity")
        assert result.success
        metadata = result.asset_materializations_for_node("trades_archive")[0].metadata
        assert metadata["trades_archived"].value == 6
        assert metadata["activity_archived"].value == 6

        with warehouse.connection() as conn:
            assert _keys(conn, "trades") == young
            manifest = conn.execute(
                "SELECT table_name, sum(row_count) FROM archive_manifest GROUP BY 1"
            ).fetchall()
        assert dict(manifest) == {"trades": 6, "whale_activity": 6}
        assert _archived_keys(load_settings().archive_root, "trades") == old_trades
        assert _archived_keys(load_settings().archive_root, "whale_activity") == old_activity

        files_before = sorted(load_settings().archive_root.rglob("*.parquet"))
        again = run_job(instance, "cleanup_old_activity")
        assert again.success
        assert (
            again.asset_materializations_for_node("trades_archive")[0]
            .metadata["trades_archived"]
            .value
            == 0
        )
        assert sorted(load_settings().archive_root.rglob("*.parquet")) == files_before


def test_orphan_files_of_a_crashed_run_are_removed_before_archiving(tmp_path):
    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    _seed(warehouse, [1, 100, 101])
    directory = tmp_path / "archive"
    orphan = directory / "trades" / "month=2020-01" / "part-crashed.parquet"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"PAR1 partial")
    (directory / "trades" / "leftover.parquet.tmp").write_bytes(b"x")
    now = datetime.now(timezone.utc)
    with warehouse.session() as session:
        result = archive_and_delete(
            session, directory, cutoff=now - timedelta(days=90), now=now, run_id="r1"
        )
    assert result.orphans_removed == 2 and not orphan.exists()
    assert result.archived == {"trades": 2, "whale_activity": 2}


def test_refuses_a_cutoff_in_the_future(tmp_path):
    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    _seed(warehouse, [1, 100])
    now = datetime.now(timezone.utc)
    with pytest.raises(RetentionRefused, match="future"), warehouse.session() as session:
        archive_and_delete(
            session, tmp_path / "a", cutoff=now + timedelta(days=1), now=now, run_id=None
        )
    with warehouse.connection() as conn:
        assert conn.execute("SELECT count(*) FROM trades").fetchone()[0] == 2


def test_refuses_to_delete_every_row(tmp_path):
    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    _seed(warehouse, [100, 120])
    now = datetime.now(timezone.utc)
    with pytest.raises(RetentionRefused, match="every row"), warehouse.session() as session:
        archive_and_delete(
            session, tmp_path / "a", cutoff=now - timedelta(days=90), now=now, run_id=None
        )
    with warehouse.connection() as conn:
        assert conn.execute("SELECT count(*) FROM trades").fetchone()[0] == 2
    assert not (tmp_path / "a").exists() or not list((tmp_path / "a").rglob("*.parquet"))
