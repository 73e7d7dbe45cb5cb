"""What the kill and overlap tests run in child processes (preloaded by the fork server).

Each task is one unit of work as a Dagster run does it (same sync functions, same warehouse
resource, same lock), parameterised by a plain dict so it pickles to the child. Imports are at
module level on purpose: the fork server imports this module once, so children start in
milliseconds and a kill can land anywhere in the work, not in the imports.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from opinion_pipeline.defs.markets.sync import sync_markets
from opinion_pipeline.defs.retention.archive import archive_and_delete
from opinion_pipeline.defs.whale_registry.sync import sync_whale_registry, tracked_whales
from opinion_pipeline.defs.whale_stats.compute import replace_whale_stats
from opinion_pipeline.defs.whale_trades import sync as whale_trades
from opinion_pipeline.opinion_api import OpinionAPI
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse

Params = dict[str, Any]


def _client(params: Params) -> OpinionAPI:
    return OpinionAPI(**params["client"])


def _warehouse(params: Params) -> DuckDBWarehouse:
    return DuckDBWarehouse(path=params["warehouse"])


def whale_sync(params: Params) -> None:
    """The sync_whale_trades job: reload the registry, then sync every tracked whale.

    ``options``: more WhaleSyncOptions (the planner's budget); ``report_path``: where to write
    the report's figures as JSON (a run that finished, for the test to read).
    """
    warehouse = _warehouse(params)
    sync_whale_registry(warehouse, Path(params["whales_file"]))
    report = whale_trades.sync_whale_trades(
        _client(params),
        warehouse,
        tracked_whales(warehouse),
        whale_trades.WhaleSyncOptions(
            workers=params.get("workers", 4),
            flush_every_wallets=int(params.get("flush_every_wallets") or 100),
            **params.get("options", {}),
        ),
        run_id=params.get("run_id"),
    )
    if report.failed_wallets:
        raise RuntimeError(f"wallets failed: {report.failed_wallets}")
    if params.get("report_path"):
        Path(params["report_path"]).write_text(json.dumps(report.numbers()))


def market_sweep(params: Params) -> None:
    """The sync_markets job."""
    sync_markets(_client(params), _warehouse(params), run_id=params.get("run_id"))


def whale_stats(params: Params) -> None:
    """The compute_whale_stats job."""
    with _warehouse(params).transaction() as conn:
        replace_whale_stats(DuckDBSession(conn), datetime.now(timezone.utc))


def retention(params: Params) -> None:
    """The cleanup_old_activity job: archive then delete rows older than the cutoff."""
    now = datetime.now(timezone.utc)
    cutoff = now - timedelta(days=params.get("retention_days", 90))
    with _warehouse(params).session() as session:
        archive_and_delete(
            session,
            Path(params["archive_dir"]),
            cutoff=cutoff,
            now=now,
            run_id=params.get("run_id"),
        )


def read_query(params: Params) -> None:
    """A user's warehouse-query: read-only, under the same lock."""
    with _warehouse(params).connection(read_only=True) as conn:
        conn.execute("SELECT count(*) FROM trades").fetchone()


TASKS = {
    "whale_sync": whale_sync,
    "market_sweep": market_sweep,
    "whale_stats": whale_stats,
    "retention": retention,
    "read_query": read_query,
}


def run(name: str, params: Params) -> None:
    """Child entry point (module-level, so it pickles by reference)."""
    TASKS[name](params)
