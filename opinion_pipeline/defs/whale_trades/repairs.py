"""Repair of the gaps the ledger (``coverage.py``) finds: re-read a wallet's whole history.

A repair is a full read (no watermark) written like any poll: ``insert_new`` stores only the
trades missing, quarantined rows read valid are resolved, and the ledger counts again in the
same transaction. Its outcome (closed, persists) goes to ``trade_repairs`` and to the wallet's
ledger row; a gap still open after ``max_repairs`` repairs is no longer re-read (more reads of
the same history will not change it) and the ``trades_complete`` check reports it as an ERROR.

Budget: repairs may use ``share`` of the key's requests. Per run, the oldest gaps first, as many
as fit in ``share`` x rate x 60 s; a repair larger than that (a wallet with thousands of trades)
goes alone once the last ``WINDOW_MINUTES`` left it enough unused share, so over any window the
share holds. A repair's cost is estimated from the venue's last total: one request per 20
trades, plus one for the head re-read the reader may make.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from opinion_pipeline.defs.whale_trades.coverage import WalletCoverage
from opinion_pipeline.defs.whale_trades.tables import TRADE_REPAIRS
from opinion_pipeline.warehouse.port import NOW, WarehouseSession

WINDOW_MINUTES = 10
PAGE_ROWS = 20


def repair_cost(venue_total: int) -> int:
    """Requests a full re-read of a wallet with ``venue_total`` trades takes (estimate)."""
    return max(1, -(-int(venue_total) // PAGE_ROWS)) + 1


@dataclass(frozen=True)
class RepairPlan:
    wallets: dict[str, int] = field(default_factory=dict)  # wallet -> gap the repair is for
    pages_planned: int = 0
    budget: int = 0  # requests this run may spend on repairs
    waiting: int = 0  # gaps due for repair left for a later run (budget)


def plan_repairs(session: WarehouseSession, *, pages_per_run: int, max_repairs: int) -> RepairPlan:
    """The gaps to repair this run: oldest first, within the budget (module docstring)."""
    if pages_per_run <= 0:
        return RepairPlan()
    ((spent,),) = session.query(
        f"""
        SELECT coalesce(sum(pages), 0) FROM trade_repairs
        WHERE repaired_at > now() - INTERVAL '{WINDOW_MINUTES} minutes'
        """
    )
    credit = max(0, pages_per_run * WINDOW_MINUTES - int(spent))
    candidates = session.query(
        """
        SELECT c.wallet, c.gap, c.venue_total
        FROM trade_coverage c JOIN whales w ON w.address = c.wallet AND w.in_registry
        WHERE c.gap <> 0 AND c.repairs < $limit
        ORDER BY c.gap_since, c.wallet
        """,
        {"limit": max_repairs},
    )
    budget = min(pages_per_run, credit)
    chosen: dict[str, int] = {}
    planned = 0
    for wallet, gap, total in candidates:
        cost = repair_cost(total)
        oversized_alone = not chosen and cost > pages_per_run and cost <= credit
        if planned + cost <= budget or oversized_alone:
            chosen[wallet] = int(gap)
            planned += cost
            if oversized_alone:
                break
    return RepairPlan(
        wallets=chosen,
        pages_planned=planned,
        budget=budget,
        waiting=len(candidates) - len(chosen),
    )


@dataclass(frozen=True)
class RepairOutcomes:
    closed: int = 0
    persisting: int = 0


def record_repairs(
    session: WarehouseSession,
    repaired: Mapping[str, tuple[int, int]],
    coverage: Mapping[str, WalletCoverage],
    *,
    run_id: str | None,
) -> RepairOutcomes:
    """Log each repair written in this session and count it on the wallet's ledger row.

    ``repaired``: wallet -> (gap before, pages read). ``coverage``: the ledger just written.
    """
    now = int(time.time())
    rows = []
    for wallet, (gap_before, pages) in sorted(repaired.items()):
        after = coverage.get(wallet)
        if after is None:  # the read gave no total: nothing could be proven either way
            continue
        rows.append(
            {
                "repair_key": f"{wallet}|{run_id or ''}|{now}",
                "wallet": wallet,
                "run_id": run_id,
                "pages": pages,
                "gap_before": gap_before,
                "gap_after": after.gap,
                "trades_recovered": max(0, gap_before - after.gap) if gap_before > 0 else 0,
                "outcome": "closed" if after.complete else "persists",
            }
        )
    if not rows:
        return RepairOutcomes()
    frame = pd.DataFrame.from_records(rows).astype(object)
    frame = frame.where(frame.notna(), None)
    session.upsert(TRADE_REPAIRS, frame, always={"repaired_at": NOW})
    persisting = [row["wallet"] for row in rows if row["outcome"] == "persists"]
    closed = [row["wallet"] for row in rows if row["outcome"] == "closed"]
    for outcome, wallets, increment in (("persists", persisting, 1), ("closed", closed, 0)):
        if wallets:
            session.execute(
                f"""
                UPDATE trade_coverage
                SET repairs = repairs + {increment}, last_repair_at = now(),
                    last_repair_outcome = '{outcome}'
                WHERE wallet IN (SELECT unnest($wallets))
                """,
                {"wallets": wallets},
            )
    return RepairOutcomes(closed=len(closed), persisting=len(persisting))


def record_failed_repairs(session: WarehouseSession, wallets: list[str]) -> None:
    """A repair whose read failed: noted on the ledger row, not counted as an attempt."""
    if wallets:
        session.execute(
            """
            UPDATE trade_coverage SET last_repair_at = now(), last_repair_outcome = 'failed'
            WHERE wallet IN (SELECT unnest($wallets))
            """,
            {"wallets": sorted(wallets)},
        )
