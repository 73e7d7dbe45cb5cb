"""Constants and contract checks shared by the simulator tests."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import requests

API_KEY = "sim-test-key-0123456789"
START = 1_750_000_000  # a fixed simulated start, so every run sees the same world
USDT = "0x55d398326f99059fF775485246999027B3197955"
DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]{1,18})?$")
TX_HASH = re.compile(r"^0x[0-9a-f]{64}$")
ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
TOKEN_ID = re.compile(r"^[1-9][0-9]{76}$")
STATUS_ENUM = {
    1: "Created",
    2: "Activated",
    3: "Resolving",
    4: "Resolved",
    5: "Failed",
    6: "Deleted",
}


def get_ok(session: requests.Session, url: str, **params: Any) -> Any:
    """GET, assert a successful errno envelope, return ``result``."""
    response = session.get(url, params=params, timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"errno", "errmsg", "result"}, body
    assert body["errno"] == 0, body
    assert isinstance(body["errmsg"], str)
    return body["result"]


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_decimal(value: object) -> bool:
    return isinstance(value, str) and DECIMAL.match(value) is not None


def check_child(child: dict[str, Any]) -> None:
    for key in ("marketType", "childMarkets", "volume24h", "volume7d", "incentiveFactor"):
        assert key not in child
    assert is_int(child["marketId"]) and isinstance(child["marketTitle"], str)
    assert child["statusEnum"] == STATUS_ENUM[child["status"]]
    assert TOKEN_ID.match(child["yesTokenId"]) and TOKEN_ID.match(child["noTokenId"])
    assert child["yesLabel"] and child["noLabel"] and child["rules"]
    assert is_decimal(child["volume"])
    for key in ("createdAt", "cutoffAt", "resolvedAt"):
        assert is_int(child[key]) and child[key] >= 0


def check_market(market: dict[str, Any], *, listing: bool = True) -> None:
    """MarketData as the contract (shared/opinion-api.md 3.1) describes it."""
    assert is_int(market["marketId"]) and market["marketId"] > 0
    assert isinstance(market["marketTitle"], str) and market["marketTitle"]
    assert market["status"] in STATUS_ENUM
    assert market["statusEnum"] == STATUS_ENUM[market["status"]]
    assert market["marketType"] in (0, 1)
    for key in ("yesLabel", "noLabel", "rules", "yesTokenId", "noTokenId", "conditionId",
                "resultTokenId", "questionId", "slug"):  # fmt: skip
        assert isinstance(market[key], str), key
    for key in ("volume", "volume24h", "volume7d"):
        assert is_decimal(market[key]) and Decimal(market[key]) >= 0, key
    assert Decimal(market["volume"]) >= Decimal(market["volume7d"]) >= Decimal(market["volume24h"])
    assert market["quoteToken"] == USDT and market["chainId"] == "56"
    assert market["incentiveFactor"] == {}
    assert isinstance(market["labels"], list)
    for key in ("createdAt", "cutoffAt", "resolvedAt"):
        assert is_int(market[key]) and market[key] >= 0, key
    assert market["createdAt"] > 0
    assert (market["resolvedAt"] > 0) == (market["status"] == 4)
    if listing:
        assert market["conditionId"] == ""
    if market["marketType"] == 0:
        assert market["childMarkets"] is None
        assert TOKEN_ID.match(market["yesTokenId"]) and TOKEN_ID.match(market["noTokenId"])
        assert market["yesLabel"] and market["noLabel"]
    else:
        assert market["yesLabel"] == market["noLabel"] == market["rules"] == ""
        assert market["yesTokenId"] == market["noTokenId"] == ""
        if market["childMarkets"] is not None:
            assert 2 <= len(market["childMarkets"]) <= 5
            for child in market["childMarkets"]:
                check_child(child)
            total = sum(Decimal(child["volume"]) for child in market["childMarkets"])
            assert total == Decimal(market["volume"])


def check_trade(row: dict[str, Any]) -> None:
    """UserTradeData as the contract (3.3) describes it, plus the simulator's arithmetic."""
    assert TX_HASH.match(row["txHash"])
    assert is_int(row["marketId"]) and is_int(row["rootMarketId"])
    assert isinstance(row["marketTitle"], str) and isinstance(row["rootMarketTitle"], str)
    assert row["side"] in ("BUY", "SELL", "MERGE")
    assert row["outcomeSide"] in (1, 2)
    assert row["outcomeSideEnum"] == {1: "Yes", 2: "No"}[row["outcomeSide"]]
    assert isinstance(row["outcome"], str) and row["outcome"]
    for key in ("price", "shares", "amount", "fee", "profit", "quoteTokenUsdPrice", "usdAmount"):
        assert is_decimal(row[key]), key
    price, shares = Decimal(row["price"]), Decimal(row["shares"])
    assert 0 < price < 1 and shares > 0
    assert Decimal(row["amount"]) == price * shares
    assert Decimal(row["usdAmount"]) == Decimal(row["amount"]) * Decimal(row["quoteTokenUsdPrice"])
    assert Decimal(row["fee"]) >= 0
    assert row["side"] != "BUY" or Decimal(row["profit"]) == 0
    assert row["quoteToken"] == USDT and row["chainId"] == "56"
    assert row["status"] == 2 and row["statusEnum"] == "Filled"
    assert is_int(row["createdAt"]) and row["createdAt"] > 1_600_000_000
