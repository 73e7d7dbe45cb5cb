"""The simulated world: markets, wallets and their trades, all a function of seed and time.

Markets and wallets are built eagerly (cheap); each wallet's trades are generated the first time
it is asked for and extended as simulated time passes, so starting a world of 1,000 wallets
costs milliseconds and only polled wallets ever cost memory.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from opinion_pipeline.simulator.activity import ACTIVITIES
from opinion_pipeline.simulator.aggregates import leaderboard_value
from opinion_pipeline.simulator.clock import SimClock
from opinion_pipeline.simulator.markets import DAY, HOUR, Market, build_markets, market_data
from opinion_pipeline.simulator.trades import Fill, WalletTrades, render_fill
from opinion_pipeline.simulator.util import seeded_rng
from opinion_pipeline.simulator.wallets import Wallet, build_traders, build_wallets

ACTIVE_CACHE_LIMIT = 100_000  # hour buckets remembered (about 11 years)


class World:
    """Everything the API serves, deterministic in (seed, counts, start time, clock)."""

    def __init__(
        self,
        *,
        seed: int = 42,
        markets: int = 60,
        wallets: int = 30,
        traders: int = 0,
        history_days: float = 14.0,
        activity: str = "profiles",
        start: int,
        clock: SimClock,
    ) -> None:
        self.seed = seed
        self.start = start
        self.clock = clock
        self.history_start = int(start - history_days * DAY)
        self.history_days = history_days
        if activity not in ACTIVITIES:
            raise ValueError(f"activity must be one of {', '.join(ACTIVITIES)}, not {activity!r}")
        self.activity = activity
        self.markets = build_markets(seed, markets, start)
        self.by_id: dict[int, Market] = {
            node.market_id: node for market in self.markets for node in [market, *market.children]
        }
        self.leaves: list[Market] = [leaf for market in self.markets for leaf in market.leaves()]
        self._leaf_index = {leaf.market_id: index for index, leaf in enumerate(self.leaves)}
        self.wallets = build_wallets(seed, wallets)
        self.traders = build_traders(seed, traders, first_index=len(self.wallets))
        self.population = [*self.wallets, *self.traders]  # everyone who trades
        self.by_address = {wallet.address: wallet for wallet in self.population}
        self._snipes = self._plan_snipes()
        self._stores: dict[str, WalletTrades] = {}
        self._lock = threading.Lock()
        self._active: dict[int, tuple[list[int], frozenset[int], list[int]]] = {}

    def now(self) -> int:
        return self.clock.now()

    def _plan_snipes(self) -> dict[str, list[tuple[int, int]]]:
        """Trades placed seconds after a market opens, so syncs meet markets they lack."""
        traders = [wallet for wallet in self.wallets if wallet.profile != "inactive"]
        plan: dict[str, list[tuple[int, int]]] = defaultdict(list)
        if not traders:
            return plan
        for market in self.markets:
            if market.activate_at < self.history_start:
                continue
            rng = seeded_rng(self.seed, "snipe", market.market_id)
            for wallet in rng.sample(traders, min(len(traders), rng.randint(1, 2))):
                leaf = rng.choice(market.leaves())
                moment = market.activate_at + rng.randint(3, 90)
                plan[wallet.address].append((moment, self._leaf_index[leaf.market_id]))
        for entries in plan.values():
            entries.sort()
        return plan

    def active_leaves(self, moment: int) -> tuple[Sequence[int], frozenset[int] | set[int]]:
        """Indexes (list and set) of the leaf markets open for trading at ``moment``."""
        bucket = moment // HOUR
        cached = self._active.get(bucket)
        if cached is None:
            low, high = bucket * HOUR, bucket * HOUR + HOUR
            full, partial = [], []
            for index, leaf in enumerate(self.leaves):
                if leaf.activate_at <= low and leaf.trading_end >= high:
                    full.append(index)
                elif leaf.activate_at < high and leaf.trading_end > low:
                    partial.append(index)
            if len(self._active) > ACTIVE_CACHE_LIMIT:
                self._active.clear()
            cached = self._active[bucket] = (full, frozenset(full), partial)
        full, full_set, partial = cached
        if not partial:
            return full, full_set
        extra = [index for index in partial if self.leaves[index].tradeable(moment)]
        if not extra:
            return full, full_set
        return full + extra, full_set | set(extra)

    def wallet(self, address: str) -> Wallet | None:
        return self.by_address.get(address.lower())

    def _store(self, wallet: Wallet) -> WalletTrades:
        store = self._stores.get(wallet.address)
        if store is None:
            with self._lock:
                store = self._stores.get(wallet.address)
                if store is None:
                    store = WalletTrades(
                        wallet,
                        seed=self.seed,
                        start=self.start,
                        history_days=self.history_days,
                        leaves=self.leaves,
                        active_leaves=self.active_leaves,
                        snipes=self._snipes.get(wallet.address, ()),
                        activity=self.activity,
                    )
                    self._stores[wallet.address] = store
        return store

    def fills(self, wallet: Wallet, now: int) -> list[Fill]:
        """The wallet's fills visible at ``now``, oldest first."""
        return self._store(wallet).visible(now)

    def render(self, wallet: Wallet, fill: Fill) -> dict[str, object]:
        return render_fill(fill, wallet, self.leaves[fill.leaf], self.seed)

    def visible_markets(self, now: int) -> list[Market]:
        return [market for market in self.markets if market.created_at <= now]

    def truth_markets(self, now: int) -> list[dict[str, object]]:
        """Every visible market in listing form (children nested), oldest id first."""
        return [market_data(market, now) for market in self.visible_markets(now)]

    def truth_trades(
        self, now: int, wallet: Wallet | None = None, since: int | None = None
    ) -> list[dict[str, object]]:
        """Visible trades (created at or after ``since``, if given), newest first (ties: wallet
        order, then newest generated first)."""
        keyed = []
        for owner in [wallet] if wallet else self.wallets:
            for position, fill in enumerate(self.fills(owner, now)):
                if since is None or fill.created_at >= since:
                    keyed.append((-fill.created_at, owner.index, -position, owner, fill))
        keyed.sort(key=lambda item: item[:3])
        rows = []
        for *_, owner, fill in keyed:
            row = self.render(owner, fill)
            row["walletAddress"] = owner.address
            rows.append(row)
        return rows

    def leaderboard(self, now: int, data_type: str, period: int) -> list[tuple[Wallet, Decimal]]:
        """(wallet, value) for wallets with trades in the period, best first (the true ranking:
        every trading wallet, tracked or not)."""
        since = now - period * DAY if period else 0
        ranked = []
        for wallet in self.population:
            fills = self.fills(wallet, now)
            if any(fill.created_at >= since for fill in fills):
                ranked.append((wallet, leaderboard_value(fills, since, data_type)))
        ranked.sort(key=lambda item: (-item[1], item[0].address))
        return ranked
