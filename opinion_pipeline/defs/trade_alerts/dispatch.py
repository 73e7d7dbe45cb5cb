"""One trade-alert run: find events, queue them per channel, send what is due. No Dagster here.

Per channel, at most ``rate_per_minute`` messages go out a minute; when more are due than the
minute has left, they all go as one digest. Every send is retried with backoff
(``automation.alerts.deliver``, the pipeline's retry policy); a failure is recorded in the ledger
and retried by the next runs (``max_tries`` runs in all), and never raises: the sync it follows
must not fail because a chat service is down. After one failed send a channel gets nothing more
in that run (its other alerts stay queued), so a dead service costs one send's retries a run.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from opinion_pipeline.automation.alerts import Alert, AlertSettings, Channel, deliver, iso
from opinion_pipeline.defs.trade_alerts import ledger
from opinion_pipeline.defs.trade_alerts.events import Thresholds, collect_events
from opinion_pipeline.warehouse.port import Warehouse

DIGEST_LINES = 40
ASSET_OF_KIND = {
    "big_trade": "whale_activity",
    "position_change": "position_changes",
    "consensus": "whale_skill",
}
_log = logging.getLogger(__name__)


@dataclass
class AlertRun:
    events: int = 0
    queued: int = 0
    counts: Counter = field(default_factory=Counter)  # delivered, digested, failed, digests
    errors: list[str] = field(default_factory=list)  # "service (channel): why", no URL

    @property
    def failed(self) -> int:
        return self.counts["failed"]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _alert(row: ledger.Due, ui_base_url: str) -> Alert:
    asset = ASSET_OF_KIND.get(row.kind, "trade_alerts")
    return Alert(
        kind=row.kind,
        title=row.title,
        fields={},
        link_url=f"{ui_base_url}/assets/{asset}",
        link_label="Open in Dagster",
        message=row.message,
        data={
            "kind": row.kind,
            "event_key": row.event_key,
            "subject": row.subject,
            "event_at": iso(row.event_at.timestamp()),
        },
    )


def digest_alert(rows: list[ledger.Due], rate: int, ui_base_url: str) -> Alert:
    shown = [f"- {row.title}" for row in rows[:DIGEST_LINES]]
    if len(rows) > DIGEST_LINES:
        shown.append(f"… and {len(rows) - DIGEST_LINES} more")
    kinds = Counter(row.kind for row in rows)
    return Alert(
        kind="digest",
        title=f"{len(rows)} whale alerts (more than {rate} a minute: one digest)",
        fields={},
        link_url=f"{ui_base_url}/assets/trade_alerts",
        link_label="Open in Dagster",
        message="\n".join(shown),
        data={
            "kind": "digest",
            "alerts": len(rows),
            "by_kind": dict(sorted(kinds.items())),
            "event_keys": [row.event_key for row in rows],
        },
    )


@dataclass(frozen=True)
class Delivery:
    """How a run sends: the rate, the lease of a pending row, the tries, the retry options."""

    rate_per_minute: int = 20
    lease: timedelta = timedelta(minutes=10)
    max_tries: int = 5
    options: Mapping[str, Any] = field(default_factory=dict)  # deliver(): attempts, backoff


def _send(
    warehouse: Warehouse,
    channel: Channel,
    rows: list[ledger.Due],
    render: Callable[[list[ledger.Due]], Alert],
    *,
    run: AlertRun,
    owner: str,
    how: Delivery,
    now: Callable[[], datetime],
    digest: bool,
) -> bool:
    """Claim, send, record. False when the channel failed (the caller stops using it)."""
    digest_key = None
    if digest:
        keys = "\n".join(row.event_key for row in rows).encode()
        digest_key = "digest:" + hashlib.sha256(keys).hexdigest()[:16]
    token, got = ledger.claim(
        warehouse,
        channel,
        [row.event_key for row in rows],
        owner=owner,
        now=now(),
        lease=how.lease,
        max_tries=how.max_tries,
        digest_key=digest_key,
    )
    if not got:
        return True  # another run holds them
    mine = set(got)
    result = deliver(channel, render([row for row in rows if row.event_key in mine]), **how.options)
    status = ("digested" if digest else "delivered") if result.delivered else "failed"
    ledger.finish(
        warehouse,
        channel,
        got,
        token=token,
        status=status,
        now=now(),
        error=None if result.delivered else result.detail,
    )
    run.counts[status] += len(got)
    if digest and result.delivered:
        run.counts["digests"] += 1
    if not result.delivered:
        run.errors.append(f"{channel.service} ({channel.channel_id}): {result.detail}")
        _log.error(
            f"trade alert via {channel.service} ({channel.channel_id}) failed after "
            f"{result.attempts} attempt(s): {result.detail}"
        )
    return result.delivered


def deliver_trade_alerts(
    warehouse: Warehouse,
    settings: AlertSettings,
    limits: Thresholds,
    *,
    owner: str,
    how: Delivery = Delivery(),
    now: Callable[[], datetime] = _utcnow,
) -> AlertRun:
    """Find the events, queue them for every channel, send what each channel has due."""
    run = AlertRun()
    started = now()
    with warehouse.session() as session:  # not reader(): a first run creates the warehouse
        events = collect_events(session, limits, started)
    run.events = len(events)
    run.queued = ledger.queue(warehouse, events, settings.channels, started)

    def as_digest(claimed: list[ledger.Due]) -> Alert:
        return digest_alert(claimed, how.rate_per_minute, settings.ui_base_url)

    def as_single(claimed: list[ledger.Due]) -> Alert:
        return _alert(claimed[0], settings.ui_base_url)

    for channel in settings.channels:
        rows = ledger.due(warehouse, channel, now(), lease=how.lease, max_tries=how.max_tries)
        if not rows:
            continue
        room = how.rate_per_minute - ledger.sent_recently(warehouse, channel, now())
        options = {"run": run, "owner": owner, "how": how, "now": now}
        if len(rows) > room:
            _send(warehouse, channel, rows, as_digest, digest=True, **options)
            continue
        for row in rows:
            # A channel that failed one alert (with all its retries) is left for this run: a
            # dead service must not hold the run for minutes; the rest stay queued for the next.
            if not _send(warehouse, channel, [row], as_single, digest=False, **options):
                break
    return run
