"""Derive position changes from consecutive complete snapshots (and the trades between them).

Per whale, each complete snapshot newer than the one last compared is set against the whale's
previous complete snapshot (the first snapshot of a whale is its baseline: nothing changes
then). A position present only now was *opened*; present in both with more or fewer shares,
*increased* / *reduced*; gone now, *closed* (or, on a resolved winning side, *claimed*: redeemed
away). Its market turning Resolved (status 4) gives *resolved_won* / *resolved_lost* (the
market sweep's result token, else the snapshot's value), its claim status turning Claimed (3)
*claimed*. Changes and the progress mark are written in one transaction, and each change is
keyed on (wallet, market, side, change, snapshot time), so a rerun or a crash adds nothing twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from opinion_pipeline.defs.position_changes.tables import POSITION_CHANGE_PROGRESS, POSITION_CHANGES
from opinion_pipeline.warehouse.port import NOW, Warehouse

RESOLVED, CLAIMED = 4, 3
ZERO = Decimal(0)

_DIFF_SQL = """
WITH complete AS (
    SELECT wallet, snapshot_at,
           lag(snapshot_at) OVER (PARTITION BY wallet ORDER BY snapshot_at) AS prev_at
    FROM position_snapshots WHERE complete
), pairs AS (
    SELECT c.wallet, c.snapshot_at AS at, c.prev_at
    FROM complete c LEFT JOIN position_change_progress p ON p.wallet = c.wallet
    WHERE c.prev_at IS NOT NULL
      AND (p.compared_through IS NULL OR c.snapshot_at > p.compared_through)
), cur AS (
    SELECT pr.wallet, pr.at, pr.prev_at, wp.market_id, wp.outcome_side, wp.shares_owned,
           wp.market_status, wp.claim_status,
           wp.mark_price, wp.token_id, wp.market_title, wp.outcome
    FROM pairs pr JOIN whale_positions wp ON wp.wallet = pr.wallet AND wp.snapshot_at = pr.at
), prv AS (
    SELECT pr.wallet, pr.at, pr.prev_at, wp.market_id, wp.outcome_side, wp.shares_owned,
           wp.market_status, wp.claim_status,
           wp.mark_price, wp.token_id, wp.market_title, wp.outcome
    FROM pairs pr JOIN whale_positions wp ON wp.wallet = pr.wallet AND wp.snapshot_at = pr.prev_at
), diff AS (
    SELECT coalesce(c.wallet, v.wallet) AS wallet, coalesce(c.at, v.at) AS at,
           coalesce(c.prev_at, v.prev_at) AS prev_at,
           coalesce(c.market_id, v.market_id) AS market_id,
           coalesce(c.outcome_side, v.outcome_side) AS outcome_side,
           v.shares_owned AS shares_before, c.shares_owned AS shares_after,
           v.market_status AS status_before, c.market_status AS status_after,
           v.claim_status AS claim_before, c.claim_status AS claim_after,
           coalesce(c.mark_price, v.mark_price) AS mark_price,
           coalesce(c.token_id, v.token_id) AS token_id,
           coalesce(c.market_title, v.market_title) AS market_title,
           coalesce(c.outcome, v.outcome) AS outcome
    FROM cur c FULL OUTER JOIN prv v
      ON c.wallet = v.wallet AND c.at = v.at AND c.market_id = v.market_id
     AND c.outcome_side = v.outcome_side
)
SELECT d.*, m.status AS market_status_now, nullif(m.result_token_id, '') AS result_token_id,
       (SELECT count(*) FROM trades t
        WHERE t.wallet = d.wallet AND t.market_id = d.market_id
          AND t.outcome_side = d.outcome_side AND t.created_at > d.prev_at
          AND t.created_at <= d.at) AS trades_between
