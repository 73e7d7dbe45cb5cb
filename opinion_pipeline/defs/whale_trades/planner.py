"""Which whales a whale-sync run polls, within one minute's share of the key's budget.

One key allows ~900 requests a minute; polling every whale every minute tops out near 850
whales, and most whales trade once a week. So each run spends its budget where new trades are
likely:

1. **Budget.** ``poll_seconds`` x (the key's rate - what the market sweep, discovery and
   positions reserve per minute), less what repairs were given this run. Sized so the run's
   fetching ends inside its minute: ticks are neither queued nor skipped however large the
   universe.
2. **New whales** (never polled, nothing stored: their history must be read) come first.
3. **Floor.** The stalest ``ceil(N x run / (max_interval - run))`` whales, so every whale is
   polled at least every ``max_interval`` (one run of margin), whatever its rate.
4. **Two tiers for the 95th percentile, or round-robin.** The rest of the budget goes by how
   overdue a whale is against its target interval (time since the last poll / target). The
   targets come from ``busy_tier``: the ``k`` busiest whales (by estimated rate) every ``T``,
   all others every ``F <= max_interval``, with ``(k, T, F)`` chosen within the budget to
   minimise the estimated p95 of the detection latency: the 95th percentile of a mixture of
   uniform waits, U(0, T) for the busy tier's share of the trades and U(0, F) for the others'
   (``tier_p95``). Round-robin (every whale once a cycle of whales / budget runs, p95 0.95 x
   the cycle) is one of the candidates, so a split is only taken when estimated better; the
   estimate chosen is the run's ``plan_estimated_p95_minutes``. Ordering by the latency piled
   up (T ~ 1/sqrt(rate)) gave a better median but a p95 worse than round-robin. Each rate
   counts ``UNFORESEEN`` x the mean rate on top (a quiet whale's burst is only seen once
   polled). The rate is the larger of an exponentially weighted rate (time constant
   ``SHORT_TAU_S``: a burst shows at once) and the mean over the last 30 days (or the history
   held, if shorter), never below ``PRIOR_PER_S``. A whale's cost is one request plus one per
   20 expected trades.

Everything is derived from the warehouse (stored trades, ``whales.last_polled_at``), so a
SIGKILL at any point loses nothing: the next run plans again from what was committed. The plan
of each run is written to ``whale_polling`` for the UI (estimated rate, next due time).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from opinion_pipeline.defs.whale_trades.tables import WHALE_POLLING
from opinion_pipeline.warehouse.port import WarehouseSession

SHORT_TAU_S = 3600.0
LONG_WINDOW_S = 30 * 86400.0
PRIOR_PER_S = 1.0 / LONG_WINDOW_S  # one trade a month
BACKFILL_COST = 5  # requests a new whale's history is planned at (unknown until read)
PAGE_ROWS = 20
TAIL = 0.05  # the latency goal is on the 95th percentile
UNFORESEEN = 0.05  # share of the mean rate added to each whale's (tuned: BENCHMARKS.md)


@dataclass(frozen=True)
class PollBudget:
    """The requests one run may spend on polls (module docstring, point 1)."""

    rate_per_second: float
    poll_seconds: float = 50.0
    reserved_per_minute: int = 60
    repair_requests: int = 0

    @property
    def requests(self) -> int:
        share = self.poll_seconds * (self.rate_per_second - self.reserved_per_minute / 60.0)
        return max(0, int(share) - self.repair_requests)


@dataclass(frozen=True)
class WhaleState:
    address: str
    last_polled: float | None  # Unix seconds; None: never polled
    rate_per_s: float  # estimated trade rate
    new: bool  # nothing stored yet: its history is still to read


class Tiers(NamedTuple):
    """A two-tier plan (module docstring, point 4) and its estimated p95 latency."""

    busy: int  # the busiest whales, polled every busy_interval_s
    busy_interval_s: float
    rest_interval_s: float  # every other whale
    p95_s: float


NO_TIERS = Tiers(0, 0.0, 0.0, 0.0)  # a plan before busy_tier has run (immutable: shared)


@dataclass
class PollPlan:
    polled: list[str] = field(default_factory=list)  # in planning order
    budget: int = 0
    planned_requests: int = 0
    new_whales: int = 0
    floor_polls: int = 0
    expected_polls: int = 0
    skipped: int = 0
    cutoff_expected: float = 0.0  # expected trades of the last whale chosen by expectation
    most_overdue_s: float = 0.0  # staleness of the stalest whale, before this run
    tiers: Tiers = NO_TIERS  # the targets of every whale not otherwise due
    target_s: dict[str, float] = field(default_factory=dict)  # each whale's target interval
    expected: dict[str, float] = field(default_factory=dict)

    def numbers(self) -> dict[str, float]:
        return {
            "plan_whales_planned": len(self.polled),
            "plan_whales_skipped": self.skipped,
            "plan_budget_requests": self.budget,
            "plan_requests_planned": self.planned_requests,
            "plan_new_whales": self.new_whales,
            "plan_floor_polls": self.floor_polls,
            "plan_expected_polls": self.expected_polls,
            "plan_expected_trades_cutoff": round(self.cutoff_expected, 4),
            "plan_most_overdue_minutes": round(self.most_overdue_s / 60.0, 1),
            "plan_busy_whales": self.tiers.busy,
            "plan_busy_interval_minutes": round(self.tiers.busy_interval_s / 60.0, 1),
            "plan_rest_interval_minutes": round(self.tiers.rest_interval_s / 60.0, 1),
            "plan_estimated_p95_minutes": round(self.tiers.p95_s / 60.0, 2),
        }


def poll_cost(expected_trades: float) -> int:
    return 1 + int(expected_trades // PAGE_ROWS)


def floor_quota(whales: int, *, run_interval_s: float, max_interval_s: float) -> int:
    """Stalest whales per run that keep every whale within ``max_interval_s``."""
    spread = max(run_interval_s, max_interval_s - run_interval_s)
    return math.ceil(whales * run_interval_s / spread) if whales else 0


def tier_p95(
    busy_share: ArrayLike, busy_interval: ArrayLike, rest_interval: ArrayLike, q: float = 1 - TAIL
) -> np.ndarray:
    """The ``q`` quantile of the detection latency when ``busy_share`` of the trades wait
    U(0, ``busy_interval``) and the others U(0, ``rest_interval``) (element-wise).

    The mixture's CDF is piecewise linear: below the shorter interval both tiers add to it;
    above, only the longer one does.
    """
    share = np.asarray(busy_share, dtype=float)
    busy, rest = np.asarray(busy_interval, dtype=float), np.asarray(rest_interval, dtype=float)
    shorter, longer = np.minimum(busy, rest), np.maximum(busy, rest)
    settled = np.where(busy <= rest, share, 1.0 - share)  # share done by the shorter interval
    with np.errstate(divide="ignore", invalid="ignore"):
        below = q / (share / busy + (1.0 - share) / rest)
        above = longer * (q - settled) / (1.0 - settled)
    return np.where(below <= shorter, below, above)


def busy_tier(
    rates: Sequence[float], *, polls_per_run: int, run_interval_s: float, max_interval_s: float
) -> Tiers:
    """How many of the busiest whales to poll often, how often, and how often the rest.

    ``rates`` sorted busiest first. The top ``k`` are polled every ``T``, the rest every
    ``F <= max_interval_s``, within ``polls_per_run``; ``(k, T, F)`` minimise the p95 of a
    mixture of uniform waits (``tier_p95``), each tier weighted by its share of the trades.
    Round-robin (every whale once a cycle of ``whales / polls_per_run`` runs, p95 0.95 x the
    cycle) is a candidate, so no split is chosen that is not estimated better.
    """
    count = len(rates)
    if not count:
        return Tiers(0, max_interval_s, max_interval_s, 0.0)
    if polls_per_run <= 0:
        return Tiers(0, max_interval_s, max_interval_s, (1 - TAIL) * max_interval_s)
    ordered = np.asarray(rates, dtype=float)
    # A quiet whale's next trades are mostly unforeseeable (a burst shows only once polled):
    # every whale is counted with a share of the mean rate on top of its own estimate.
    ordered = ordered + UNFORESEEN * ordered.mean()
    total = float(ordered.sum()) or 1.0
    k = np.arange(0, count + 1)
    busy_share = np.clip(np.concatenate(([0.0], np.cumsum(ordered))) / total, 0.0, 1.0)
    cycle = max(run_interval_s, count * run_interval_s / polls_per_run)
    best = Tiers(count, cycle, cycle, (1 - TAIL) * cycle)  # everyone in turn: round-robin
    for rest_interval in np.geomspace(cycle, max(cycle, max_interval_s), 24):
        busy_polls = polls_per_run - (count - k) * run_interval_s / rest_interval
        with np.errstate(divide="ignore", invalid="ignore"):
            interval = np.where(busy_polls > 0, run_interval_s * k / busy_polls, np.inf)
        interval = np.maximum(interval, run_interval_s)
        p95 = tier_p95(busy_share, interval, rest_interval)
        at = int(np.argmin(p95))
        if p95[at] < best.p95_s - 1e-9:
            busy_interval = float(min(interval[at], rest_interval)) if at else rest_interval
            best = Tiers(at, busy_interval, float(rest_interval), float(p95[at]))
    return best


def plan_polls(
    states: Sequence[WhaleState],
    *,
    now: float,
    budget: int,
    max_interval_s: float,
    run_interval_s: float = 60.0,
) -> PollPlan:
    """Choose this run's whales (module docstring, points 2-4)."""
    plan = PollPlan(budget=budget)
    staleness = {
        s.address: math.inf if s.last_polled is None else max(0.0, now - s.last_polled)
        for s in states
    }
    finite = [age for age in staleness.values() if age != math.inf]
    plan.most_overdue_s = max(finite, default=0.0)
    plan.expected = {
        s.address: s.rate_per_s * min(staleness[s.address], LONG_WINDOW_S) for s in states
    }
    spent = 0
    chosen: set[str] = set()

    def take(address: str, cost: int) -> bool:
        nonlocal spent
        if spent + cost > budget:
            return False
        spent += cost
        chosen.add(address)
        plan.polled.append(address)
        return True

    for state in states:
        if state.new and take(state.address, BACKFILL_COST):
            plan.new_whales += 1
    known = [s for s in states if not s.new]
    quota = floor_quota(len(known), run_interval_s=run_interval_s, max_interval_s=max_interval_s)
    stalest = sorted(known, key=lambda s: (-staleness[s.address], s.address))
    for state in stalest[:quota]:
        if take(state.address, poll_cost(plan.expected[state.address])):
            plan.floor_polls += 1
    # The p95 of the detection latency is what the key's budget buys down: the busiest whales
    # share what the floor leaves, each every T; the rest wait for the floor. Ordering by the
    # latency piled up (T ~ 1/sqrt(rate)) or by expected trades (T ~ 1/rate) spread the budget
    # thinner and left p95 worse than round-robin (BENCHMARKS.md, polling model).
    busiest = sorted(known, key=lambda s: (-s.rate_per_s, s.address))
    floor_cycle = max(run_interval_s, max_interval_s - run_interval_s)
    plan.tiers = tiers = busy_tier(
        [s.rate_per_s for s in busiest],
        polls_per_run=budget - spent + plan.floor_polls,  # the floor's polls are the rest's
        run_interval_s=run_interval_s,
        max_interval_s=floor_cycle,
    )
    target = {s.address: tiers.rest_interval_s for s in known}
    target.update((s.address, tiers.busy_interval_s) for s in busiest[: tiers.busy])
    plan.target_s = target
    due_first = sorted(
        (s for s in known if s.address not in chosen),
        key=lambda s: (-staleness[s.address] / target[s.address], -s.rate_per_s, s.address),
    )
    for state in due_first:
        expected = plan.expected[state.address]
        if spent + 1 > budget:
            break
        if take(state.address, poll_cost(expected)):
            plan.expected_polls += 1
            plan.cutoff_expected = expected
    plan.planned_requests = spent
    plan.skipped = len(states) - len(plan.polled)
    return plan


