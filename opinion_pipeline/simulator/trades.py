"""Each wallet's fills: a seeded Poisson process, generated up to simulated now and cached.

Fills are drawn one event at a time from a per-wallet RNG in time order, so the sequence is the
same however the requests that extend it are spaced. They are stored as compact tuples (money as
integers in fixed units) and rendered to UserTradeData dicts only when served, which keeps a
world of 1,000 wallets and a few hundred thousand fills small and fast.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from typing import NamedTuple

from opinion_pipeline.simulator.activity import Arrivals
from opinion_pipeline.simulator.holdings import HoldingsBook
from opinion_pipeline.simulator.markets import DAY, Market
from opinion_pipeline.simulator.util import (
    CHAIN_ID,
    EXACT,
    USDT_BSC,
    dec_str,
    hex_id,
    scaled,
    seeded_rng,
)
from opinion_pipeline.simulator.wallets import TRADES_PER_HOUR, Wallet

SIDES = ("BUY", "SELL", "MERGE")
QUOTE_USD_PRICES = ("1", "0.9998", "1.0001", "0.9999")
QUOTE_USD_UNITS = (10000, 9998, 10001, 9999)  # the same prices in 10^-4 units
OUTCOME_SIDE_ENUM = {1: "Yes", 2: "No"}
MULTI_FILL_RATE = 0.05
TWIN_RATE = 0.005
MERGE_RATE = 0.02


class Fill(NamedTuple):
    """One fill. price in thousandths, shares in millionths, fee in basis points, profit in
    10^-18 quote units (a SELL/MERGE's price minus the wallet's average entry so far, times
    shares; 0 on a BUY)."""

    created_at: int
    tx: int  # per-wallet transaction number; txHash is derived from it
    leaf: int  # index into the world's tradeable markets
    side: int  # index into SIDES
    outcome_side: int  # 1 yes, 2 no
    price: int
    shares: int
    fee_bp: int
    profit: int
    quote_price: int  # index into QUOTE_USD_PRICES


ActiveLeaves = Callable[[int], tuple[Sequence[int], AbstractSet[int]]]


class WalletTrades:
    """The growing, time-ordered fill list of one wallet."""

    def __init__(
        self,
        wallet: Wallet,
        *,
        seed: int,
        start: int,
        history_days: float,
        leaves: Sequence[Market],
        active_leaves: ActiveLeaves,
        snipes: Sequence[tuple[int, int]],
        activity: str = "profiles",
    ) -> None:
        self.wallet = wallet
        self._leaves = leaves
        self._active = active_leaves
        self._rng = seeded_rng(seed, "trades", wallet.address)
        self._clock_rng = seeded_rng(seed, "arrivals", wallet.address)
        self._lock = threading.Lock()
        self._fills: list[Fill] = []
        self._times: list[int] = []
        self._pending: list[Fill] = []
        self._tx = 0
        self._snipes = list(snipes)  # (time, leaf index), ascending
        self._rate = TRADES_PER_HOUR[wallet.profile] / 3600.0
        self._fixed: list[int] = []
        self._book = HoldingsBook()
        self._next_arrival = float("inf")
        self._arrivals: Arrivals | None = None
        if wallet.profile == "inactive":
            count = self._clock_rng.randint(3, 8)
            low, high = start - 200 * DAY, start - 100 * DAY
            self._fixed = sorted(self._clock_rng.randint(low, high) for _ in range(count))
            self._snipes = []
        elif activity == "heavy-tailed" and wallet.profile in ("heavy", "light"):  # activity.py
            begin = start - history_days * DAY
            self._arrivals = Arrivals(
                seeded_rng(seed, "activity", wallet.address), begin=begin, start=start
            )
            self._advance_arrival()
        elif self._rate > 0:
            self._next_arrival = start - history_days * DAY
            self._advance_arrival()
        roots = sorted({leaf.root.market_id for leaf in leaves})
        liked = set(self._rng.sample(roots, min(5, len(roots))))
        self._favourites = [i for i, leaf in enumerate(leaves) if leaf.root.market_id in liked]

    def _advance_arrival(self) -> None:
        if self._arrivals is not None:
            self._next_arrival = self._arrivals.next()
        else:
            self._next_arrival += self._clock_rng.expovariate(self._rate)

    def visible(self, now: int) -> list[Fill]:
        """Fills with createdAt <= now, oldest first (a new list the caller may keep)."""
        with self._lock:
            self._extend(now)
            return self._fills[: bisect_right(self._times, now)]

    def _extend(self, now: int) -> None:
        while True:
            if not self._pending:
                self._pending = self._next_event()
                if not self._pending:
                    return
            if self._pending[0].created_at > now:
                return
            self._fills.extend(self._pending)
            self._times.extend(fill.created_at for fill in self._pending)
            self._pending = []

    def _next_event(self) -> list[Fill]:
        """The fills of the next event that finds a tradeable market ([] when none remain)."""
        while True:
            snipe_at = self._snipes[0][0] if self._snipes else float("inf")
            fixed_at = self._fixed[0] if self._fixed else float("inf")
            at = min(snipe_at, fixed_at, self._next_arrival)
            if at == float("inf"):
                return []
            moment = int(at)
            if at == snipe_at:
                leaf = self._snipes.pop(0)[1]
                if not self._leaves[leaf].tradeable(moment):
                    continue
                return self._fills_at(moment, leaf, stay=True)
            else:
                if at == fixed_at:
                    self._fixed.pop(0)
                else:
                    self._advance_arrival()
                leaf = self._choose_leaf(moment)
                if leaf is None:
                    continue
            return self._fills_at(moment, leaf)

    def _int(self, low: int, high: int) -> int:
        """Uniform int in [low, high]; faster than Random.randint on this hot path."""
        return low + int(self._rng.random() * (high - low + 1))

    def _pick(self, items: Sequence[int]) -> int:
        return items[int(self._rng.random() * len(items))]

    def _choose_leaf(self, moment: int) -> int | None:
        active, active_set = self._active(moment)
        if not active:
            return None
        liked = [index for index in self._favourites if index in active_set]
        if liked and self._rng.random() < 0.6:
            return self._pick(liked)
        return self._pick(active)

    def _fills_at(self, moment: int, leaf: int, *, stay: bool = False) -> list[Fill]:
        """One event's fills. A SELL or MERGE only disposes of shares the wallet holds (of the
        chosen market, else, unless ``stay``, of another open one it holds); with nothing held
        it is a BUY."""
        random = self._rng.random
        roll = random()
        side = 2 if roll < MERGE_RATE else (0 if roll < 0.62 else 1)
        outcome_side = 1 if random() < 0.6 else 2
        if side:
            held = self._book.held_in(leaf, outcome_side)
            if held is None and not stay:
                held = self._held_elsewhere(moment)
            if held is None:
                side = 0
            else:
                leaf, outcome_side = held
        tx, self._tx = self._tx, self._tx + 1
        market = self._leaves[leaf]
        quote_price = 0 if random() < 0.85 else self._int(1, len(QUOTE_USD_PRICES) - 1)
        fee_bp = self._pick((0, 0, 10, 20, 25))
        count = (self._pick((1, 1, 2)) if random() < MULTI_FILL_RATE else 0) + 1
        mid = market.mid_price(outcome_side, moment)
        fills = []
        for _ in range(count):
            price = min(999, max(1, mid + self._int(-30, 30)))
            if side:
                holding = self._book.shares(leaf, outcome_side)
                if holding <= 0:
                    break
                whole = random() < 0.4
                shares = holding if whole else max(1, int(holding * (0.2 + 0.7 * random())))
            else:
                shares = self._shares()
            fills.append(self._booked(moment, tx, leaf, side, outcome_side, price, shares,
                                      fee_bp, quote_price))  # fmt: skip
        if fills and random() < TWIN_RATE:
            last = fills[-1]
            if not side or self._book.shares(leaf, outcome_side) >= last.shares:
                fills.append(self._booked(moment, tx, leaf, side, outcome_side, last.price,
                                          last.shares, fee_bp, quote_price))  # fmt: skip
        return fills

    def _booked(
        self, moment: int, tx: int, leaf: int, side: int, outcome_side: int, price: int,
        shares: int, fee_bp: int, quote_price: int,
    ) -> Fill:  # fmt: skip
        if side:
            profit = self._book.dispose(leaf, outcome_side, price, shares)
        else:
            self._book.buy(leaf, outcome_side, price, shares)
            profit = 0
        return Fill(moment, tx, leaf, side, outcome_side, price, shares, fee_bp, profit,
                    quote_price)  # fmt: skip

    def _held_elsewhere(self, moment: int) -> tuple[int, int] | None:
        """A (leaf, outcome side) the wallet holds shares of and can trade at ``moment``."""
        open_now = self._active(moment)[1]
        candidates = [key for key in self._book.open_keys() if key[0] in open_now]
        return self._rng.choice(sorted(candidates)) if candidates else None

    def _shares(self) -> int:
        """Share counts in millionths; heavy wallets sometimes trade very large sizes."""
        if self.wallet.profile in ("light", "retail"):
            whole = self._int(5, 500)
        else:
            tier = self._rng.random()
            if tier < 0.7:
                whole = self._int(20, 2000)
            elif tier < 0.95:
                whole = self._int(2000, 20000)
            else:
                whole = self._int(20000, 200000)
        return whole * 1_000_000 + self._int(0, 999_999)


def render_fill(fill: Fill, wallet: Wallet, market: Market, seed: int) -> dict[str, object]:
    """UserTradeData for one fill, canonical (uppercase side, unscaled usdAmount)."""
    price, shares = scaled(fill.price, 3), scaled(fill.shares, 6)
    amount = EXACT.multiply(price, shares)
    fee = EXACT.multiply(amount, scaled(fill.fee_bp, 4))
    profit = scaled(fill.profit, 18)
    quote_price = QUOTE_USD_PRICES[fill.quote_price]
    usd = EXACT.multiply(amount, EXACT.create_decimal(quote_price))
    root = market.root
    return {
        "txHash": hex_id(64, seed, "tx", wallet.address, fill.tx),
        "marketId": market.market_id,
        "rootMarketId": root.market_id,
        "marketTitle": market.title,
        "rootMarketTitle": root.title,
        "side": SIDES[fill.side],
        "outcome": market.yes_label if fill.outcome_side == 1 else market.no_label,
        "outcomeSide": fill.outcome_side,
        "outcomeSideEnum": OUTCOME_SIDE_ENUM[fill.outcome_side],
        "price": dec_str(price),
        "shares": dec_str(shares),
        "amount": dec_str(amount),
        "fee": dec_str(fee),
        "profit": dec_str(profit) if fill.side else "0",
        "quoteToken": USDT_BSC,
        "quoteTokenUsdPrice": quote_price,
        "usdAmount": dec_str(usd),
        "status": 2,
        "statusEnum": "Filled",
        "chainId": CHAIN_ID,
        "createdAt": fill.created_at,
    }
