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
