"""Discovery over real HTTP against a simulator: both UNOFFICIAL routes, then a broken one."""

from __future__ import annotations

from pathlib import Path

from opinion_pipeline.defs.markets.sync import sync_markets
from opinion_pipeline.defs.whale_candidates.sync import DiscoveryOptions, discover
from opinion_pipeline.defs.whale_registry.sync import sync_whale_registry, tracked_whales
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline_tests.conftest import make_client
from opinion_pipeline_tests.defs.whale_candidates.conftest import registry


def test_discovery_over_http_and_a_vanished_route(api_key: str, warehouse, tmp_path: Path):
    with SimulatorProcess(api_key, seed=7, markets=12, wallets=4, traders=120, history_days=3,
                          clock_speed=0.0) as sim:  # fmt: skip
        client = make_client(sim, api_key, tmp_path / "limiter")
        path = registry(tmp_path / "whales.csv")
        sync_markets(client, warehouse)
        sync_whale_registry(warehouse, path)
        report = discover(client, warehouse, DiscoveryOptions(holder_requests=4))
        assert not report.sources_failed and report.requests == 12 + 4
        sync_whale_registry(warehouse, path)
        tracked = {whale.address for whale in tracked_whales(warehouse)}
        known = {w["address"] for w in sim.wallets() + sim.traders()}
        assert tracked and tracked <= known
        sim.set_faults(unofficial_routes="gone")
        again = DiscoveryOptions(leaderboard_refresh_minutes=1, holders_refresh_minutes=1)
        with warehouse.session() as session:
            session.execute(
                "UPDATE candidate_sightings SET last_seen_at = last_seen_at - INTERVAL 2 HOUR"
            )
        failed = discover(client, warehouse, again)
        assert set(failed.sources_failed) == {"leaderboard", "holders"}
        assert "HTTP 404" in failed.sources_failed["leaderboard"]
        sync_whale_registry(warehouse, path)
        assert {whale.address for whale in tracked_whales(warehouse)} == tracked
