"""The alert ledger's writes: queue, claim (pending), finish (delivered / digested / failed).

**Why "pending" is written before sending.** A sender can be killed (SIGKILL, a lost machine)
between the channel accepting an alert and the ledger recording it. One of two rows must then
be in the ledger already: "pending" before the send, or "delivered" before the send. We write
**pending first, in its own transaction**, and "delivered" after: a sender killed in between
leaves a pending row, which a later run takes over once its lease (``lease``, longer than one
delivery with all its retries can take) has expired, and sends again. So a kill never loses an
alert and costs at most one duplicate. The other order (delivered first) would turn the same
kill into a lost alert, silently; for alerts people act on, a repeated message is the lesser
harm, and it shows as such (two identical messages), where a lost one shows as nothing.

Claims are atomic under the warehouse lock: two overlapping runs never both claim a row, so an
alert goes out once per channel however many runs see it (at most twice across a kill).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from opinion_pipeline.automation.alerts import Channel
from opinion_pipeline.defs.trade_alerts.events import CONSENSUS_COOLDOWN, Event
from opinion_pipeline.defs.trade_alerts.tables import ALERT_LEDGER
from opinion_pipeline.warehouse.port import Warehouse

TABLE = ALERT_LEDGER.name
_KEYS = "event_key IN (SELECT unnest($keys))"


@dataclass(frozen=True)
class Due:
    event_key: str
    kind: str
    subject: str
    title: str
    message: str
    event_at: datetime
    status: str


# A failed row waits 1, 2, 4, 8 ... minutes after its last try (backoff across runs; each try
# has its own retries with backoff inside the run), up to max_tries tries in all.
_CLAIMABLE = (
    "(status = 'queued' "
    "OR (status = 'failed' AND tries < $max_tries "
    "AND claimed_at + CAST(power(2, tries - 1) AS INTEGER) * INTERVAL '1 minute' <= $now) "
    "OR (status = 'pending' AND claimed_at < $stale_before))"
)


def queue(
    warehouse: Warehouse, events: Sequence[Event], channels: Sequence[Channel], now: datetime
) -> int:
    """Record every (event, channel) not yet in the ledger as queued. Returns how many are new.

    A consensus on a market side that already alerted within the cooldown is left out.
    """
    if not events or not channels:
        return 0
    with warehouse.session() as session:
        recent = session.query(
            f"SELECT DISTINCT subject, event_key, event_at FROM {TABLE} WHERE kind = 'consensus' "
            "AND event_at >= $since",
            {"since": now - 2 * CONSENSUS_COOLDOWN},
        )
        kept = [
            event
            for event in events
            if event.kind != "consensus"
            or not any(
                subject == event.subject
                and key != event.key
                and abs(at - event.event_at) < CONSENSUS_COOLDOWN
                for subject, key, at in recent
            )
        ]
        rows = pd.DataFrame(
            [
                {
                    "event_key": event.key,
                    "channel": channel.channel_id,
                    "service": channel.service,
                    "kind": event.kind,
                    "subject": event.subject,
                    "title": event.title,
                    "message": event.message,
                    "event_at": int(event.event_at.timestamp()),  # Unix seconds, as specs load
                }
                for event in kept
                for channel in channels
            ]
        )
        if rows.empty:
            return 0
        on_insert = {"status": "queued", "tries": 0, "queued_at": now}
        return session.upsert(ALERT_LEDGER, rows, on_insert=on_insert).inserted


def due(
    warehouse: Warehouse, channel: Channel, now: datetime, *, lease: timedelta, max_tries: int
) -> list[Due]:
    """What this channel still needs: queued, failed (tries left, its wait over), or pending
    past its lease (its sender is taken for dead)."""
    with warehouse.reader() as session:
        rows = session.query(
            "SELECT event_key, kind, subject, title, message, event_at, status FROM "
            f"{TABLE} WHERE channel = $channel AND {_CLAIMABLE} ORDER BY event_at, event_key",
            {
                "channel": channel.channel_id,
                "now": now,
                "stale_before": now - lease,
                "max_tries": max_tries,
            },
        )
    return [Due(*row) for row in rows]


def sent_recently(warehouse: Warehouse, channel: Channel, now: datetime) -> int:
    """Messages (an alert or a digest) the channel accepted in the last minute."""
    with warehouse.reader() as session:
        [(count,)] = session.query(
            f"SELECT count(DISTINCT coalesce(digest_key, event_key)) FROM {TABLE} "
            "WHERE channel = $channel AND status IN ('delivered', 'digested') "
            "AND delivered_at > $since",
            {"channel": channel.channel_id, "since": now - timedelta(minutes=1)},
        )
    return int(count)


def claim(
    warehouse: Warehouse,
    channel: Channel,
    keys: Sequence[str],
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    max_tries: int,
    digest_key: str | None = None,
) -> tuple[str, list[str]]:
    """Mark ``keys`` pending for this sender, in their own transaction, before any send.

    Returns the claim's token and the keys it got (those no other sender holds).
    """
    token = f"{owner}/{uuid.uuid4().hex[:12]}"
    with warehouse.session() as session:
        session.execute(
            f"UPDATE {TABLE} SET status = 'pending', claimed_by = $token, claimed_at = $now, "
            "tries = tries + 1, digest_key = $digest, last_error = NULL "
            f"WHERE channel = $channel AND {_KEYS} AND {_CLAIMABLE}",
            {
                "token": token,
                "now": now,
                "digest": digest_key,
                "channel": channel.channel_id,
                "keys": list(keys),
                "stale_before": now - lease,
                "max_tries": max_tries,
            },
        )
        got = session.query(
            f"SELECT event_key FROM {TABLE} WHERE channel = $channel AND claimed_by = $token "
            "AND status = 'pending' ORDER BY event_at, event_key",
            {"channel": channel.channel_id, "token": token},
        )
    return token, [key for (key,) in got]


def finish(
    warehouse: Warehouse,
    channel: Channel,
    keys: Sequence[str],
    *,
    token: str,
    status: str,
    now: datetime,
    error: str | None = None,
) -> int:
    """Record the outcome of a claim: delivered, digested or failed (with why)."""
    with warehouse.session() as session:
        return session.execute(
            f"UPDATE {TABLE} SET status = $status, last_error = $error, delivered_at = "
            "CASE WHEN $status = 'failed' THEN delivered_at ELSE $now END "
            f"WHERE channel = $channel AND {_KEYS} AND claimed_by = $token "
            "AND status = 'pending'",
            {
                "status": status,
                "error": error,
                "now": now,
                "channel": channel.channel_id,
                "keys": list(keys),
                "token": token,
            },
        )
