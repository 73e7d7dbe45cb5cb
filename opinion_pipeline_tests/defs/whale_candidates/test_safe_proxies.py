"""Safe proxies (opinion-api.md §3.3, §3.8): the web-app routes may show a trader by the Safe
proxy address, whose trades route returns nothing. The contract gives no way from a proxy to its
owner (EOA), so discovery admits the proxy, the first poll finds nothing, and the next gate run
marks it no_trades_seen and stops tracking it: a whale pinned by its EOA stays one whale."""

from __future__ import annotations

from pathlib import Path

from opinion_pipeline.defs.markets.sync import sync_markets
from opinion_pipeline.defs.whale_candidates.sync import DiscoveryOptions, discover
from opinion_pipeline.defs.whale_registry.sync import sync_whale_registry, tracked_whales
from opinion_pipeline.defs.whale_trades.sync import WhaleSyncOptions, sync_whale_trades
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline.simulator.proxies import safe_proxy
from opinion_pipeline.simulator.wallets import Wallet
from opinion_pipeline_tests.conftest import make_client
from opinion_pipeline_tests.defs.whale_candidates.conftest import registry

SEED, RATE = 7, 0.3


def _proxies(sim: SimulatorProcess) -> dict[str, str]:
    """proxy -> EOA for every trader of the simulator that trades through one."""
    found = {}
    for row in sim.traders():
        wallet = Wallet(0, row["address"], row.get("label", ""), row["profile"])
        proxy = safe_proxy(SEED, wallet, RATE)
        if proxy:
            found[proxy] = wallet.address
    return found


def test_a_safe_proxy_is_marked_and_its_owner_stays_one_whale(api_key, warehouse, tmp_path: Path):
    with SimulatorProcess(api_key, seed=SEED, markets=30, wallets=8, traders=300, history_days=5,
                          clock_speed=0.0) as sim:  # fmt: skip
        sim.set_faults(safe_proxy_rate=RATE)
        client = make_client(sim, api_key, tmp_path / "limiter")
        proxies = _proxies(sim)
        board = [row["walletAddress"] for row in sim.truth_leaderboard("volume", 30)[:25]]
        owner = next(eoa for eoa in board if eoa in proxies.values())
        path = registry(tmp_path / "whales.csv", [f"{owner},pinned-owner,"])
        sync_markets(client, warehouse)
        sync_whale_registry(warehouse, path)
        discover(client, warehouse, DiscoveryOptions())
        sync_whale_registry(warehouse, path)
        first = {whale.address for whale in tracked_whales(warehouse)}
        shown = first & set(proxies)
        assert shown, "the boards showed proxies and discovery admitted them (it cannot know)"
        assert owner in first and owner not in shown
        sync_whale_trades(client, warehouse, tracked_whales(warehouse), WhaleSyncOptions())
        discover(client, warehouse, DiscoveryOptions())
        sync_whale_registry(warehouse, path)
        with warehouse.reader() as session:
            marked = dict(session.query(
                "SELECT address, no_trades_seen AND NOT admitted FROM whale_candidates "
                "WHERE address IN (SELECT unnest($a))", {"a": sorted(shown)},
            ))  # fmt: skip
            still = {a for (a,) in session.query(
                "SELECT address FROM whales WHERE in_registry AND discovery_dropped_at IS NULL"
            )}  # fmt: skip
        assert marked == dict.fromkeys(shown, True)
        assert not still & set(proxies), "no proxy is polled every minute any more"
        assert owner in still and len([a for a in still if a == owner]) == 1
        real = still - {owner}
        assert real and real <= {w["address"] for w in sim.traders() + sim.wallets()}