FROM diff d LEFT JOIN markets m ON m.market_id = d.market_id
"""

_PAIRS_SQL = """
WITH complete AS (
    SELECT wallet, snapshot_at,
           lag(snapshot_at) OVER (PARTITION BY wallet ORDER BY snapshot_at) AS prev_at
    FROM position_snapshots WHERE complete
)
SELECT c.wallet, max(c.snapshot_at) FROM complete c
LEFT JOIN position_change_progress p ON p.wallet = c.wallet
WHERE p.compared_through IS NULL OR c.snapshot_at > p.compared_through
GROUP BY c.wallet
"""


@dataclass(frozen=True)
class ChangesRun:
    new: int
    by_change: dict[str, int]
    wallets_compared: int


def change_key(wallet: str, market_id: int, side: int, change: str, at: int) -> str:
    text = f"{wallet}|{int(market_id)}|{int(side)}|{change}|{int(at)}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _won(row: Any) -> bool:
    if row.result_token_id:
        return row.result_token_id == row.token_id
    mark = row.mark_price
    return mark is not None and not pd.isna(mark) and Decimal(mark) > 0


def _dec(value: Any) -> Decimal:
    return ZERO if value is None or pd.isna(value) else Decimal(value)


def classify(row: Any) -> list[tuple[str, Decimal]]:
    """The changes one (pair of snapshots, position) shows, each with its size in quote token."""
    before, after = _dec(row.shares_before), _dec(row.shares_after)
    present_before = row.status_before is not None and not pd.isna(row.status_before)
    present_after = row.status_after is not None and not pd.isna(row.status_after)
    mark = _dec(row.mark_price)
    changes: list[tuple[str, Decimal]] = []
    if not present_before:
        return [("opened", after * mark)]
    was_resolved = int(row.status_before) == RESOLVED
    if present_after:
        if after > before:
            changes.append(("increased", (after - before) * mark))
        elif after < before:
            changes.append(("reduced", (before - after) * mark))
        if not was_resolved and int(row.status_after) == RESOLVED:
            won = _won(row)
            changes.append(("resolved_won" if won else "resolved_lost", after if won else ZERO))
        if int(row.claim_before) != CLAIMED and int(row.claim_after) == CLAIMED:
            changes.append(("claimed", after))
        return changes
    now_resolved = row.market_status_now is not None and row.market_status_now == RESOLVED
    won = _won(row)
    if not was_resolved and now_resolved:
        changes.append(("resolved_won" if won else "resolved_lost", before if won else ZERO))
    if (was_resolved or now_resolved) and won and int(row.claim_before) != CLAIMED:
        changes.append(("claimed", before))
    elif not (was_resolved or now_resolved):
        changes.append(("closed", before * mark))
    else:
        changes.append(("closed", ZERO))
    return changes


def _rows(diff: pd.DataFrame) -> pd.DataFrame:
    out: list[dict[str, Any]] = []
    for row in diff.itertuples(index=False):
        at = int(pd.Timestamp(row.at).timestamp())
        prev_at = int(pd.Timestamp(row.prev_at).timestamp())
        for change, value in classify(row):
            out.append(
                {
                    "change_key": change_key(
                        row.wallet, row.market_id, row.outcome_side, change, at
                    ),
                    "wallet": row.wallet,
                    "market_id": int(row.market_id),
                    "outcome_side": int(row.outcome_side),
                    "change": change,
                    "snapshot_at": at,
                    "previous_snapshot_at": prev_at,
                    "shares_before": str(_dec(row.shares_before)),
                    "shares_after": str(_dec(row.shares_after)),
                    "value_quote": str(value),
                    "trades_between": int(row.trades_between),
                    "market_title": row.market_title,
                    "outcome": row.outcome,
                }
            )
    return pd.DataFrame(out, columns=POSITION_CHANGES.frame_columns)


def derive_position_changes(warehouse: Warehouse, *, run_id: str | None = None) -> ChangesRun:
    """Compare every snapshot not compared yet with its predecessor; store the changes."""
    with warehouse.session() as session:
        diff = session.frame(_DIFF_SQL)
        progress = session.query(_PAIRS_SQL)
        rows = _rows(diff)
        new = 0
        if not rows.empty:
            stored = session.insert_new(
                POSITION_CHANGES, rows, always={"detected_at": NOW, "run_id": run_id}
            )
            new = len(stored.rows)
        if progress:
            marks = pd.DataFrame(
                [(wallet, int(pd.Timestamp(at).timestamp())) for wallet, at in progress],
                columns=POSITION_CHANGE_PROGRESS.frame_columns,
            )
            session.upsert(POSITION_CHANGE_PROGRESS, marks)
    counts = rows["change"].value_counts().to_dict() if not rows.empty else {}
    return ChangesRun(
        new=new, by_change={k: int(v) for k, v in counts.items()}, wallets_compared=len(progress)
    )


def latest_changes(warehouse: Warehouse, limit: int = 10) -> list[tuple]:
    with warehouse.reader() as session:
        return session.query(
            """
            SELECT c.snapshot_at, w.label, c.wallet, c.change, c.outcome, c.value_quote,
                   c.market_title
            FROM position_changes c LEFT JOIN whales w ON w.address = c.wallet
            ORDER BY c.snapshot_at DESC, c.value_quote DESC LIMIT $limit
            """,
            {"limit": limit},
        )
