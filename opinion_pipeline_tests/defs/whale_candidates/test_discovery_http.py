"""Discovery over real HTTP against a simulator: both UNOFFICIAL routes, then a broken one."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from opinion_pipeline.defs.markets.sync import sync_markets
from opinion_pipeline.defs.whale_candidates.sources import holder_markets
from opinion_pipeline.defs.whale_candidates.sync import DiscoveryOptions, discover
from opinion_pipeline.defs.whale_registry.sync import sync_whale_registry, tracked_whales
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline_tests.conftest import make_client
from opinion_pipeline_tests.defs.whale_candidates.conftest import (
    BOARDS,
    MIN_HOLDING,
    MIN_VALUE,
    TOP_N,
    registry,
)


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


def _true_top_over_http(sim: SimulatorProcess, markets: list[int]) -> set[str]:
    """The default rules applied to the simulator's own truth views (/_sim/truth/...), not to
    anything the pipeline stored: top 25 with value >= 1000 on the default boards, or a holding
    >= 5000 USD among the top 20 holders of a side of the markets the holder budget covers."""
    wanted: set[str] = set()
    for board in BOARDS:
        data_type, period = board.split(":")
        for row in sim.truth_leaderboard(data_type, int(period))[:TOP_N]:
            if Decimal(row["value"]) >= MIN_VALUE:
                wanted.add(row["walletAddress"])
    for market_id in markets:
        for market in sim.truth_holders(market_id):
            for rows in market["holders"].values():
                wanted |= {
                    r["walletAddress"] for r in rows[:20] if Decimal(r["shares"]) >= MIN_HOLDING
                }
    return wanted


def test_empty_registry_reaches_the_issues_precision_over_http(api_key, warehouse, tmp_path):
    """Issue 14: with an empty registry file, one discovery run then one registry run admit the
    simulator's true top wallets with precision and recall >= 0.95 (default rules)."""
    with SimulatorProcess(api_key, seed=7, markets=30, wallets=8, traders=300, history_days=5,
                          clock_speed=0.0) as sim:  # fmt: skip
        client = make_client(sim, api_key, tmp_path / "limiter")
        path = registry(tmp_path / "whales.csv")
        sync_markets(client, warehouse)
        sync_whale_registry(warehouse, path)
        options = DiscoveryOptions()
        report = discover(client, warehouse, options)
        assert report.sources_run == ["leaderboard", "holders"] and not report.sources_failed
        sync_whale_registry(warehouse, path)
        tracked = {whale.address for whale in tracked_whales(warehouse)}
        with warehouse.reader() as session:
            markets = holder_markets(session, options.holder_requests)
        truth = _true_top_over_http(sim, markets)
        hits = len(tracked & truth)
        precision, recall = hits / len(tracked), hits / len(truth)
        print(f"admitted {len(tracked)}, truth {len(truth)}, precision {precision:.3f}, "
              f"recall {recall:.3f}, requests {report.requests}")  # fmt: skip
        assert len(truth) >= 20, "a truth this small would make the figures meaningless"
        assert precision >= 0.95 and recall >= 0.95
        assert report.requests == 12 + options.holder_requests
