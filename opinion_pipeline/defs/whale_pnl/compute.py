"""PnL per whale and position, recomputed in full from trades, markets and positions snapshots.

What can be summed exactly is summed in SQL (DECIMAL(38,18) sums and differences are exact):
every position's buys, sells, fees, and the realized PnL of closed and resolved positions. An
open position's cost basis needs one division (shares held x cost / shares bought), which
DuckDB would do in floating point, so it is done here in Decimal, rounded half-even to 18
places, for the open positions only. A market that resolves between two runs moves its
positions from unrealized to realized at the next run: nothing is carried over between runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import pandas as pd

from opinion_pipeline.defs.whale_pnl.tables import WHALE_PNL, WHALE_POSITION_PNL
from opinion_pipeline.warehouse.port import Warehouse, WarehouseSession

QUANTUM = Decimal(1).scaleb(-18)
BUYS = "('BUY', 'SPLIT')"
DISPOSALS = "('SELL', 'MERGE')"

_POSITIONS_SQL = f"""
INSERT INTO whale_position_pnl (
    wallet, market_id, outcome_side, market_title, shares_bought, cost, shares_sold, proceeds,
    fees, shares_held, market_status, resolved, decided, won, payout, realized_pnl,
    unrealized_pnl, net_pnl, computed_at)
WITH agg AS (
    SELECT t.wallet, t.market_id, t.outcome_side, min(t.market_title) AS market_title,
           coalesce(sum(t.shares) FILTER (WHERE t.side IN {BUYS}), 0) AS bought,
           coalesce(sum(t.amount) FILTER (WHERE t.side IN {BUYS}), 0) AS cost,
           coalesce(sum(t.shares) FILTER (WHERE t.side IN {DISPOSALS}), 0) AS sold,
           coalesce(sum(t.amount) FILTER (WHERE t.side IN {DISPOSALS}), 0) AS proceeds,
           coalesce(sum(t.fee), 0) AS fees
    FROM trades t JOIN whales w ON w.address = t.wallet AND w.in_registry
    WHERE t.created_at <= $as_of
    GROUP BY t.wallet, t.market_id, t.outcome_side
), judged AS (
    SELECT a.*, a.bought - a.sold AS held, m.status,
           coalesce(m.status = 4 AND m.result_token_id <> ''
                    AND m.result_token_id IN (m.yes_token_id, m.no_token_id), false) AS resolved,
           coalesce(m.result_token_id = CASE WHEN a.outcome_side = 1 THEN m.yes_token_id
                                             ELSE m.no_token_id END, false) AS side_won
    FROM agg a LEFT JOIN markets m ON m.market_id = a.market_id
), settled AS (
    SELECT *, CASE WHEN resolved AND side_won AND held > 0 THEN held ELSE 0 END AS paid
    FROM judged
)
SELECT wallet, market_id, outcome_side, market_title, bought, cost, sold, proceeds, fees, held,
       status, resolved, resolved AND held > 0, resolved AND held > 0 AND side_won,
       CASE WHEN resolved THEN paid END,
       CASE WHEN resolved OR held <= 0 THEN proceeds + paid - cost - fees END,
       CASE WHEN resolved OR held <= 0 THEN 0 END,
       CASE WHEN resolved OR held <= 0 THEN proceeds + paid - cost - fees END,
       $as_of
FROM settled
"""

# The latest price of each token the pipeline has: a positions snapshot's (value / shares) or
# a trade's price, whichever is newer (a snapshot wins a tie: it is the venue's own mark).
_OPEN_SQL = """
WITH prices AS (
    SELECT market_id, outcome_side, mark_price AS price, snapshot_at AS seen_at, 1 AS preferred,
           'snapshot' AS source
    FROM whale_positions WHERE mark_price IS NOT NULL AND snapshot_at <= $as_of
    UNION ALL
    SELECT market_id, outcome_side, price, created_at, 0, 'trade'
    FROM trades WHERE created_at <= $as_of
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY market_id, outcome_side
                                 ORDER BY seen_at DESC, preferred DESC, price DESC) AS n
    FROM prices
)
SELECT p.wallet, p.market_id, p.outcome_side, p.shares_held, p.shares_bought, p.cost,
       p.proceeds, p.fees, r.price, r.seen_at, r.source