_RATES = """
    SELECT wallet,
           sum(exp(-greatest(0, $now - epoch(created_at)) / $tau))
               FILTER (WHERE epoch(created_at) > $now - $window) / $tau,
           count(*) FILTER (WHERE epoch(created_at) > $now - $window),
           greatest(3600.0, least($window, $now - min(epoch(created_at))))
    FROM trades
    WHERE wallet IN (SELECT unnest($wallets))
    GROUP BY wallet
"""


def estimate_rate(short_per_s: float, recent_trades: int, held_s: float) -> float:
    """A whale's trade rate: the larger of the exponentially weighted rate (a burst shows at
    once) and the mean over the last 30 days or the history held if shorter, never below the
    prior."""
    return max(short_per_s, recent_trades / max(held_s, 1.0), PRIOR_PER_S)


def whale_states(
    session: WarehouseSession, wallets: Sequence[str], *, now: float, stored: set[str]
) -> list[WhaleState]:
    """Each whale's last poll and estimated trade rate, from the warehouse (SIGKILL-safe)."""
    params = {"wallets": list(wallets), "now": now, "tau": SHORT_TAU_S, "window": LONG_WINDOW_S}
    rates = {
        wallet: estimate_rate(float(short or 0), int(count or 0), float(held))
        for wallet, short, count, held in session.query(_RATES, params)
    }
    polled = dict(
        session.query(
            "SELECT address, epoch(last_polled_at) FROM whales "
            "WHERE address IN (SELECT unnest($wallets)) AND last_polled_at IS NOT NULL",
            {"wallets": list(wallets)},
        )
    )
    # New: never polled and nothing stored. A whale whose history was read and held no trade
    # is not new: planned as new (BACKFILL_COST, ahead of all others) on every run, 13 such
    # whales of 300 took 65 of each run's 67 requests (benchmarks.polling --quick).
    return [
        WhaleState(
            address=wallet,
            last_polled=None if polled.get(wallet) is None else float(polled[wallet]),
            rate_per_s=rates.get(wallet, PRIOR_PER_S),
            new=wallet not in stored and polled.get(wallet) is None,
        )
        for wallet in wallets
    ]


def record_plan(
    session: WarehouseSession,
    states: Sequence[WhaleState],
    plan: PollPlan,
    *,
    now: float,
    max_interval_s: float,
) -> None:
    """Write each whale's estimated rate, expected trades and next due time (``whale_polling``).

    Next due: now for a whale polled this run; otherwise its last poll + its target interval
    (the busy tier's or the others', point 4), never later than last poll + ``max_interval_s``.
    """
    if not states:
        return
    chosen = set(plan.polled)
    rows = []
    for state in states:
        if state.address in chosen or state.last_polled is None:
            due = now
        else:
            target = plan.target_s.get(state.address, max_interval_s)
            due = max(now, state.last_polled + min(target, max_interval_s))
        rows.append(
            {
                "wallet": state.address,
                "trades_per_hour": round(state.rate_per_s * 3600, 6),
                "expected_new": round(plan.expected.get(state.address, 0.0), 6),
                "planned": state.address in chosen,
                "next_due_at": int(due),
                "planned_at": int(now),
            }
        )
    session.upsert(WHALE_POLLING, pd.DataFrame.from_records(rows))
