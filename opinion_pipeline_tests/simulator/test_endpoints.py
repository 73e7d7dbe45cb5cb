"""Every /openapi route and the leaderboard: shapes, JSON types and errors, over real HTTP."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import requests

from opinion_pipeline.simulator import SimulatorProcess
from opinion_pipeline_tests.simulator.helpers import (
    ADDRESS,
    API_KEY,
    TOKEN_ID,
    TX_HASH,
    USDT,
    check_market,
    check_trade,
    get_ok,
    is_decimal,
    is_int,
)


def _wallets(sim: SimulatorProcess, profile: str) -> list[str]:
    return [w["address"] for w in sim.wallets() if w["profile"] == profile]


def test_market_list_shape_and_every_status(frozen_sim: SimulatorProcess, api: requests.Session):
    result = get_ok(api, f"{frozen_sim.base_url}/market", marketType=2, limit=20)
    assert set(result) == {"total", "list"} and is_int(result["total"])
    markets = []
    for page in range(1, result["total"] // 20 + 2):
        markets += get_ok(api, f"{frozen_sim.base_url}/market", marketType=2, limit=20, page=page)[
            "list"
        ]
    assert len(markets) == result["total"] == len(frozen_sim.truth_markets())
    for market in markets:
        check_market(market)
    assert {market["status"] for market in markets} == {1, 2, 3, 4, 5, 6}
    assert {market["marketType"] for market in markets} == {0, 1}
    assert all(market["childMarkets"] for market in markets if market["marketType"] == 1)
    extras = markets[0]
    assert isinstance(extras["slug"], str) and isinstance(extras["labels"], list)


def test_market_type_defaults_to_binary(frozen_sim: SimulatorProcess, api: requests.Session):
    url = f"{frozen_sim.base_url}/market"
    default = get_ok(api, url, limit=20)
    binary = get_ok(api, url, limit=20, marketType=0)
    categorical = get_ok(api, url, limit=20, marketType=1)
    everything = get_ok(api, url, limit=20, marketType=2)
    assert default == binary
    assert {market["marketType"] for market in default["list"]} == {0}
    assert {market["marketType"] for market in categorical["list"]} == {1}
    assert default["total"] + categorical["total"] == everything["total"]
    assert categorical["total"] > 0


def test_market_filters_and_sorting(frozen_sim: SimulatorProcess, api: requests.Session):
    url = f"{frozen_sim.base_url}/market"
    active = get_ok(api, url, marketType=2, status="activated", limit=20)
    resolved = get_ok(api, url, marketType=2, status="resolved", limit=20)
    assert active["total"] > 0 and resolved["total"] > 0
    assert {m["status"] for m in active["list"]} == {2}
    assert {m["status"] for m in resolved["list"]} == {4}
    newest = get_ok(api, url, marketType=2, limit=20)["list"]
    assert [m["createdAt"] for m in newest] == sorted(
        (m["createdAt"] for m in newest), reverse=True
    )
    by_volume = get_ok(api, url, marketType=2, sortBy=3, limit=20)["list"]
    volumes = [Decimal(m["volume"]) for m in by_volume]
    assert volumes == sorted(volumes, reverse=True)
    ascending = [Decimal(m["volume"]) for m in get_ok(api, url, marketType=2, sortBy=4)["list"]]
    assert ascending == sorted(ascending)
    assert get_ok(api, url, chainId="1")["total"] == 0


def test_market_detail_routes(frozen_sim: SimulatorProcess, api: requests.Session):
    truth = frozen_sim.truth_markets()
    binary = next(m for m in truth if m["marketType"] == 0)
    parent = next(m for m in truth if m["marketType"] == 1)
    detail = get_ok(api, f"{frozen_sim.base_url}/market/{binary['marketId']}")
    assert set(detail) == {"data"}
    check_market(detail["data"], listing=False)
    assert detail["data"]["conditionId"].startswith("0x")
    assert {**detail["data"], "conditionId": ""} == binary
    categorical = get_ok(api, f"{frozen_sim.base_url}/market/categorical/{parent['marketId']}")
    data = categorical["data"]
    check_market(data, listing=False)
    assert [c["marketId"] for c in data["childMarkets"]] == [
        c["marketId"] for c in parent["childMarkets"]
    ]
    plain = get_ok(api, f"{frozen_sim.base_url}/market/{parent['marketId']}")["data"]
    assert plain["childMarkets"] is None and plain["marketType"] == 1
    child_id = parent["childMarkets"][0]["marketId"]
    child = get_ok(api, f"{frozen_sim.base_url}/market/{child_id}")["data"]
    check_market(child, listing=False)
    assert child["marketId"] == child_id


def test_market_errors(frozen_sim: SimulatorProcess, api: requests.Session):
    base = frozen_sim.base_url
    for url, status in [
        (f"{base}/market/999999", 404),
        (f"{base}/market/abc", 400),
        (f"{base}/market?page=0", 400),
        (f"{base}/market?limit=x", 400),
        (f"{base}/market?marketType=7", 400),
        (f"{base}/market?status=open", 400),
        (f"{base}/nowhere", 404),
    ]:
        response = api.get(url, timeout=10)
        assert response.status_code == status, url
        body = response.json()
        assert body["errno"] == status and body["result"] is None and body["errmsg"]
    binary = next(m for m in frozen_sim.truth_markets() if m["marketType"] == 0)
    response = api.get(f"{base}/market/categorical/{binary['marketId']}", timeout=10)
    assert response.status_code == 404


def test_trades_shape_and_truth(frozen_sim: SimulatorProcess, api: requests.Session):
    wallet = _wallets(frozen_sim, "heavy")[0]
    result = get_ok(api, f"{frozen_sim.base_url}/trade/user/{wallet}", limit=20)
    assert result["total"] > 100 and len(result["list"]) == 20
    for row in result["list"]:
        check_trade(row)
        assert "walletAddress" not in row
    truth = frozen_sim.truth_trades(wallet)
    assert len(truth) == result["total"]
    assert [{k: v for k, v in t.items() if k != "walletAddress"} for t in truth[:20]] == result[
        "list"
    ]
    upper = get_ok(api, f"{frozen_sim.base_url}/trade/user/{wallet.upper().replace('0X', '0x')}")
    assert upper["total"] == result["total"]


def test_truth_trades_since_keeps_the_newer_trades(frozen_sim: SimulatorProcess):
    truth = frozen_sim.truth_trades()
    since = sorted(row["createdAt"] for row in truth)[len(truth) // 2]
    newer = frozen_sim.truth_trades(since=since)
    assert newer == [row for row in truth if row["createdAt"] >= since]
    wallet = truth[0]["walletAddress"]
    assert frozen_sim.truth_trades(wallet, since=since) == [
        row for row in newer if row["walletAddress"] == wallet
    ]


def test_trade_mix_over_all_wallets(frozen_sim: SimulatorProcess):
    truth = frozen_sim.truth_trades()
    assert len(truth) > 5000
    sides = Counter(row["side"] for row in truth)
    assert 0.005 < sides["MERGE"] / len(truth) < 0.04
    by_tx = Counter(row["txHash"] for row in truth)
    multi = [tx for tx, n in by_tx.items() if n > 1]
    assert 0.02 < sum(by_tx[tx] for tx in multi) / len(truth) < 0.2
    for tx in multi[:50]:
        rows = [row for row in truth if row["txHash"] == tx]
        assert len({row["createdAt"] for row in rows}) == 1
    twins = Counter(tuple(sorted(row.items())) for row in truth)
    assert any(n > 1 for n in twins.values()), "expected some exact twin rows"
    categorical = [row for row in truth if row["marketId"] != row["rootMarketId"]]
    binary = [row for row in truth if row["marketId"] == row["rootMarketId"]]
    assert categorical and binary
    assert {row["outcome"] for row in binary} == {"YES", "NO"}
    assert {row["quoteTokenUsdPrice"] for row in truth} > {"1"}
    rows = truth[:500]
    for row in rows:
        check_trade(row)
    created = [row["createdAt"] for row in truth]
    assert created == sorted(created, reverse=True)


def test_trades_filter_unknown_wallet_and_bad_address(
    frozen_sim: SimulatorProcess, api: requests.Session
):
    base = frozen_sim.base_url
    wallet = _wallets(frozen_sim, "heavy")[0]
    first = get_ok(api, f"{base}/trade/user/{wallet}")["list"][0]
    only = get_ok(api, f"{base}/trade/user/{wallet}", marketId=first["marketId"], limit=20)
    assert only["total"] >= 1 and {row["marketId"] for row in only["list"]} == {first["marketId"]}
    unknown = get_ok(api, f"{base}/trade/user/0x{'ab' * 20}")
    assert unknown == {"total": 0, "list": []}
    assert api.get(f"{base}/trade/user/not-a-wallet", timeout=10).status_code == 400
    inactive = _wallets(frozen_sim, "inactive")[0]
    quiet = get_ok(api, f"{base}/trade/user/{inactive}", limit=20)
    assert 3 <= quiet["total"] <= 20
    assert all(row["createdAt"] < frozen_sim.clock()["now"] - 99 * 86400 for row in quiet["list"])


def test_positions(frozen_sim: SimulatorProcess, api: requests.Session):
    wallet = _wallets(frozen_sim, "heavy")[0]
    result = get_ok(api, f"{frozen_sim.base_url}/positions/user/{wallet}", limit=20)
    assert result["total"] > 0 and 0 < len(result["list"]) <= 20
    sizes = [Decimal(row["sharesOwned"]) for row in result["list"]]
    assert sizes == sorted(sizes, reverse=True) and min(sizes) > 0
    row = result["list"][0]
    for key in ("marketId", "marketStatus", "marketCutoffAt", "rootMarketId", "outcomeSide",
                "claimStatus"):  # fmt: skip
        assert is_int(row[key]), key
    for key in ("sharesOwned", "sharesFrozen", "unrealizedPnl", "unrealizedPnlPercent",
                "dailyPnlChange", "dailyPnlChangePercent", "currentValueInQuoteToken",
                "avgEntryPrice"):  # fmt: skip
        assert is_decimal(row[key]), key
    assert TOKEN_ID.match(row["tokenId"]) and TX_HASH.match(row["conditionId"])
    assert row["quoteToken"] == USDT and 0 <= row["claimStatus"] <= 4
    assert isinstance(row["marketStatusEnum"], str) and isinstance(row["claimStatusEnum"], str)
    empty = get_ok(api, f"{frozen_sim.base_url}/positions/user/0x{'cd' * 20}")
    assert empty == {"total": 0, "list": []}


def test_leaderboard(frozen_sim: SimulatorProcess, api: requests.Session):
    url = frozen_sim.leaderboard_url
    shown = set()
    for data_type in ("volume", "profit", "points"):
        for period in (0, 1, 7, 30):
            result = get_ok(api, url, limit=100, dataType=data_type, chainId=56, period=period)
            assert set(result) == {"list"}
            for row in result["list"]:
                assert ADDRESS.match(row["walletAddress"])
                assert isinstance(row["userName"], str) and isinstance(row["avatar"], str)
                value = row["rankingValue"]
                assert value in ("", "0") or is_decimal(value)
                shown.add(value)
                if "xUsername" in row:
                    assert isinstance(row["xUsername"], str) and isinstance(row["xUserId"], str)
    assert "" in shown and "0" in shown
    assert len(get_ok(api, url, limit=3)["list"]) == 3
    assert api.get(url, params={"dataType": "luck"}, timeout=10).status_code == 400
    assert requests.get(url, timeout=10).status_code == 401


def test_missing_or_wrong_key_is_401(frozen_sim: SimulatorProcess):
    for headers in ({}, {"apikey": "wrong"}, {"apikey": API_KEY + "x"}, {"apiKey": ""}):
        response = requests.get(f"{frozen_sim.base_url}/market", headers=headers, timeout=10)
        assert response.status_code == 401
        body = response.json()
        assert body["errno"] == 401 and body["result"] is None and isinstance(body["errmsg"], str)
        assert API_KEY not in response.text
    header_name_is_case_insensitive = requests.get(
        f"{frozen_sim.base_url}/market", headers={"APIKEY": API_KEY}, timeout=10
    )
    assert header_name_is_case_insensitive.status_code == 200
