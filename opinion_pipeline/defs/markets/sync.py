"""A full sweep of the market list into the markets table."""

from __future__ import annotations

import logging
import time
from typing import Any

from opinion_pipeline.defs.markets.store import upsert_markets
from opinion_pipeline.defs.markets.tables import MARKETS
from opinion_pipeline.defs.markets.validate import prepare_markets
from opinion_pipeline.sync.report import ApiCounters, SyncReport
from opinion_pipeline.validation import PayloadUnusableError
from opinion_pipeline.warehouse.port import Warehouse

log = logging.getLogger(__name__)


def sync_markets(client: Any, warehouse: Warehouse, *, run_id: str | None = None) -> SyncReport:
    """Fetch every market (all types, all statuses, every page), validate, upsert."""
    started = time.monotonic()
    report = SyncReport()
    counters = ApiCounters(client)
    raw = client.list_markets()
    batch = prepare_markets(raw)
    report.items_fetched = len(batch.rows) + len(batch.rejects)
    report.rejects = [(None, reject) for reject in batch.rejects]
    if raw and batch.parents == 0:
        raise PayloadUnusableError(
            f"none of the {len(raw)} markets fetched passed validation; nothing was "
            f"written. Most common problems: {report.reject_summary()}"
        )
    with warehouse.session() as session:
        upsert = upsert_markets(session, batch.rows)
        new_quarantine = session.quarantine("market", report.rejects, run_id=run_id)
        report.table_rows = session.count(MARKETS)
    report.quarantined = len(report.rejects)
    report.new_rows = upsert.inserted
    report.duplicates_skipped = upsert.duplicates_in_payload
    report.extra = {
        "markets_updated": upsert.updated,
        "status_changes": upsert.status_changes,
        "parents": batch.parents,
        "children": batch.children,
        "quarantine_new_rows": new_quarantine,
    }
    counters.apply(report)
    report.seconds = time.monotonic() - started
    log.info("market sweep: %s", report.numbers())
    return report
