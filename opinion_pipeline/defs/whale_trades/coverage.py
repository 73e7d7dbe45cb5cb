"""The completeness ledger: every wallet's trades accounted for against the venue's own count.

The first page of every read of a wallet's trades carries ``total``, the number of trades the
venue holds for it. After each write, in the write's transaction, the ledger compares it with
what the warehouse accounts for: stored trades + archived trades + quarantined rows still
unresolved (a quarantined row read valid later is a stored trade, marked resolved, and counts
there only). Equal: the wallet is proven complete up to its newest accounted trade
(``complete_through``: the newest stored or archived trade, or an unresolved quarantined row's
``createdAt`` when newer and still readable as a time; a quarantined newest trade does not hold
the proof back).
Not equal: a gap, kept with when it was first seen until a poll or a repair closes it.

Why the venue's count and not the watermark: the watermark says where the last read stopped,
not that nothing older is missing (a crash mid-backfill, rows lost behind the pipeline's back,
a page shift the reader could not line up). A gap is repaired by re-reading the wallet's whole
history (``repairs.py``); one that outlives the configured number of repairs is reported as an
ERROR by the ``trades_complete`` check.

Which total: the one of the last page the read saw (``WalletTrades.total``). For a one-page
poll, the common case, that is the first page's; when trades landed during a longer read the
reader re-reads page 1 to catch them, and its total then matches the rows it returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

import pandas as pd

from opinion_pipeline.defs.whale_trades.tables import TRADE_COVERAGE
from opinion_pipeline.warehouse.port import NOW, WarehouseSession


@dataclass(frozen=True)
class WalletCoverage:
    """One wallet's accounting after a write."""

    wallet: str
    venue_total: int
    accounted: int
    gap: int  # venue_total - accounted
    previous_gap: int | None  # None: first accounting of this wallet

    @property
    def complete(self) -> bool:
        return self.gap == 0


def _epoch(value: object) -> int | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return int(value.timestamp())
    return int(value)  # type: ignore[call-overload]


_COUNTS = """
    WITH polled AS (SELECT unnest($wallets) AS wallet),
    stored AS (
        SELECT wallet, count(*) AS n, max(created_at) AS newest FROM trades
        WHERE wallet IN (SELECT wallet FROM polled) GROUP BY wallet
    ),
    archived AS (
        SELECT wallet, count(*) AS n, max(created_at) AS newest FROM archived_trades
        WHERE wallet IN (SELECT wallet FROM polled) GROUP BY wallet
    ),
    quarantined AS (
        SELECT wallet, count(*) AS n,
               max(TRY_CAST(raw_json ->> 'createdAt' AS BIGINT)) FILTER (
                   WHERE TRY_CAST(raw_json ->> 'createdAt' AS BIGINT)
                         BETWEEN 0 AND epoch(now()) + 86400
               ) AS newest
        FROM quarantine
        WHERE entity = 'trade' AND resolved_at IS NULL AND wallet IN (SELECT wallet FROM polled)
        GROUP BY wallet
    )
    SELECT p.wallet, coalesce(s.n, 0), coalesce(a.n, 0), coalesce(q.n, 0),
           greatest(epoch(s.newest)::BIGINT, epoch(a.newest)::BIGINT, q.newest),
           c.gap, c.gap_since, c.complete_through, c.repairs
    FROM polled p
    LEFT JOIN stored s ON s.wallet = p.wallet
    LEFT JOIN archived a ON a.wallet = p.wallet
    LEFT JOIN quarantined q ON q.wallet = p.wallet
    LEFT JOIN trade_coverage c ON c.wallet = p.wallet
"""


