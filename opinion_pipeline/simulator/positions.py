"""/positions/user/{wallet} (contract 3.4): a wallet's positions, coherent with its fills.

A position is a (market, outcome side) with shares held (bought - sold - merged > 0). Its
``avgEntryPrice`` is the average over its buys (cost / shares bought), ``currentValueInQuoteToken``
the shares at the token's current price (the hourly mid; 1 or 0 once resolved), and
``claimStatus`` follows resolution.py. Positions of resolved markets stay listed: losers
(never redeemed, value 0) and winners alike, Claimable until claimed, then Claimed.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from opinion_pipeline.simulator.ledger import Tally, tally
from opinion_pipeline.simulator.markets import DAY, STATUS_ENUM, Market
from opinion_pipeline.simulator.resolution import claim_status
from opinion_pipeline.simulator.trades import OUTCOME_SIDE_ENUM, Fill
from opinion_pipeline.simulator.util import EXACT, USDT_BSC, dec_str, scaled

CLAIM_ENUM = {0: "None", 1: "Claimable", 2: "Claiming", 3: "Claimed", 4: "Failed"}
PRECISION = Decimal(1).scaleb(-18)
PERCENT = Decimal("0.01")


def _quantized(value: Decimal, quantum: Decimal = PRECISION) -> str:
    return dec_str(value.quantize(quantum, context=EXACT))


def _percent(part: Decimal, whole: Decimal) -> str:
    if not whole:
        return "0"
    return _quantized(EXACT.divide(part * 100, whole), PERCENT)


def positions(
    fills: Sequence[Fill], leaves: Sequence[Market], now: int, *, seed: int, wallet: str
) -> list[dict[str, object]]:
    """Positions with shares held, largest first (ties: market id, side)."""
    held = [(key, entry) for key, entry in tally(fills).items() if entry.held > 0]
    held.sort(key=lambda item: (-item[1].held, leaves[item[0][0]].market_id, item[0][1]))
    return [
        _position(leaves[leaf], side, entry, now, seed=seed, wallet=wallet)
        for (leaf, side), entry in held
    ]


def _position(
    market: Market, side: int, entry: Tally, now: int, *, seed: int, wallet: str
) -> dict[str, object]:
    shares = scaled(entry.held, 6)
    average = EXACT.divide(scaled(entry.cost, 3), entry.bought) if entry.bought else Decimal(0)
    average = average.quantize(PRECISION, context=EXACT)
    current = scaled(market.mid_price(side, now), 3)
    previous = scaled(market.mid_price(side, now - DAY), 3)
    basis = EXACT.multiply(average, shares)
    pnl = EXACT.multiply(current - average, shares)
    status = market.status(now)
    claim = claim_status(seed, wallet, market, side, now)
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
