"""The UNOFFICIAL web-app routes: the leaderboard (§3.6) and market holders (§3.7)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from opinion_pipeline.simulator.api import ApiError, answer, match_route
from opinion_pipeline.simulator.clock import SimClock
from opinion_pipeline.simulator.holders import truth_holders
from opinion_pipeline.simulator.leaderboard import board_moment, truth_leaderboard
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline.simulator.world import World

START = 1_790_000_000
BOARD = "/api/bsc/api/v2/leaderboard"


@pytest.fixture(scope="module")
def world() -> World:
    clock = SimClock(START, 0.0)
    return World(
        seed=7, markets=30, wallets=8, traders=400, history_days=5, start=START, clock=clock
    )


def _get(world: World, path: str, **query: object):
    route, params = match_route(path)
    return answer(world, route, params, {k: [str(v)] for k, v in query.items()}).result


def _holders_path(market_id: int) -> str:
    return f"/api/bsc/api/v2/topic/{market_id}/holder"


@pytest.mark.unit
def test_every_board_top_100_strings_and_quirks(world: World) -> None:
    shown: set[str] = set()
    for data_type in ("volume", "profit", "points"):
        for period in (0, 1, 7, 30):
            result = _get(world, BOARD, limit=100, dataType=data_type, period=period, chainId=56)
            assert set(result) == {"list"}
            rows = result["list"]
            assert 0 < len(rows) <= 100
            truth = truth_leaderboard(
                world, START, {"dataType": [data_type], "period": [str(period)]}
            )
            ranking = truth["boards"][0]["ranking"]
            assert [r["walletAddress"] for r in rows] == [
                r["walletAddress"] for r in ranking[: len(rows)]
            ]
            for row, true in zip(rows, ranking, strict=False):
                assert isinstance(row["rankingValue"], str)
                assert row["rankingValue"] in ("", "0") or Decimal(row["rankingValue"]) == Decimal(
                    true["value"]
                )
                assert isinstance(row["id"], int) and isinstance(row["rankingChange"], int)
                assert row["rankingType"] == {"volume": 1, "profit": 2, "points": 3}[data_type]
                shown.add(row["rankingValue"])
    assert "" in shown and "0" in shown
    profiles = {r["profile"] for r in ranking}
    assert {"retail", "big"} <= profiles  # the untracked population is ranked too


@pytest.mark.unit
def test_leaderboard_pages_and_errors(world: World) -> None:
    first = _get(world, BOARD, limit=10, page=1)["list"]
    second = _get(world, BOARD, limit=10, page=2)["list"]
    assert len(first) == len(second) == 10
    assert not {r["walletAddress"] for r in first} & {r["walletAddress"] for r in second}
    assert len(_get(world, BOARD, limit=500)["list"]) == 100
    with pytest.raises(ApiError):
        _get(world, BOARD, dataType="luck")
    with pytest.raises(ApiError):
        _get(world, BOARD, period=3)


@pytest.mark.unit
def test_holders_numbers_paging_and_truth(world: World) -> None:
    leaf = next(m for m in world.leaves if m.parent is None)
    truth = truth_holders(world, START, {"marketId": [str(leaf.market_id)]})["markets"][0]
    for side in ("yes", "no"):
        result = _get(world, _holders_path(leaf.market_id), type=side, limit=20, chainId=56)
        assert result["total"] == len(truth["holders"][side])
        rows = result["list"]
        assert len(rows) == min(20, result["total"])
        for row, true in zip(rows, truth["holders"][side], strict=False):
            assert set(row) == {"walletAddress", "userName", "avatar", "profit", "sharesAmount"}
            assert isinstance(row["sharesAmount"], float) and isinstance(row["profit"], float)
            assert row["walletAddress"] == true["walletAddress"]
            assert abs(row["sharesAmount"] - float(true["shares"])) < 1e-5
        shares = [row["sharesAmount"] for row in rows]
        assert shares == sorted(shares, reverse=True) and all(s > 0 for s in shares)
    page2 = _get(world, _holders_path(leaf.market_id), type="yes", limit=5, page=2)["list"]
    assert [r["walletAddress"] for r in page2] == [
        r["walletAddress"] for r in truth["holders"]["yes"][5:10]
    ]


@pytest.mark.unit
def test_holders_parent_unknown_and_bad_side(world: World) -> None:
    parent = next(m for m in world.markets if m.children)
    assert _get(world, _holders_path(parent.market_id), type="yes") == {"total": 0, "list": []}
    with pytest.raises(ApiError) as unknown:
        _get(world, _holders_path(999_999_999), type="yes")
    assert unknown.value.status == 404
    with pytest.raises(ApiError) as bad:
        _get(world, _holders_path(parent.market_id), type="maybe")
    assert bad.value.status == 400


@pytest.mark.unit
def test_board_moment_is_the_minute() -> None:
    assert board_moment(START) == START - START % 60


def test_unofficial_routes_over_http_limits_and_faults(api_key: str) -> None:
    with SimulatorProcess(api_key, seed=7, markets=10, wallets=4, traders=50, history_days=2,
                          clock_speed=0.0) as sim:  # fmt: skip
        session = requests.Session()
        session.headers["apikey"] = api_key
        market = next(m for m in sim.truth_markets() if not m.get("childMarkets"))
        holders = f"{sim.root_url}/api/bsc/api/v2/topic/{market['marketId']}/holder"
        ok = session.get(holders, params={"type": "no", "limit": 5}, timeout=10)
        assert ok.status_code == 200 and ok.json()["errno"] == 0
        assert requests.get(holders, params={"type": "no"}, timeout=10).status_code == 401
        sim.set_faults(unofficial_routes="gone")
        assert session.get(sim.leaderboard_url, timeout=10).status_code == 404
        assert session.get(holders, params={"type": "yes"}, timeout=10).status_code == 404
        assert session.get(f"{sim.base_url}/market", timeout=10).status_code == 200
        sim.set_faults(unofficial_routes="html")
        page = session.get(sim.leaderboard_url, timeout=10)
        assert page.status_code == 200 and page.text.startswith("<!DOCTYPE html>")
        sim.reset_faults()
        truth = sim.truth_leaderboard("volume", 7)
        board = session.get(sim.leaderboard_url, params={"dataType": "volume", "period": 7},
                            timeout=10).json()["result"]["list"]  # fmt: skip
        assert [r["walletAddress"] for r in board] == [t["walletAddress"] for t in truth][:100]
        assert sim.traders() and sim.info()["traders"] == 50
