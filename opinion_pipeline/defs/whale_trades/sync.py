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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from opinion_pipeline.defs.whale_registry.registry_file import Whale
from opinion_pipeline.defs.whale_registry.store import (
    inactive_wallets_not_due,
    mark_polled,
    reactivate_whales_with_recent_trades,
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


@dataclass
class WhaleSyncReport(SyncReport):
    failed_wallets: dict[str, str] = field(default_factory=dict)
    activity_new: int = 0


Fetched = tuple[Whale, WalletTrades]


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


def _plan(warehouse: Warehouse, poll_minutes: int) -> tuple[dict[str, int], set[str]]:
    with warehouse.session() as session:
        watermarks = wallet_watermarks(session)
        skipped = inactive_wallets_not_due(session, poll_minutes)
    return watermarks, skipped


class _Writer:
    """Writes finished wallets in batches; refuses a first batch with no valid row at all."""

    def __init__(
        self,
        warehouse: Warehouse,
        report: WhaleSyncReport,
        options: WhaleSyncOptions,
        run_id: str | None,
    ) -> None:
        self.warehouse = warehouse
        self.report = report
        self.options = options
        self.run_id = run_id
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
            mark_polled(session, polled)
            reactivate_whales_with_recent_trades(
                session, self.options.inactive_after_days, wallets=polled
            )
        self.report.rejects.extend(rejects)
        self.report.quarantined += len(rejects)
        self.written_any = True
        return failed


def sync_whale_trades(
    client: Any,
    warehouse: Warehouse,
    whales: Sequence[Whale],
    options: WhaleSyncOptions,
    *,
    run_id: str | None = None,
) -> WhaleSyncReport:
    """Sync ``whales`` (from the registry); returns what was done, for the sync log."""
    started = time.monotonic()
    report = WhaleSyncReport()
    counters = ApiCounters(client)
    watermarks, not_due = _plan(warehouse, options.inactive_poll_minutes)
    to_poll = [whale for whale in whales if whale.address not in not_due]
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
        lambda whale: _fetch(client, whale, watermarks.get(whale.address)),
        _Writer(warehouse, report, options, run_id),
        key=lambda whale: whale.address,
        workers=options.workers,
        flush_every_items=options.flush_every_wallets,
        on_fetched=progress,
        stop_on=RUN_WIDE_ERRORS,
    )
    report.failed_wallets.update(outcome.failed)
    report.extra.update(
        {
            "whales_listed": len(whales),
            "whales_polled": len(to_poll) - len(report.failed_wallets),
            "whales_skipped_inactive": len(not_due),
            "whales_backfilled": len(backfill),
            "whales_failed": len(report.failed_wallets),
            "activity_new": report.activity_new,
        }
    )
    counters.apply(report)
    report.seconds = time.monotonic() - started
    log.info("whale sync: %s", report.numbers())
    return report
