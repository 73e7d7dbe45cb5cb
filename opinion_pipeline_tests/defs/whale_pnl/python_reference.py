"""The PnL as the pipeline computed it before the set-based SQL: a row-by-row Decimal oracle.

The per-position sums come from the same kind of GROUP BY (exact DECIMAL sums), the newest price
from a window ranking, and every open position's figures from ``open_position_figures`` in
Decimal, rounded as the old path stored them (its strings cast to DECIMAL(38,18): half away from
zero). Returns rows keyed like whale_position_pnl and whale_pnl, for an equality test.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext

import duckdb

from opinion_pipeline.defs.whale_pnl.compute import open_position_figures

QUANTUM = Decimal(1).scaleb(-18)

_POSITIONS = """
WITH agg AS (
    SELECT t.wallet, t.market_id, t.outcome_side, min(t.market_title) AS market_title,
           coalesce(sum(t.shares) FILTER (WHERE t.side IN ('BUY', 'SPLIT')), 0) AS bought,
           coalesce(sum(t.amount) FILTER (WHERE t.side IN ('BUY', 'SPLIT')), 0) AS cost,
           coalesce(sum(t.shares) FILTER (WHERE t.side IN ('SELL', 'MERGE')), 0) AS sold,
           coalesce(sum(t.amount) FILTER (WHERE t.side IN ('SELL', 'MERGE')), 0) AS proceeds,
           coalesce(sum(t.fee), 0) AS fees
    FROM trades t JOIN whales w ON w.address = t.wallet AND w.in_registry
    WHERE t.created_at <= $as_of
    GROUP BY t.wallet, t.market_id, t.outcome_side
)
SELECT a.*, m.status,
       coalesce(m.status = 4 AND m.result_token_id <> ''
                AND m.result_token_id IN (m.yes_token_id, m.no_token_id), false) AS resolved,
       coalesce(m.result_token_id = CASE WHEN a.outcome_side = 1 THEN m.yes_token_id
                                         ELSE m.no_token_id END, false) AS side_won
FROM agg a LEFT JOIN markets m ON m.market_id = a.market_id
"""

_PRICES = """
WITH prices AS (
    SELECT market_id, outcome_side, mark_price AS price, snapshot_at AS seen_at, 1 AS preferred
    FROM whale_positions WHERE mark_price IS NOT NULL AND snapshot_at <= $as_of
    UNION ALL
    SELECT market_id, outcome_side, price, created_at, 0 FROM trades WHERE created_at <= $as_of
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY market_id, outcome_side
                                 ORDER BY seen_at DESC, preferred DESC, price DESC) AS n
    FROM prices
)
SELECT market_id, outcome_side, price, seen_at, preferred FROM ranked WHERE n = 1
"""


def _stored(value: Decimal | None) -> Decimal | None:
    """What DECIMAL(38,18) keeps of an exact value cast from its string."""
    if value is None:
        return None
    with localcontext() as context:
        context.prec = 100
        return value.quantize(QUANTUM, rounding=ROUND_HALF_UP)


def reference_positions(conn: duckdb.DuckDBPyConnection, as_of: datetime) -> dict[tuple, tuple]:
    """(wallet, market, side) -> (basis, mark, mark_at, source, realized, unrealized, net,
    resolved, decided, won, payout, held)."""
    prices = {
        (market, side): (price, seen_at, "snapshot" if preferred else "trade")
        for market, side, price, seen_at, preferred in conn.execute(
            _PRICES, {"as_of": as_of}
        ).fetchall()
    }
    out = {}
    rows = conn.execute(_POSITIONS, {"as_of": as_of}).fetchall()
    for wallet, market, side, _, bought, cost, sold, proceeds, fees, _, resolved, won in rows:
        held = bought - sold
        paid = held if resolved and won and held > 0 else Decimal(0)
        key = (wallet, market, side)
        flags = (resolved, resolved and held > 0, resolved and held > 0 and won)
        payout = paid if resolved else None
        if resolved or held <= 0:
            realized = proceeds + paid - cost - fees
            out[key] = (
                None,
                None,
                None,
                None,
                realized,
                Decimal(0),
                realized,
                *flags,
                payout,
                held,
            )
            continue
        price, seen_at, source = prices.get((market, side), (None, None, None))
        basis, realized, unrealized = open_position_figures(
            held, bought, cost, proceeds, fees, price
        )
        with localcontext() as context:
            context.prec = 100
            net = realized + (unrealized or 0)
        mark_at = None if seen_at is None else seen_at.replace(microsecond=0)
        out[key] = (
            basis, price, mark_at, source, realized, _stored(unrealized), _stored(net),
            *flags, payout, held,
        )  # fmt: skip
    return out


def reference_roi(net: Decimal, capital: Decimal) -> Decimal | None:
    if capital <= 0:
        return None
    with localcontext() as context:
        context.prec = 60
        return (net / capital).quantize(QUANTUM, rounding=ROUND_HALF_EVEN)
