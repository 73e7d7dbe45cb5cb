"""The completeness ledger against the real simulator over HTTP (issue #15)."""

from __future__ import annotations

import pytest

from opinion_pipeline.defs.whale_registry.sync import sync_whale_registry, tracked_whales
from opinion_pipeline.defs.whale_trades.sync import WhaleSyncOptions, sync_whale_trades
from opinion_pipeline_tests.conftest import make_client, write_whales_file
from opinion_pipeline_tests.pipeline.helpers import truth_fills, warehouse_fills

pytestmark = pytest.mark.integration


@pytest.fixture
def client(fresh_simulator, api_key, tmp_path):
    api = make_client(fresh_simulator, api_key, tmp_path / "limiter")
    yield api
    api.close()


@pytest.fixture
def registry(fresh_simulator, tmp_path):
    return write_whales_file(tmp_path / "whales.csv", fresh_simulator.wallets())


def _sync(client, warehouse, registry):
    sync_whale_registry(warehouse, registry)
    return sync_whale_trades(client, warehouse, tracked_whales(warehouse), WhaleSyncOptions())


def test_the_trade_routes_total_is_every_trade_the_venue_holds(fresh_simulator, client):
    fresh_simulator.set_faults(malformed_rate=0.3)  # spoiled rows are still counted
    for wallet in fresh_simulator.wallets():
        truth = fresh_simulator.truth_trades(wallet["address"])
        first_page = client.fetch_wallet_trades(wallet["address"], max_pages=1)
        assert first_page.total == len(truth)


def test_a_planted_gap_is_found_at_the_next_poll_and_repaired(
    fresh_simulator, client, warehouse, registry
):
    assert _sync(client, warehouse, registry).coverage.with_gap == 0
    with warehouse.connection() as conn:
        (victim,) = conn.execute(
            "SELECT wallet FROM trade_coverage ORDER BY venue_total DESC, wallet LIMIT 1"
        ).fetchone()
        conn.execute(  # behind the pipeline's back: 3 old trades of the busiest whale
            "DELETE FROM trades WHERE trade_key IN (SELECT trade_key FROM trades "
            "WHERE wallet = ? ORDER BY created_at, trade_key LIMIT 3)",
            [victim],
        )
    fresh_simulator.advance(900)
    found = _sync(client, warehouse, registry)
    assert found.extra["gaps_found"] == 1 and found.coverage.trades_missing == 3
    repaired = _sync(client, warehouse, registry)
    assert repaired.extra["repairs_closed"] == 1 and repaired.coverage.with_gap == 0
    with warehouse.connection() as conn:
        assert warehouse_fills(conn) == truth_fills(fresh_simulator.truth_trades())
        assert conn.execute("SELECT outcome FROM trade_repairs").fetchall() == [("closed",)]


def test_under_malformed_rows_every_wallet_ends_accounted_for(
    fresh_simulator, client, warehouse, registry
):
    fresh_simulator.set_faults(malformed_rate=0.05)
    for _cycle in range(3):
        _sync(client, warehouse, registry)
        fresh_simulator.advance(1800)
    fresh_simulator.reset_faults()
    for _cycle in range(3):  # polls and repairs, clean
        report = _sync(client, warehouse, registry)
    assert report.coverage.with_gap == 0
    assert report.coverage.complete == len(fresh_simulator.wallets())
    with warehouse.connection() as conn:
        ((stored, quarantined),) = conn.execute(
            "SELECT sum(stored), sum(quarantined) FROM trade_coverage"
        ).fetchall()
    assert stored + quarantined == len(fresh_simulator.truth_trades())
