"""What is worth an alert: big whale trades, big position changes, and whale consensus.

Every event has a stable key derived from the rows it comes from (the trade's or the change's
natural key), so two runs that see the same data name the same event, and the ledger
(``ledger.py``) can keep each one to one delivery per channel. Only events detected within
``max_age`` are considered: a channel added later does not receive the whole history; and a
trade is news only if it happened at most ``TRADE_NEWS_WINDOW`` before the sync saw it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from opinion_pipeline.warehouse.port import WarehouseSession

CONSENSUS_WINDOW = timedelta(hours=1)
# A trade older than this when the sync first saw it is history, not news: a new whale's full
# history enters whale_activity at once and must not alert.
TRADE_NEWS_WINDOW = timedelta(hours=24)
# After a consensus alert on one side of a market, the same side alerts again only this much
# later: a window that slides over the same whales must not alert every few minutes.
CONSENSUS_COOLDOWN = timedelta(hours=24)


@dataclass(frozen=True)
class Event:
    key: str
    kind: str  # big_trade, position_change, consensus
    subject: str
    title: str
    message: str
    event_at: datetime


@dataclass(frozen=True)
class Thresholds:
    trade_usd: float
    position_usd: float
    consensus_whales: int = 3
    consensus_top: int = 10
    max_age: timedelta = timedelta(minutes=60)


def _usd(value: Decimal | float | None) -> str:
    return f"${Decimal(value or 0):,.0f}"


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC"


def _who(label: str | None, wallet: str) -> str:
    return f"{label} ({wallet[:10]}…)" if label else wallet


def big_trades(session: WarehouseSession, limits: Thresholds, now: datetime) -> list[Event]:
    rows = session.query(
        "SELECT trade_key, wallet, label, market_id, market_title, side, outcome, usd_value, "
        "created_at FROM whale_activity WHERE usd_value >= $usd AND detected_at >= $since "
        "AND created_at >= detected_at - $news ORDER BY created_at, trade_key",
        {"usd": limits.trade_usd, "since": now - limits.max_age, "news": TRADE_NEWS_WINDOW},
    )
    return [
        Event(
            key=f"trade:{key}",
            kind="big_trade",
            subject=wallet,
            title=f"Whale {side} {_usd(usd)}: {label or wallet[:10]}",
            message="\n".join(
                [
                    f"whale: {_who(label, wallet)}",
                    f"market: {title or market_id} (id {market_id})",
                    f"trade: {side} {outcome or '?'} for {_usd(usd)}",
                    f"at: {_utc(created)}",
                ]
            ),
            event_at=created,
        )
        for key, wallet, label, market_id, title, side, outcome, usd, created in rows
    ]


def big_position_changes(
    session: WarehouseSession, limits: Thresholds, now: datetime
) -> list[Event]:
    rows = session.query(
        "SELECT c.change_key, c.wallet, s.label, c.market_id, c.market_title, c.change, "
        "c.outcome, c.shares_before, c.shares_after, c.value_quote, c.snapshot_at "
        "FROM position_changes c LEFT JOIN whale_skill s ON s.wallet = c.wallet "
        "WHERE abs(c.value_quote) >= $usd AND c.detected_at >= $since "
        "ORDER BY c.snapshot_at, c.change_key",
        {"usd": limits.position_usd, "since": now - limits.max_age},
    )
    return [_change_event(*row) for row in rows]


def _change_event(
    key: str,
    wallet: str,
    label: str | None,
    market_id: int,
    title: str | None,
    change: str,
    outcome: str | None,
    before: Decimal,
    after: Decimal,
    value: Decimal,
    snapshot: datetime,
) -> Event:
    return Event(
        key=f"position:{key}",
        kind="position_change",
        subject=wallet,
        title=f"Whale position {change.replace('_', ' ')} {_usd(value)}: {label or wallet[:10]}",
        message="\n".join(
            [
                f"whale: {_who(label, wallet)}",
                f"market: {title or market_id} (id {market_id})",
                f"position: {outcome or '?'} {before:,.2f} -> {after:,.2f} shares ({_usd(value)})",
                f"seen at: {_utc(snapshot)}",
            ]
        ),
        event_at=snapshot,
    )


def consensus(session: WarehouseSession, limits: Thresholds, now: datetime) -> list[Event]:
    """N of the top-skill whales buying the same side of a market within an hour.

    A whale "enters" a side with its first BUY of it inside the window. The event fires at the
    BUY that brings the count of distinct top whales in the hour before it to N; its key names
    that trade, so every run that sees the same trades names the same event.
    """
    top = dict(
        session.query(
            "SELECT wallet, label FROM whale_skill WHERE skill_rank <= $top",
            {"top": limits.consensus_top},
        )
    )
    if len(top) < limits.consensus_whales:
        return []
    since = now - limits.max_age
    rows = session.query(
        "SELECT trade_key, wallet, market_id, market_title, outcome_side, outcome, created_at "
        "FROM trades WHERE side = 'BUY' AND wallet IN (SELECT unnest($wallets)) "
        "AND created_at >= $start ORDER BY created_at, trade_key",
        {"wallets": sorted(top), "start": since - CONSENSUS_WINDOW},
    )
    sides: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    for row in rows:
        sides[(row[2], row[4])].append(row)
    events = []
    for (market_id, side), trades in sorted(sides.items()):
        for index, (key, _, _, title, _, outcome, created) in enumerate(trades):
            recent = {t[1]: t for t in trades[: index + 1] if t[6] >= created - CONSENSUS_WINDOW}
            if len(recent) < limits.consensus_whales:
                continue
            if created >= since:
                names = ", ".join(_who(top[w], w) for w in sorted(recent))
                events.append(
                    Event(
                        key=f"consensus:{market_id}:{side}:{key}",
                        kind="consensus",
                        subject=f"{market_id}:{side}",
                        title=f"Whale consensus: {len(recent)} top whales bought "
                        f"{outcome or side} on {title or market_id}",
                        message="\n".join(
                            [
                                f"market: {title or market_id} (id {market_id})",
                                f"side: {outcome or side}",
                                f"whales (top {limits.consensus_top} by skill): {names}",
                                f"within the hour up to {_utc(created)}",
                            ]
                        ),
                        event_at=created,
                    )
                )
            break  # one event per side and run; the ledger's cooldown does the rest
    return events


def collect_events(session: WarehouseSession, limits: Thresholds, now: datetime) -> list[Event]:
    return [
        *big_trades(session, limits, now),
        *big_position_changes(session, limits, now),
        *consensus(session, limits, now),
    ]
