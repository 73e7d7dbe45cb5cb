"""Figures derived from fills: a wallet's positions and its leaderboard values.

Sums are taken in integer units (price 10^-3 x shares 10^-6 = 10^-9 quote units) and turned
into decimal strings once at the end, so nothing passes through float.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from opinion_pipeline.simulator.markets import DAY, STATUS_ENUM, Market
from opinion_pipeline.simulator.trades import OUTCOME_SIDE_ENUM, QUOTE_USD_UNITS, Fill
from opinion_pipeline.simulator.util import EXACT, USDT_BSC, dec_str, scaled

CLAIM_ENUM = {0: "None", 1: "Claimable", 2: "Claiming", 3: "Claimed", 4: "Failed"}
PRECISION = Decimal(1).scaleb(-18)
PERCENT = Decimal("0.01")
LEADERBOARD_TYPES = ("volume", "profit", "points")


def _quantized(value: Decimal, quantum: Decimal = PRECISION) -> str:
    return dec_str(value.quantize(quantum, context=EXACT))


def _percent(part: Decimal, whole: Decimal) -> str:
    if not whole:
        return "0"
    return _quantized(EXACT.divide(part * 100, whole), PERCENT)


def positions(fills: Sequence[Fill], leaves: Sequence[Market], now: int) -> list[dict[str, object]]:
    """Open positions (net shares > 0) per market and outcome, largest first."""
    book: dict[tuple[int, int], list[int]] = {}
    for fill in fills:
        entry = book.setdefault((fill.leaf, fill.outcome_side), [0, 0, 0])
        if fill.side == 0:  # BUY adds; SELL and MERGE reduce the side they name
            entry[0] += fill.shares
            entry[1] += fill.shares
            entry[2] += fill.shares * fill.price
        else:
            entry[0] -= fill.shares
    rows = []
    for (leaf, side), (net, bought, cost) in book.items():
        if net > 0:
            rows.append((net, leaves[leaf], side, bought, cost))
    rows.sort(key=lambda row: (-row[0], row[1].market_id, row[2]))
    return [_position(*row, now) for row in rows]


def _position(
    net: int, market: Market, side: int, bought: int, cost: int, now: int
) -> dict[str, object]:
    shares = scaled(net, 6)
    average = EXACT.divide(scaled(cost, 3), bought) if bought else Decimal(0)
    average = average.quantize(PRECISION, context=EXACT)
    current = scaled(market.mid_price(side, now), 3)
    previous = scaled(market.mid_price(side, now - DAY), 3)
    basis = EXACT.multiply(average, shares)
    pnl = EXACT.multiply(current - average, shares)
    status = market.status(now)
    claim = 1 if status == 4 and (side == 1) == market.wins else 0
    root = market.root
    return {
        "marketId": market.market_id,
        "marketTitle": market.title,
        "marketStatus": status,
        "marketStatusEnum": STATUS_ENUM[status],
        "marketCutoffAt": market.cutoff_at,
        "rootMarketId": root.market_id,
        "rootMarketTitle": root.title,
        "outcome": market.yes_label if side == 1 else market.no_label,
        "outcomeSide": side,
        "outcomeSideEnum": OUTCOME_SIDE_ENUM[side],
        "sharesOwned": dec_str(shares),
        "sharesFrozen": "0",
        "unrealizedPnl": _quantized(pnl),
        "unrealizedPnlPercent": _percent(pnl, basis),
        "dailyPnlChange": _quantized(EXACT.multiply(current - previous, shares)),
        "dailyPnlChangePercent": _percent(current - previous, previous),
        "conditionId": market.condition_id,
        "tokenId": market.yes_token if side == 1 else market.no_token,
        "currentValueInQuoteToken": dec_str(EXACT.multiply(current, shares)),
        "avgEntryPrice": dec_str(average),
        "claimStatus": claim,
        "claimStatusEnum": CLAIM_ENUM[claim],
        "quoteToken": USDT_BSC,
    }


def leaderboard_value(fills: Sequence[Fill], since: int, data_type: str) -> Decimal:
    """A wallet's volume (USD), realised profit or points over fills at or after ``since``."""
    volume = profit = count = 0
    for fill in fills:
        if fill.created_at < since:
            continue
        count += 1
        volume += fill.price * fill.shares * QUOTE_USD_UNITS[fill.quote_price]
        if fill.side:
            profit += (fill.price - fill.entry) * fill.shares
    if data_type == "volume":
        return scaled(volume, 13)
    if data_type == "profit":
        return scaled(profit, 9)
    return Decimal(volume // 10**14 + 5 * count)  # points: 1 per $10 traded + 5 per fill
