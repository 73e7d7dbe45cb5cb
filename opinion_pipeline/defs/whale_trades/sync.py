"""Incremental sync of every tracked whale's trades.

Per whale: read newest first from page 1 and stop at the first page that reaches trades older
than the newest one stored (its watermark); a whale with nothing stored gets its full history.
Wallets are fetched and written by the shared fan-out (``sync.fanout``): concurrent fetches
under the key's limiter, batched writes in short transactions, per-wallet failure accounting.
A crash loses at most the batch in flight (fetched again next time: the watermark comes from
the stored trades themselves).

Performance (BENCHMARKS.md): a batch is validated in one pandera pass when it is written
(pandera costs ~10 ms per call whatever the size, so validating wallet by wallet used a third
of a core at the API limit).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from opinion_pipeline.defs.whale_registry.registry_file import Whale
from opinion_pipeline.defs.whale_registry.store import (
    inactive_wallets_not_due,
    mark_polled,
    reactivate_whales_with_recent_trades,
)
from opinion_pipeline.defs.whale_trades.coverage import (
    CoverageSummary,
    account_wallets,
    coverage_summary,
)
from opinion_pipeline.defs.whale_trades.planner import (
    PollBudget,
    PollPlan,
    plan_polls,
    record_plan,
    whale_states,
)
from opinion_pipeline.defs.whale_trades.repairs import (
    RepairPlan,
    plan_repairs,
    record_failed_repairs,
    record_repairs,
)
from opinion_pipeline.defs.whale_trades.store import (
    insert_trades,
    resolve_quarantined_trades,
    wallet_watermarks,
)
from opinion_pipeline.defs.whale_trades.validate import prepare_trade_fetches, prepare_trades
from opinion_pipeline.opinion_api import OpinionAuthError, OpinionRegionRefusedError, WalletTrades
from opinion_pipeline.sync.fanout import describe_error, fan_out
from opinion_pipeline.sync.report import ApiCounters, SyncReport
from opinion_pipeline.validation import PayloadUnusableError, Reject
from opinion_pipeline.warehouse.port import Warehouse

# Errors that every wallet would get alike: the sync stops at the first and reports it once.
RUN_WIDE_ERRORS = (OpinionAuthError, OpinionRegionRefusedError)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WhaleSyncOptions:
    alert_usd: float = 10_000.0
    workers: int = 4
    inactive_poll_minutes: int = 60
    inactive_after_days: int = 90
    flush_every_wallets: int = 100
    key_rate_per_second: float = 14.4  # the key's pacing: what the budgets are shares of
    repair_share: float = 0.1  # of the key's requests, at most, for repairs
    max_repairs: int = 3  # repairs of one gap before it is reported (ERROR) and left alone
    max_poll_interval_minutes: int = 60  # the planner's floor: every whale at least this often
    poll_seconds: float = 50.0  # of each minute, what the run's fetching may take
    reserved_per_minute: int = 60  # requests the market sweep, discovery and positions keep

    @property
    def repair_pages_per_run(self) -> int:
        return int(self.key_rate_per_second * 60 * self.repair_share)


@dataclass
class WhaleSyncReport(SyncReport):
    failed_wallets: dict[str, str] = field(default_factory=dict)
    activity_new: int = 0
    coverage: CoverageSummary | None = None

    def count(self, name: str, amount: float) -> None:
        self.extra[name] = self.extra.get(name, 0) + amount


Fetched = tuple[Whale, WalletTrades]
_LEDGER_COUNTS = ("gaps_found", "repairs_closed", "repairs_persisting", "repair_requests")


def _fetch(client: Any, whale: Whale, watermark: int | None) -> WalletTrades:
    return client.fetch_wallet_trades(whale.address, watermark=watermark)


def _prepare(
    fetches: list[tuple[str, list[dict[str, Any]]]],
) -> tuple[pd.DataFrame | None, list[tuple[str, Reject]], dict[str, str]]:
    """Validate a batch's fetches together; per wallet only if the batch cannot be.

    A payload-wide schema failure (never seen: every column is built) must fail only its own
    wallet, as it did when wallets were validated one by one. Returns (rows, rejects, failed).
    """
    failed: dict[str, str] = {}
    try:
        rows, rejects = prepare_trade_fetches(fetches)
    except PayloadUnusableError:
        frames, rejects = [], []
        for wallet, raw in fetches:
            try:
                batch = prepare_trades(wallet, raw)
            except PayloadUnusableError as error:
                failed[wallet] = describe_error(error)
                continue
            frames.append(batch.rows)
            rejects.extend((wallet, reject) for reject in batch.rejects)
        frames = [frame for frame in frames if not frame.empty]
        rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return (None if rows.empty else rows), rejects, failed


@dataclass(frozen=True)
class _RunPlan:
    watermarks: dict[str, int]
    not_due: set[str]  # inactive whales polled less than inactive_poll_minutes ago
    repairs: RepairPlan
    polls: PollPlan


def _plan(
    warehouse: Warehouse, options: WhaleSyncOptions, whales: Sequence[Whale], now: float
) -> _RunPlan:
    """Repairs first (their share), then the polls within what is left (planner.py)."""
    with warehouse.session() as session:
        watermarks = wallet_watermarks(session)
        not_due = inactive_wallets_not_due(session, options.inactive_poll_minutes)
        repairs = plan_repairs(
            session, pages_per_run=options.repair_pages_per_run, max_repairs=options.max_repairs
        )
        eligible = [
            whale.address
            for whale in whales
            if whale.address not in not_due and whale.address not in repairs.wallets
        ]
        states = whale_states(session, eligible, now=now, stored=set(watermarks))
        budget = PollBudget(
            rate_per_second=options.key_rate_per_second,
            poll_seconds=options.poll_seconds,
            reserved_per_minute=options.reserved_per_minute,
            repair_requests=repairs.pages_planned,
        )
        max_interval_s = options.max_poll_interval_minutes * 60.0
        polls = plan_polls(states, now=now, budget=budget.requests, max_interval_s=max_interval_s)
        record_plan(session, states, polls, now=now, max_interval_s=max_interval_s)
    return _RunPlan(watermarks, not_due, repairs, polls)


class _Writer:
    """Writes finished wallets in batches; refuses a first batch with no valid row at all."""

    def __init__(
        self,
        warehouse: Warehouse,
        report: WhaleSyncReport,
        options: WhaleSyncOptions,
        run_id: str | None,
        repairs: RepairPlan,
        clock: Callable[[], float],
    ) -> None:
        self.warehouse = warehouse
        self.clock = clock
        self.report = report
        self.options = options
        self.run_id = run_id
        self.repairs = repairs
        self.written_any = False

    def __call__(self, batch: list[Fetched]) -> dict[str, str]:
        fetches = [(whale.address, fetched.rows) for whale, fetched in batch]
        rows, rejects, failed = _prepare(fetches)
        polled = [wallet for wallet, _ in fetches if wallet not in failed]
        if not self.written_any and rows is None and rejects:
            raise PayloadUnusableError(
                f"none of the {len(rejects)} trades fetched passed validation; nothing was "
                f"written. Most common problems: "
                f"{SyncReport(rejects=rejects).reject_summary()}"
            )
        with self.warehouse.session() as session:
            if rows is not None:
                result = insert_trades(
                    session, rows, run_id=self.run_id, alert_usd=self.options.alert_usd
                )
                self.report.new_rows += result.new
                self.report.duplicates_skipped += result.duplicates
                self.report.activity_new += result.activity
                self.report.extra["unknown_market"] = (
                    self.report.extra.get("unknown_market", 0) + result.unknown_market
                )
            session.quarantine("trade", rejects, run_id=self.run_id)
            self.report.extra["quarantine_resolved"] = self.report.extra.get(
                "quarantine_resolved", 0
            ) + resolve_quarantined_trades(session, [wallet for wallet, _ in fetches])
            mark_polled(session, polled, at=self.clock())
            reactivate_whales_with_recent_trades(
                session, self.options.inactive_after_days, wallets=polled
            )
            self._account(session, [item for item in batch if item[0].address not in failed])
        self.report.rejects.extend(rejects)
        self.report.quarantined += len(rejects)
        self.written_any = True
        return failed

    def _account(self, session: Any, batch: list[Fetched]) -> None:
        """The ledger of the wallets just written, and the outcome of the repairs among them."""
        totals = {whale.address: f.total for whale, f in batch if f.total is not None}
        coverage = account_wallets(session, totals)
        repaired = {
            whale.address: (self.repairs.wallets[whale.address], fetched.pages)
            for whale, fetched in batch
            if whale.address in self.repairs.wallets
        }
        outcomes = record_repairs(session, repaired, coverage, run_id=self.run_id)
        new_gaps = sum(1 for c in coverage.values() if not c.complete and not c.previous_gap)
        self.report.count("gaps_found", new_gaps)
        self.report.count("repairs_closed", outcomes.closed)
        self.report.count("repairs_persisting", outcomes.persisting)
        self.report.count("repair_requests", sum(pages for _gap, pages in repaired.values()))


def sync_whale_trades(
    client: Any,
    warehouse: Warehouse,
    whales: Sequence[Whale],
    options: WhaleSyncOptions,
    *,
    run_id: str | None = None,
    clock: Callable[[], float] = time.time,
) -> WhaleSyncReport:
    """Sync ``whales`` (from the registry); returns what was done, for the sync log.

    ``clock`` (Unix seconds) is what the planner plans at and polls are recorded at; a
    benchmark running simulated time passes the simulator's clock.
    """
    started = time.monotonic()
    report = WhaleSyncReport()
    report.extra.update(dict.fromkeys(_LEDGER_COUNTS, 0))
    counters = ApiCounters(client)
    plan = _plan(warehouse, options, whales, clock())
    watermarks, repairs = plan.watermarks, plan.repairs
    chosen = set(plan.polls.polled) | set(repairs.wallets)
    to_poll = [whale for whale in whales if whale.address in chosen]
    if repairs.wallets:
        log.info("repairing %d wallet(s) with a gap (full re-read)", len(repairs.wallets))
    backfill = [whale for whale in to_poll if whale.address not in watermarks]
    if backfill:
        log.info("fetching the full history of %d new whale(s)", len(backfill))

    def progress(whale: Whale, fetched: WalletTrades, done: int) -> None:
        report.items_fetched += len(fetched.rows)
        if whale.address not in watermarks:
            log.info(
                "history of %s (%s): %d trades [%d/%d]",
                whale.label,
                whale.address,
                len(fetched.rows),
                done,
                len(to_poll),
            )

    outcome = fan_out(
        to_poll,
        lambda whale: _fetch(
            client,
            whale,
            None if whale.address in repairs.wallets else watermarks.get(whale.address),
        ),
        _Writer(warehouse, report, options, run_id, repairs, clock),
        key=lambda whale: whale.address,
        workers=options.workers,
        flush_every_items=options.flush_every_wallets,
        on_fetched=progress,
        stop_on=RUN_WIDE_ERRORS,
    )
    report.failed_wallets.update(outcome.failed)
    with warehouse.session() as session:
        record_failed_repairs(session, [w for w in outcome.failed if w in repairs.wallets])
        report.coverage = coverage_summary(session, max_repairs=options.max_repairs)
    report.extra.update(
        {
            "whales_listed": len(whales),
            "whales_polled": len(to_poll) - len(report.failed_wallets),
            "whales_skipped_inactive": len(plan.not_due),
            "whales_backfilled": len(backfill),
            "whales_failed": len(report.failed_wallets),
            "activity_new": report.activity_new,
            "repairs_planned": len(repairs.wallets),
            "repairs_waiting": repairs.waiting,
            "repair_budget_requests": repairs.budget,
            **report.coverage.numbers(),
            **plan.polls.numbers(),
        }
    )
    counters.apply(report)
    report.seconds = time.monotonic() - started
    log.info("whale sync: %s", report.numbers())
    return report
