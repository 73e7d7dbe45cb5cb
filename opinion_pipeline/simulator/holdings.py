"""What a wallet holds while its fills are generated, so a SELL or MERGE never exceeds it.

Integer units throughout: shares in 10^-6, cost in 10^-9 quote units (price 10^-3 x shares
10^-6). The average entry price is the average over every BUY of the position so far (total
cost / total shares bought), the rule the positions route and the PnL truth view also use.
"""

from __future__ import annotations


def round_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, ties to even (denominator > 0)."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


class HoldingsBook:
    """Per (leaf, outcome side): [shares held, shares ever bought, cost of those buys]."""

    def __init__(self) -> None:
        self._book: dict[tuple[int, int], list[int]] = {}
        self._open: set[tuple[int, int]] = set()

    def shares(self, leaf: int, side: int) -> int:
        entry = self._book.get((leaf, side))
        return entry[0] if entry else 0

    def held_in(self, leaf: int, preferred: int) -> tuple[int, int] | None:
        """(leaf, side) with shares held in ``leaf``, the preferred side first."""
        for side in (preferred, 3 - preferred):
            if self.shares(leaf, side) > 0:
                return leaf, side
        return None

    def open_keys(self) -> set[tuple[int, int]]:
        return self._open

    def buy(self, leaf: int, side: int, price: int, shares: int) -> None:
        entry = self._book.setdefault((leaf, side), [0, 0, 0])
        entry[0] += shares
        entry[1] += shares
        entry[2] += price * shares
        self._open.add((leaf, side))

    def dispose(self, leaf: int, side: int, price: int, shares: int) -> int:
        """Remove ``shares`` (<= held); the profit against the average entry, in 10^-18 units."""
        entry = self._book[(leaf, side)]
        if shares > entry[0]:
            raise ValueError("cannot dispose of more shares than are held")
        entry[0] -= shares
        if entry[0] == 0:
            self._open.discard((leaf, side))
        bought, cost = entry[1], entry[2]
        return round_half_even((price * bought - cost) * shares * 10**9, bought)
