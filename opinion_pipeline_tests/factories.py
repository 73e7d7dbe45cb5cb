"""Valid API rows for tests that need exact control over the data."""

from __future__ import annotations

import itertools
from typing import Any

USDT = "0x55d398326f99059fF775485246999027B3197955"
_counter = itertools.count(1)


def trade_row(**overrides: Any) -> dict[str, Any]:
    number = next(_counter)
    row: dict[str, Any] = {
        "txHash": f"0x{number:064x}",
        "marketId": 100 + number % 7,
        "rootMarketId": 100 + number % 7,
        "marketTitle": f"Market {number % 7}",
        "rootMarketTitle": f"Market {number % 7}",
        "side": "BUY" if number % 3 else "SELL",
        "outcome": "YES",
        "outcomeSide": 1,
        "outcomeSideEnum": "Yes",
        "price": "0.42",
        "shares": "1000.5",
        "amount": "420.21",
        "fee": "0.1",
        "profit": "0" if number % 3 else "12.5",
        "quoteToken": USDT,
        "quoteTokenUsdPrice": "1",
        "usdAmount": "420.21",
        "status": 2,
        "statusEnum": "Filled",
        "chainId": "56",
        "createdAt": 1_700_000_000 + number,
    }
    row.update(overrides)
    return row


def wallet(number: int) -> str:
    return f"0x{number:040x}"


def market_row(market_id: int, **overrides: Any) -> dict[str, Any]:
    """A binary market as the market list sends it (MarketData)."""
    row: dict[str, Any] = {
        "marketId": market_id,
        "marketTitle": f"Will thing {market_id} happen?",
        "status": 2,
        "statusEnum": "Activated",
        "marketType": 0,
        "childMarkets": None,
        "yesLabel": "YES",
        "noLabel": "NO",
        "rules": "Resolves YES if it happens.",
        "yesTokenId": str(10**76 + market_id),
        "noTokenId": str(2 * 10**76 + market_id),
        "conditionId": "",
        "resultTokenId": "",
        "questionId": f"0x{market_id:064x}",
        "volume": "78063.008123050690157600",
        "volume24h": "1200.5",
        "volume7d": "9000",
        "quoteToken": USDT,
        "chainId": "56",
        "incentiveFactor": {},
        "createdAt": 1_700_000_000,
        "cutoffAt": 1_800_000_000,
        "resolvedAt": 0,
        "slug": f"thing-{market_id}",
        "labels": ["Crypto"],
    }
    row.update(overrides)
    return row