FROM whale_position_pnl p
LEFT JOIN ranked r ON r.market_id = p.market_id AND r.outcome_side = p.outcome_side AND r.n = 1
WHERE NOT p.resolved AND p.shares_held > 0
"""

_WHALES_SQL = """
INSERT INTO whale_pnl
SELECT w.address, w.label,
       coalesce(sum(p.realized_pnl), 0), coalesce(sum(p.unrealized_pnl), 0),
       coalesce(sum(p.realized_pnl), 0) + coalesce(sum(p.unrealized_pnl), 0),
       coalesce(sum(p.cost), 0), NULL,
       count(p.market_id),
       count(*) FILTER (WHERE NOT p.resolved AND p.shares_held > 0),
       count(*) FILTER (WHERE NOT p.resolved AND p.shares_held > 0 AND p.mark_price IS NULL),
       count(*) FILTER (WHERE p.decided), count(*) FILTER (WHERE p.won),
       min(p.mark_at), $as_of
FROM whales w LEFT JOIN whale_position_pnl p ON p.wallet = w.address
WHERE w.in_registry
GROUP BY w.address, w.label
"""


@dataclass(frozen=True)
class PnlRun:
    whales: int
    positions: int
    open_positions: int
    unmarked: int


def open_position_figures(
    held: Decimal,
    bought: Decimal,
    cost: Decimal,
    proceeds: Decimal,
    fees: Decimal,
    mark: Decimal | None,
) -> tuple[Decimal, Decimal, Decimal | None]:
    """(cost basis, realized, unrealized or None) of an open position, exactly."""
    with localcontext() as context:
        context.prec = 100
        basis = (held * cost / bought).quantize(QUANTUM, rounding=ROUND_HALF_EVEN)
        realized = proceeds + basis - cost - fees
        unrealized = None if mark is None else held * mark - basis
    return basis, realized, unrealized


def _mark_open_positions(session: WarehouseSession, as_of: datetime) -> tuple[int, int]:
    rows = session.query(_OPEN_SQL, {"as_of": as_of})
    out = []
    unmarked = 0
    for wallet, market, side, held, bought, cost, proceeds, fees, price, at, source in rows:
        basis, realized, unrealized = open_position_figures(
            held, bought, cost, proceeds, fees, price
        )
        unmarked += unrealized is None
        net = realized + (unrealized or 0)
        out.append(
            (
                wallet,
                market,
                side,
                str(basis),
                None if price is None else str(price),
                None if at is None else int(at.timestamp()),
                source,
                str(realized),
                None if unrealized is None else str(unrealized),
                str(net),
            )
        )
    if out:
        frame = pd.DataFrame(
            out,
            columns=[
                "wallet",
                "market_id",
                "outcome_side",
                "cost_basis",
                "mark_price",
                "mark_at",
                "mark_source",
                "realized_pnl",
                "unrealized_pnl",
                "net_pnl",
            ],
        )
        session.upsert(WHALE_POSITION_PNL, frame)
    return len(out), unmarked


def recompute_pnl(warehouse: Warehouse, as_of: datetime) -> PnlRun:
    """Replace whale_position_pnl and whale_pnl with figures as of ``as_of``, in one transaction."""
    with warehouse.session() as session:
        session.execute("DELETE FROM whale_position_pnl")
        session.execute(_POSITIONS_SQL, {"as_of": as_of})
        open_count, unmarked = _mark_open_positions(session, as_of)
        session.execute("DELETE FROM whale_pnl")
        session.execute(_WHALES_SQL, {"as_of": as_of})
        _set_roi(session)
        return PnlRun(
            whales=session.count(WHALE_PNL),
            positions=session.count(WHALE_POSITION_PNL),
            open_positions=open_count,
            unmarked=unmarked,
        )


def _set_roi(session: WarehouseSession) -> None:
    """ROI = net / capital, in Decimal (DuckDB divides decimals in floating point)."""
    rows = session.query(
        "SELECT wallet, net_pnl, capital_deployed FROM whale_pnl WHERE capital_deployed > 0"
    )
    if not rows:
        return
    with localcontext() as context:
        context.prec = 60
        values = [(w, str((net / capital).quantize(QUANTUM))) for w, net, capital in rows]
    session.upsert(WHALE_PNL, pd.DataFrame(values, columns=["wallet", "roi"]))


def top_by_net(session: WarehouseSession, limit: int = 10) -> list[tuple]:
    return session.query(
        """
        SELECT label, wallet, net_pnl, realized_pnl, unrealized_pnl, capital_deployed, roi,
               decided_positions
        FROM whale_pnl ORDER BY net_pnl DESC, wallet LIMIT $limit
        """,
        {"limit": limit},
    )
