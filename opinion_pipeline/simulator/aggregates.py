"""Figures derived from fills: a wallet's leaderboard values (positions: positions.py).

Sums are taken in integer units (price 10^-3 x shares 10^-6 = 10^-9 quote units; profit
10^-18) and turned into decimal strings once at the end, so nothing passes through float.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from opinion_pipeline.simulator.trades import QUOTE_USD_UNITS, Fill
from opinion_pipeline.simulator.util import scaled

LEADERBOARD_TYPES = ("volume", "profit", "points")


def leaderboard_value(fills: Sequence[Fill], since: int, data_type: str) -> Decimal:
    """A wallet's volume (USD), realised profit or points over fills at or after ``since``."""
    volume = profit = count = 0
    for fill in fills:
        if fill.created_at < since:
            continue
        count += 1
        volume += fill.price * fill.shares * QUOTE_USD_UNITS[fill.quote_price]
        if fill.side:
            profit += fill.profit
    if data_type == "volume":
        return scaled(volume, 13)
    if data_type == "profit":
        return scaled(profit, 18)
    return Decimal(volume // 10**14 + 5 * count)  # points: 1 per $10 traded + 5 per fill
