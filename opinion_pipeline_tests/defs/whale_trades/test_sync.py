"""The whale sync against the in-process world: exact against its truth, wallet failures apart."""

from __future__ import annotations

import pytest

from opinion_pipeline.defs.whale_registry.sync import sync_whale_registry, tracked_whales
from opinion_pipeline.defs.whale_trades.sync import WhaleSyncOptions, sync_whale_trades
from opinion_pipeline.opinion_api import errors
from opinion_pipeline_tests.fakes import FakeOpinionAPI, unreachable
from opinion_pipeline_tests.pipeline.helpers import truth_fills, warehouse_fills

pytestmark = pytest.mark.unit


def _sync(api, warehouse, registry_file):
    sync_whale_registry(warehouse, registry_file)
    return sync_whale_trades(api, warehouse, tracked_whales(warehouse), WhaleSyncOptions())


def test_syncs_equal_the_worlds_truth_cycle_after_cycle(world, fake_api, warehouse, registry_file):
    for _cycle in range(3):
        report = _sync(fake_api, warehouse, registry_file)
        assert not report.failed_wallets
        world.clock.advance(4 * 3600)
    report = _sync(fake_api, warehouse, registry_file)
    with warehouse.connection() as conn:
        stored = warehouse_fills(conn)
    truth = truth_fills(world.truth_trades(world.now()))
    assert sum(truth.values()) > 50
    assert stored == truth  # every trade once, twins included
    assert report.duplicates_skipped > 0  # each whale's first page is read again, not stored again


def test_a_failing_wallet_fails_alone(world, warehouse, registry_file):
    broken = world.wallets[0].address
    api = FakeOpinionAPI.over(world, fail_wallets={broken: unreachable(broken)})
    report = _sync(api, warehouse, registry_file)
    assert set(report.failed_wallets) == {broken}
    assert "HTTP 503" in report.failed_wallets[broken]
    assert report.extra["whales_failed"] == 1
    assert report.extra["whales_polled"] == len(world.wallets) - 1
    truth = truth_fills(world.truth_trades(world.now()))
    others = {fill: n for fill, n in truth.items() if fill[0] != broken}
    with warehouse.connection() as conn:
        assert warehouse_fills(conn) == others
        polled = dict(
            conn.execute("SELECT address, last_polled_at IS NOT NULL FROM whales").fetchall()
        )
    assert polled[broken] is False and sum(polled.values()) == len(world.wallets) - 1


def test_a_region_refusal_stops_the_sync_at_once_with_its_cause(world, warehouse, registry_file):
    route = "GET /openapi/trade/user/..."
    refused = errors.OpinionRegionRefusedError(
        f"{route} failed: {errors.REGION_REFUSED_ADVICE}", route=route, errno=10403,
        errmsg="Invalid area",
    )  # fmt: skip
    api = FakeOpinionAPI.over(world, fail_wallets={w.address: refused for w in world.wallets})
    sync_whale_registry(warehouse, registry_file)
    whales = tracked_whales(warehouse)
    with pytest.raises(errors.OpinionRegionRefusedError, match="Retrying will not help"):
        sync_whale_trades(api, warehouse, whales, WhaleSyncOptions(workers=1))
    # one refusal, not one per wallet: the one worker sends nothing after it
    assert len(whales) == 8 and api.stats()["requests"] == 1
    with warehouse.connection() as conn:
        assert conn.execute("SELECT count(*) FROM trades").fetchone() == (0,)


class _CorruptsOnce(FakeOpinionAPI):
    """The fake client whose first read of a victim wallet spoils its newest trade."""

    def fetch_wallet_trades(self, wallet, *args, **kwargs):
        fetched = super().fetch_wallet_trades(wallet, *args, **kwargs)
        spoil = _SPOILERS.get(self.world_id, {}).pop(wallet, None)
        if spoil and fetched.rows:
            fetched.rows[0] = spoil(dict(fetched.rows[0]))
        return fetched


_SPOILERS: dict[str, dict] = {}
SPOILS = (lambda row: {**row, "marketId": "abc"}, lambda row: {**row, "amount": None})


def test_a_row_quarantined_once_and_stored_later_is_resolved(world, warehouse, registry_file):
    api = _CorruptsOnce.over(world)
    victims = [wallet.address for wallet in world.wallets[:2]]
    _SPOILERS[api.world_id] = dict(zip(victims, SPOILS, strict=True))
    first = _sync(api, warehouse, registry_file)
    assert first.quarantined == len(victims)
    with warehouse.connection() as conn:
        assert conn.execute("SELECT count(*) FROM quarantine WHERE resolved_at IS NULL").fetchone()[
            0
        ] == len(victims)
    second = _sync(api, warehouse, registry_file)  # re-reads the newest trades, clean this time
    assert second.extra["quarantine_resolved"] == len(victims)
    with warehouse.connection() as conn:
        resolved = conn.execute(
            "SELECT q.wallet, t.wallet FROM quarantine q "
            "JOIN trades t ON t.trade_key = q.resolved_to"
        ).fetchall()
        assert (
            conn.execute("SELECT count(*) FROM quarantine WHERE resolved_at IS NULL").fetchone()[0]
            == 0
        )
    assert sorted(q for q, _ in resolved) == sorted(victims)
    assert all(q == t for q, t in resolved)
    truth = truth_fills(world.truth_trades(world.now()))
    with warehouse.connection() as conn:
        assert warehouse_fills(conn) == truth
