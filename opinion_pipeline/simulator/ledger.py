"""A wallet's fills summed per (leaf market, outcome side), in exact integer units.

shares in 10^-6, cost and proceeds in 10^-9 quote units (price 10^-3 x shares 10^-6), fees in
10^-13 (amount x basis points). SELL and MERGE both dispose of the outcome side they name at
the row's price. The positions route and the PnL truth view read these sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from opinion_pipeline.simulator.trades import Fill


@dataclass
class Tally:
    bought: int = 0
    cost: int = 0
    sold: int = 0
    proceeds: int = 0
    fees: int = 0
    last_trade_at: int = 0

    @property
    def held(self) -> int:
        return self.bought - self.sold


def tally(fills: Sequence[Fill]) -> dict[tuple[int, int], Tally]:
    """Per (leaf index, outcome side): what the fills bought, sold and paid."""
    book: dict[tuple[int, int], Tally] = {}
    for fill in fills:
        entry = book.get((fill.leaf, fill.outcome_side))
        if entry is None:
            entry = book[(fill.leaf, fill.outcome_side)] = Tally()
        amount = fill.price * fill.shares
        if fill.side == 0:
            entry.bought += fill.shares
            entry.cost += amount
        else:
            entry.sold += fill.shares
            entry.proceeds += amount
        entry.fees += amount * fill.fee_bp
        entry.last_trade_at = max(entry.last_trade_at, fill.created_at)
    return book
