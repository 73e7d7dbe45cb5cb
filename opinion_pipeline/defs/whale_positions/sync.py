"""Snapshots of the tracked whales' positions, through the shared fan-out and the key's limiter.

Every whale due (store.due_whales: every 15 minutes for whales that traded in the last 7 days,
hourly for the rest, by default) gets all pages of /positions/user/{wallet} (contract 3.4)
read; one snapshot time is used for the whole run, so the time series has one row per
(wallet, market, outcome side) per run. Requests go through the same client, hence the same
cross-process limiter as the trades sync; their number and their share of the key's budget
over the schedule's interval are reported.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opinion_pipeline.defs.whale_positions.store import DueWhale, due_whales, write_snapshots
from opinion_pipeline.defs.whale_positions.validate import prepare_positions
from opinion_pipeline.sync.fanout import fan_out
from opinion_pipeline.sync.report import ApiCounters, SyncReport
from opinion_pipeline.warehouse.port import Warehouse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PositionSyncOptions:
    active_minutes: int = 15
    quiet_minutes: int = 60
    active_days: int = 7
    workers: int = 4
    flush_every_wallets: int = 100
    rate_limit_per_second: float = 14.4


@dataclass
class PositionSyncReport(SyncReport):
    failed_wallets: dict[str, str] = field(default_factory=dict)
    snapshot_at: datetime | None = None


def sync_positions(
    client: Any,
    warehouse: Warehouse,
    options: PositionSyncOptions,
    *,
    now: datetime,
    run_id: str | None = None,
) -> PositionSyncReport:
    """Snapshot every whale due at ``now`` (the snapshot time stored); returns the report."""
    started = time.monotonic()
    report = PositionSyncReport(snapshot_at=now)
    counters = ApiCounters(client)
    with warehouse.session() as session:
        due, listed = due_whales(
            session,
            now,
            active_minutes=options.active_minutes,
            quiet_minutes=options.quiet_minutes,
            active_days=options.active_days,
        )
    snapshot_at = int(now.timestamp())

    def write(batch: list[tuple[DueWhale, list[dict[str, Any]]]]) -> dict[str, str]:
        fetches = [(whale.address, rows) for whale, rows in batch]
        positions, snapshots, rejects = prepare_positions(fetches, snapshot_at)
        with warehouse.session() as session:
            report.new_rows += write_snapshots(
                session, positions, snapshots, rejects, run_id=run_id
            )
        report.items_fetched += sum(len(rows) for _, rows in fetches)
        report.rejects.extend(rejects)
        report.quarantined += len(rejects)
        return {}

    outcome = fan_out(
        due,
        lambda whale: client.list_wallet_positions(whale.address),
        write,
        key=lambda whale: whale.address,
        workers=options.workers,
        flush_every_items=options.flush_every_wallets,
    )
    report.failed_wallets.update(outcome.failed)
    counters.apply(report)
    budget = options.rate_limit_per_second * options.active_minutes * 60
    report.extra.update(
        {
            "whales_listed": listed,
            "whales_due": len(due),
            "whales_due_active": sum(1 for whale in due if whale.active),
            "whales_snapshotted": len(outcome.written),
            "whales_failed": len(outcome.failed),
            "budget_share": round(report.requests / budget, 6) if budget else 0.0,
        }
    )
    report.seconds = time.monotonic() - started
    log.info("positions snapshot: %s", report.numbers())
    return report