def account_wallets(
    session: WarehouseSession, totals: Mapping[str, int]
) -> dict[str, WalletCoverage]:
    """Compare each wallet's ``totals`` (the venue's count) with what is accounted for.

    Call in the write's session, after its inserts, quarantine and resolution, so the ledger
    and the trades commit (or roll back) together. Returns each wallet's accounting.
    """
    if not totals:
        return {}
    now = int(datetime.now(timezone.utc).timestamp())
    rows = session.query(_COUNTS, {"wallets": sorted(totals)})
    records = []
    out: dict[str, WalletCoverage] = {}
    for wallet, stored, archived, quarantined, newest, gap_before, since, through, repairs in rows:
        total = int(totals[wallet])
        accounted = int(stored) + int(archived) + int(quarantined)
        gap = total - accounted
        complete = gap == 0
        records.append(
            {
                "wallet": wallet,
                "venue_total": total,
                "stored": int(stored),
                "archived": int(archived),
                "quarantined": int(quarantined),
                "accounted": accounted,
                "gap": gap,
                "complete_through": _epoch(newest) if complete else _epoch(through),
                "gap_since": None if complete else (_epoch(since) or now),
                "repairs": 0 if complete else int(repairs or 0),
            }
        )
        out[wallet] = WalletCoverage(
            wallet, total, accounted, gap, None if gap_before is None else int(gap_before)
        )
    frame = pd.DataFrame.from_records(records).astype(object)
    session.upsert(TRADE_COVERAGE, frame.where(frame.notna(), None), always={"checked_at": NOW})
    return out


@dataclass(frozen=True)
class CoverageSummary:
    """The ledger over the listed whales, for the ``trades_complete`` check and the sync log."""

    wallets: int  # listed whales
    complete: int
    with_gap: int
    unaccounted: int  # listed whales never read with the venue's count (new, waiting, failing)
    past_repair_limit: int  # gaps that outlived the configured repairs
    trades_missing: int  # sum of positive gaps
    trades_over_counted: int  # sum of negative gaps (more accounted than the venue holds)
    oldest_gap_since: datetime | None
    oldest_gap_minutes: float
    worst: list[tuple]  # (wallet, venue_total, accounted, gap, gap_since, repairs, outcome)

    def numbers(self) -> dict[str, float]:
        return {
            "coverage_wallets": self.wallets,
            "coverage_wallets_complete": self.complete,
            "coverage_wallets_with_gap": self.with_gap,
            "coverage_wallets_unaccounted": self.unaccounted,
            "coverage_gaps_past_repair_limit": self.past_repair_limit,
            "coverage_trades_missing": self.trades_missing,
            "coverage_trades_over_counted": self.trades_over_counted,
            "coverage_oldest_gap_minutes": round(self.oldest_gap_minutes, 1),
        }


GAPS_SHOWN = 20


def coverage_summary(session: WarehouseSession, *, max_repairs: int) -> CoverageSummary:
    """The ledger of the whales the registry lists now (whales removed from it do not count).

    A listed whale with no ledger row yet (its history not read: new and waiting for budget,
    or failing) is counted as unaccounted: not proven complete.
    """
    ((wallets, complete, with_gap, unaccounted, past, missing, over, oldest),) = session.query(
        """
        SELECT count(*), count(*) FILTER (WHERE c.gap = 0), count(*) FILTER (WHERE c.gap <> 0),
               count(*) FILTER (WHERE c.wallet IS NULL),
               count(*) FILTER (WHERE c.gap <> 0 AND c.repairs >= $limit),
               coalesce(sum(c.gap) FILTER (WHERE c.gap > 0), 0),
               coalesce(-sum(c.gap) FILTER (WHERE c.gap < 0), 0),
               min(c.gap_since) FILTER (WHERE c.gap <> 0)
        FROM whales w LEFT JOIN trade_coverage c ON c.wallet = w.address
        WHERE w.in_registry
        """,
        {"limit": max_repairs},
    )
    worst = session.query(
        """
        SELECT c.wallet, c.venue_total, c.accounted, c.gap, c.gap_since, c.repairs,
               c.last_repair_outcome
        FROM trade_coverage c JOIN whales w ON w.address = c.wallet AND w.in_registry
        WHERE c.gap <> 0 ORDER BY c.gap_since, c.wallet LIMIT $limit
        """,
        {"limit": GAPS_SHOWN},
    )
    age = 0.0
    if oldest is not None:
        age = max(0.0, (datetime.now(timezone.utc) - oldest).total_seconds() / 60)
    return CoverageSummary(
        wallets=int(wallets),
        complete=int(complete),
        with_gap=int(with_gap),
        unaccounted=int(unaccounted),
        past_repair_limit=int(past),
        trades_missing=int(missing),
        trades_over_counted=int(over),
        oldest_gap_since=oldest,
        oldest_gap_minutes=age,
        worst=list(worst),
    )
