"""One discovery run: refresh the due sources, store their sightings, run the admission gate.

Dagster-free. The UNOFFICIAL sources are fetched outside any warehouse transaction; each fails
on its own (its earlier sightings stay, so its candidates keep their standing) and the run then
reports which source failed and why, after storing what the other sources found. The gate
always runs over every stored sighting, so a failed or empty source never removes anyone.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from opinion_pipeline.defs.whale_candidates import store
from opinion_pipeline.defs.whale_candidates.gate import AdmissionRules, decide
from opinion_pipeline.defs.whale_candidates.sources import (
    SourceResult,
    fetch_holders,
    fetch_leaderboards,
    holder_markets,
)
from opinion_pipeline.defs.whale_candidates.validate import registry_sightings
from opinion_pipeline.sync.report import ApiCounters, SyncReport
from opinion_pipeline.warehouse.port import Warehouse

log = logging.getLogger(__name__)

SCHEDULE_INTERVAL_MINUTES = 15  # discover_whales ticks this often; refreshes are due on a tick


@dataclass(frozen=True)
class DiscoveryOptions:
    leaderboard: bool = True
    holders: bool = True
    leaderboard_refresh_minutes: int = 60
    holders_refresh_minutes: int = 60
    holder_requests: int = 20
    rules: AdmissionRules = field(default_factory=AdmissionRules)


@dataclass
class DiscoveryReport(SyncReport):
    sources_run: list[str] = field(default_factory=list)
    sources_skipped: dict[str, str] = field(default_factory=dict)
    sources_failed: dict[str, str] = field(default_factory=dict)
    decided: pd.DataFrame = field(default_factory=pd.DataFrame)
    unknown_fields: list[str] = field(default_factory=list)  # sent by a route, documented nowhere


def _plan(warehouse: Warehouse, options: DiscoveryOptions, report: DiscoveryReport) -> list[int]:
    """Which sources are due, and the holder markets (None when holders are not due)."""
    with warehouse.session() as session:
        slack = SCHEDULE_INTERVAL_MINUTES / 2
        due_board = store.source_due(
            session, "leaderboard", options.leaderboard_refresh_minutes, slack_minutes=slack
        )
        due_holders = store.source_due(
            session, "holders", options.holders_refresh_minutes, slack_minutes=slack
        )
        markets = holder_markets(session, options.holder_requests) if due_holders else []
    for name, enabled, due in (
        ("leaderboard", options.leaderboard, due_board),
        ("holders", options.holders, due_holders),
    ):
        if not enabled:
            report.sources_skipped[name] = "turned off (OPINION_DISCOVERY_" + name.upper() + ")"
        elif not due:
            report.sources_skipped[name] = "refreshed recently (its refresh interval)"
        else:
            report.sources_run.append(name)
    if "holders" in report.sources_run and not markets:
        report.sources_run.remove("holders")
        report.sources_skipped["holders"] = (
            "no active market known yet (the market sweep fills them) or a zero request budget"
        )
    return markets


def discover(
    client: Any,
    warehouse: Warehouse,
    options: DiscoveryOptions,
    *,
    run_id: str | None = None,
) -> DiscoveryReport:
    started = time.monotonic()
    report = DiscoveryReport()
    counters = ApiCounters(client)
    markets = _plan(warehouse, options, report)
    fetched: dict[str, SourceResult] = {}
    if "leaderboard" in report.sources_run:
        fetched["leaderboard"] = fetch_leaderboards(client)
    if "holders" in report.sources_run:
        fetched["holders"] = fetch_holders(client, markets)
    unknown: set[str] = set()
    with warehouse.session() as session:
        for name, result in fetched.items():
            if result.failed:
                report.sources_failed[name] = result.failed
                continue
            report.items_fetched += len(result.sightings.rows) + len(result.sightings.rejects)
            report.new_rows += store.write_sightings(session, name, result.sightings, run_id)
            report.rejects.extend(result.sightings.rejects)
            unknown |= result.sightings.unknown_fields
        entries = store.registry_entries(session)
        pinned = registry_sightings(entries)
        store.clear_registry_sightings(session, [row["address"] for row in pinned.rows])
        store.write_sightings(session, "registry", pinned, run_id)
        report.rejects.extend(pinned.rejects)
        decided = decide(
            store.all_sightings(session), store.universe(session), options.rules, int(time.time())
        )
        store.write_candidates(session, decided)
        report.table_rows = len(decided)
    report.quarantined = len(report.rejects)
    report.unknown_fields = sorted(unknown)
    report.decided = decided
    counters.apply(report)
    report.extra.update(
        {
            "candidates": len(decided),
            "admitted": int(decided["admitted"].sum()) if len(decided) else 0,
            "no_trades_seen": int(decided["no_trades_seen"].sum()) if len(decided) else 0,
            "holder_markets": len(markets),
            "sources_failed": len(report.sources_failed),
        }
    )
    report.seconds = time.monotonic() - started
    log.info("discovery: %s", report.numbers())
    return report
