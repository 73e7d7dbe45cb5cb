"""Paging: limit clamp, totals, last and beyond-the-end pages, exact 20/21 rows, order."""

from __future__ import annotations

from collections.abc import Callable

import requests

from opinion_pipeline.simulator import SimulatorProcess
from opinion_pipeline.simulator.clock import SimClock
from opinion_pipeline.simulator.world import World
from opinion_pipeline_tests.simulator.helpers import START, get_ok


def _strip(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "walletAddress"} for row in rows]


def test_limit_is_clamped_to_20_and_defaults_to_10(
    frozen_sim: SimulatorProcess, api: requests.Session
):
    url = f"{frozen_sim.base_url}/market"
    assert len(get_ok(api, url, marketType=2)["list"]) == 10
    assert len(get_ok(api, url, marketType=2, limit=500)["list"]) == 20
    assert get_ok(api, url, marketType=2, limit=500) == get_ok(api, url, marketType=2, limit=20)
    wallet = next(w["address"] for w in frozen_sim.wallets() if w["profile"] == "heavy")
    assert len(get_ok(api, f"{frozen_sim.base_url}/trade/user/{wallet}", limit=21)["list"]) == 20


def test_trade_pages_concatenate_to_the_truth(frozen_sim: SimulatorProcess, api: requests.Session):
    wallet = next(w["address"] for w in frozen_sim.wallets() if w["profile"] == "light")
    url = f"{frozen_sim.base_url}/trade/user/{wallet}"
    first = get_ok(api, url, limit=20)
    total = first["total"]
    pages = -(-total // 20)
    rows = []
    for page in range(1, pages + 1):
        result = get_ok(api, url, limit=20, page=page)
        assert result["total"] == total
        expected = 20 if page < pages else total - 20 * (pages - 1)
        assert len(result["list"]) == expected
        rows += result["list"]
    assert rows == _strip(frozen_sim.truth_trades(wallet))
    beyond = get_ok(api, url, limit=20, page=pages + 1)
    assert beyond == {"total": total, "list": []}
    keys = [(row["createdAt"]) for row in rows]
    assert keys == sorted(keys, reverse=True)


def test_market_pages_cover_every_market_once(frozen_sim: SimulatorProcess, api: requests.Session):
    url = f"{frozen_sim.base_url}/market"
    total = get_ok(api, url, marketType=2, limit=7)["total"]
    seen = []
    for page in range(1, -(-total // 7) + 2):
        seen += [m["marketId"] for m in get_ok(api, url, marketType=2, limit=7, page=page)["list"]]
    assert sorted(seen) == sorted(m["marketId"] for m in frozen_sim.truth_markets())
    assert len(seen) == total


def _clean_cuts(world: World) -> tuple[str, dict[int, int]]:
    """A heavy wallet and the times at which exactly 20 and exactly 21 trades are visible."""
    far = START + 3 * 86400
    for wallet in world.wallets:
        if wallet.profile != "heavy":
            continue
        times = [fill.created_at for fill in world.fills(wallet, far)]
        if len(times) > 21 and times[19] < times[20] < times[21]:
            return wallet.address, {20: times[19], 21: times[20]}
    raise AssertionError("no wallet with clean cuts")


def test_exactly_20_and_21_trades(new_sim: Callable[..., SimulatorProcess], api: requests.Session):
    # The child's world is the same function of its arguments as this in-process copy, which
    # tells us when a wallet has exactly 20 (then 21) trades; the clock is moved there.
    world = World(
        seed=42, markets=60, wallets=30, history_days=0, start=START, clock=SimClock(0, 0)
    )
    sim = new_sim(history_days=0)
    address, moments = _clean_cuts(world)
    for count, moment in moments.items():
        now = sim.clock()["now"]
        if moment > now:
            sim.advance(moment - now)
        assert sim.clock()["now"] == moment
        url = f"{sim.base_url}/trade/user/{address}"
        first = get_ok(api, url, limit=20)
        assert first["total"] == count and len(first["list"]) == 20
        second = get_ok(api, url, limit=20, page=2)
        assert second["total"] == count and len(second["list"]) == count - 20
        truth = _strip(sim.truth_trades(address))
        assert first["list"] + second["list"] == truth
        assert get_ok(api, url, limit=20, page=3)["list"] == []
