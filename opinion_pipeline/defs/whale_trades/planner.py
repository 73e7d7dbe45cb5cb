"""Which whales a whale-sync run polls, within one minute's share of the key's budget.

One key allows ~900 requests a minute; polling every whale every minute tops out near 850
whales, and most whales trade once a week. So each run spends its budget where new trades are
likely:

1. **Budget.** ``poll_seconds`` x (the key's rate - what the market sweep, discovery and
   positions reserve per minute), less what repairs were given this run. Sized so the run's
   fetching ends inside its minute: ticks are neither queued nor skipped however large the
   universe.
2. **New whales** (nothing stored yet: their history must be read) come first.
3. **Floor.** The stalest ``ceil(N x run / (max_interval - run))`` whales, so every whale is
   polled at least every ``max_interval`` (one run of margin), whatever its rate.
4. **Latency piled up.** The rest of the budget goes to the whales whose unseen trades have
   waited longest in total: expected new trades (estimated rate x time since the last poll)
   times that time, which polls a whale every T ~ 1/sqrt(rate). The rate is the larger of an
   exponentially weighted rate (time constant ``SHORT_TAU_S``: a burst shows at once) and the
   mean over the last 30 days (or the history held, if shorter), never below ``PRIOR_PER_S``.
   A whale's cost is one request plus one per 20 expected trades.

Everything is derived from the warehouse (stored trades, ``whales.last_polled_at``), so a
SIGKILL at any point loses nothing: the next run plans again from what was committed. The plan
of each run is written to ``whale_polling`` for the UI (estimated rate, next due time).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from opinion_pipeline.defs.whale_trades.tables import WHALE_POLLING
from opinion_pipeline.warehouse.port import WarehouseSession

SHORT_TAU_S = 3600.0
LONG_WINDOW_S = 30 * 86400.0
PRIOR_PER_S = 1.0 / LONG_WINDOW_S  # one trade a month
BACKFILL_COST = 5  # requests a new whale's history is planned at (unknown until read)
PAGE_ROWS = 20


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
        }


def poll_cost(expected_trades: float) -> int:
    return 1 + int(expected_trades // PAGE_ROWS)


def floor_quota(whales: int, *, run_interval_s: float, max_interval_s: float) -> int:
    """Stalest whales per run that keep every whale within ``max_interval_s``."""
    spread = max(run_interval_s, max_interval_s - run_interval_s)
    return math.ceil(whales * run_interval_s / spread) if whales else 0


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
    # By the latency the whale's unseen trades have piled up (rate x age^2 / 2), not by their
    # count: that polls a whale every T ~ 1/sqrt(rate), which minimises the mean detection
    # latency for a fixed budget; ordering by the count (T ~ 1/rate) spent the budget on the
    # busiest whales and left the quiet majority to the floor (BENCHMARKS.md, polling model).
    likely = sorted(
        (s for s in known if s.address not in chosen),
        key=lambda s: (-plan.expected[s.address] * staleness[s.address], s.address),
    )
    for state in likely:
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
           sum(exp(-greatest(0, $now - epoch(created_at)) / $tau)) / $tau,
           count(*) / greatest(3600.0, least($window, $now - min(epoch(created_at))))
    FROM trades
    WHERE wallet IN (SELECT unnest($wallets)) AND epoch(created_at) > $now - $window
    GROUP BY wallet
"""


def whale_states(
    session: WarehouseSession, wallets: Sequence[str], *, now: float, stored: set[str]
) -> list[WhaleState]:
    """Each whale's last poll and estimated trade rate, from the warehouse (SIGKILL-safe)."""
    params = {"wallets": list(wallets), "now": now, "tau": SHORT_TAU_S, "window": LONG_WINDOW_S}
    rates = {
        wallet: max(float(short or 0), float(long or 0), PRIOR_PER_S)
        for wallet, short, long in session.query(_RATES, params)
    }
    polled = dict(
        session.query(
            "SELECT address, epoch(last_polled_at) FROM whales "
            "WHERE address IN (SELECT unnest($wallets)) AND last_polled_at IS NOT NULL",
            {"wallets": list(wallets)},
        )
    )
    return [
        WhaleState(
            address=wallet,
            last_polled=None if polled.get(wallet) is None else float(polled[wallet]),
            rate_per_s=rates.get(wallet, PRIOR_PER_S),
            new=wallet not in stored,
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

    Next due: now for a whale polled this run; otherwise when its expected trades reach this
    run's cut-off, and never later than its last poll + ``max_interval_s``.
    """
    if not states:
        return
    chosen = set(plan.polled)
    cutoff = plan.cutoff_expected
    rows = []
    for state in states:
        if state.address in chosen or state.last_polled is None:
            due = now
        else:
            latest = state.last_polled + max_interval_s
            by_rate = state.last_polled + cutoff / state.rate_per_s if cutoff > 0 else latest
            due = max(now, min(latest, by_rate))
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
