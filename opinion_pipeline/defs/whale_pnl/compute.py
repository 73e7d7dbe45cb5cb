"""PnL per whale and position, recomputed in full from trades, markets and positions snapshots.

One set-based statement writes every position: DECIMAL(38,18) sums and differences are exact in
DuckDB, and the two steps that are not (an open position's cost basis, held x cost / bought,
half-even; and held x mark, half away from zero as the stored strings were) are done exactly in
integer and split-decimal arithmetic by exact_sql.py. Open positions outside its stated domain
go through the Decimal path here (``open_position_figures``), as ROI does. The table is written
once into an emptied table (no upsert, no key index). A market that resolves between two runs
moves its positions from unrealized to realized at the next run: nothing is carried over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import pandas as pd

from opinion_pipeline.defs.whale_pnl import exact_sql
from opinion_pipeline.defs.whale_pnl.tables import WHALE_PNL, WHALE_POSITION_PNL
from opinion_pipeline.tables import MONEY
from opinion_pipeline.warehouse.port import Warehouse, WarehouseSession

QUANTUM = Decimal(1).scaleb(-18)
MEMORY_LIMIT = "1400MB"  # the connection's DuckDB memory; the whole process stays under 2 GB
BUYS = "('BUY', 'SPLIT')"
DISPOSALS = "('SELL', 'MERGE')"

# Grouped by the whale's row number (an integer key hashes far faster than the address), the
# address joined back afterwards.
_AGGREGATE_SQL = f"""
SELECT w.address AS wallet, a.* EXCLUDE (whale)
FROM (
    SELECT w.rowid AS whale, t.market_id, t.outcome_side, min(t.market_title) AS market_title,
           coalesce(sum(t.shares) FILTER (WHERE t.side IN {BUYS}), 0) AS bought,
           coalesce(sum(t.amount) FILTER (WHERE t.side IN {BUYS}), 0) AS cost,
           coalesce(sum(t.shares) FILTER (WHERE t.side IN {DISPOSALS}), 0) AS sold,
           coalesce(sum(t.amount) FILTER (WHERE t.side IN {DISPOSALS}), 0) AS proceeds,
           coalesce(sum(t.fee), 0) AS fees
    FROM trades t JOIN whales w ON w.address = t.wallet AND w.in_registry
    WHERE t.created_at <= $as_of
    GROUP BY w.rowid, t.market_id, t.outcome_side
) a JOIN whales w ON w.rowid = a.whale
"""

# The latest price of each token the pipeline has: a positions snapshot's (value / shares) or
# a trade's price, whichever is newer (a snapshot wins a tie: it is the venue's own mark; then
# the higher price, so the choice never depends on scan order). The newest time per token comes
# first (a max of timestamps), so the (time, snapshot-first, price) struct is compared only on
# the rows at that time, not on every trade.
_SEEN_SQL = """
SELECT market_id, outcome_side, snapshot_at AS seen_at, 1 AS preferred, mark_price AS price
FROM whale_positions WHERE mark_price IS NOT NULL AND snapshot_at <= $as_of
UNION ALL
SELECT market_id, outcome_side, created_at, 0, price FROM trades WHERE created_at <= $as_of
"""
_PRICES_SQL = f"""
SELECT market_id, outcome_side, max({{'seen_at': seen_at, 'preferred': preferred,
                                    'price': price}}) AS newest
FROM ({_SEEN_SQL}) seen
SEMI JOIN (
    SELECT market_id, outcome_side, max(seen_at) AS seen_at FROM ({_SEEN_SQL}) GROUP BY ALL
) newest USING (market_id, outcome_side, seen_at)
GROUP BY market_id, outcome_side
"""

_JUDGED_SQL = f"""
SELECT a.*, a.bought - a.sold AS held, m.status,
       coalesce(m.status = 4 AND m.result_token_id <> ''
                AND m.result_token_id IN (m.yes_token_id, m.no_token_id), false) AS resolved,
       coalesce(m.result_token_id = CASE WHEN a.outcome_side = 1 THEN m.yes_token_id
                                         ELSE m.no_token_id END, false) AS side_won
FROM ({_AGGREGATE_SQL}) a LEFT JOIN markets m ON m.market_id = a.market_id
"""

_MARKED_SQL = f"""
SELECT j.*, NOT j.resolved AND j.held > 0 AS is_open,
       CASE WHEN j.resolved AND j.side_won AND j.held > 0 THEN j.held ELSE 0 END AS paid,
       CASE WHEN NOT j.resolved AND j.held > 0 THEN p.newest END AS newest,
       CASE WHEN NOT j.resolved AND j.held > 0 THEN p.newest.price END AS mark
FROM ({_JUDGED_SQL}) j
LEFT JOIN ({_PRICES_SQL}) p ON p.market_id = j.market_id AND p.outcome_side = j.outcome_side
"""

_EXACT = f"coalesce(is_open AND {exact_sql.IN_DOMAIN}, false)"
_DIVIDED = exact_sql.long_division_layers(
    f"(SELECT *, {_EXACT} AS exact FROM ({_MARKED_SQL}))", "exact AND held < bought"
)
_BASIS = exact_sql.from_scaled(exact_sql.half_even("basis_q", "basis_r", "basis_b"))

# An open position's figures (exact: exact_sql.py), with the cost basis of its shares held:
# all of its cost when nothing was disposed of, else held x cost / bought.
_OPEN_SQL = f"""
SELECT *, CASE WHEN exact THEN proceeds + basis - cost - fees END AS open_realized,
       CASE WHEN exact AND mark IS NOT NULL THEN trunc(held) * mark - basis END AS whole,
       CASE WHEN exact AND mark IS NOT NULL THEN (held - trunc(held)) * mark END AS part
FROM (
    SELECT *, CASE WHEN NOT exact THEN NULL WHEN held = bought THEN cost ELSE {_BASIS} END
              AS basis
    FROM ({_DIVIDED})
)
"""
# part (scale 36) rounded half up to 18 places, and whether it was exactly half a quantum
_ROUNDED_SQL = f"""
SELECT *, whole + part_up AS unrealized_up,
       part - part_up = CAST('-0.0000000000000000005' AS DECIMAL(38,36)) AS tie
FROM (SELECT *, CAST(part AS DECIMAL(38,18)) AS part_up FROM ({_OPEN_SQL}))
"""
_UNREALIZED = exact_sql.half_away("unrealized_up", "tie")
_NET = exact_sql.half_away("(open_realized + unrealized_up)", "tie")

_POSITIONS_SQL = f"""
INSERT INTO whale_position_pnl (
    wallet, market_id, outcome_side, market_title, shares_bought, cost, shares_sold, proceeds,
    fees, shares_held, market_status, resolved, decided, won, payout, cost_basis, mark_price,
    mark_at, mark_source, realized_pnl, unrealized_pnl, net_pnl, computed_at)
SELECT wallet, market_id, outcome_side, market_title, bought, cost, sold, proceeds, fees, held,
       status, resolved, resolved AND held > 0, resolved AND held > 0 AND side_won,
       CASE WHEN resolved THEN paid END,
       basis, mark, date_trunc('second', newest.seen_at),
       CASE newest.preferred WHEN 1 THEN 'snapshot' WHEN 0 THEN 'trade' END,
       CASE WHEN NOT is_open THEN proceeds + paid - cost - fees WHEN exact THEN open_realized END,
       CASE WHEN NOT is_open THEN 0 WHEN exact AND mark IS NOT NULL THEN {_UNREALIZED} END,
       CASE WHEN NOT is_open THEN proceeds + paid - cost - fees
            WHEN exact AND mark IS NULL THEN open_realized
            WHEN exact THEN {_NET} END,
       $as_of
FROM ({_ROUNDED_SQL})
"""

# Open positions the SQL left to Python (outside exact_sql.IN_DOMAIN): their mark is stored.
_LEFT_TO_PYTHON_SQL = """
SELECT wallet, market_id, outcome_side, shares_held, shares_bought, cost, proceeds, fees,
       mark_price
FROM whale_position_pnl
WHERE NOT resolved AND shares_held > 0 AND cost_basis IS NULL
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


_OPEN_COUNTS_SQL = """
SELECT count(*), count(*) FILTER (WHERE mark_price IS NULL) FROM whale_position_pnl
WHERE NOT resolved AND shares_held > 0
"""


@dataclass(frozen=True)
class PnlRun:
    whales: int
    positions: int
    open_positions: int
    unmarked: int
    in_python: int = 0  # open positions outside the SQL's exact domain


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


def _open_positions_in_python(session: WarehouseSession) -> int:
    """The Decimal path, for the open positions the SQL does not cover exactly (none in
    practice: see exact_sql.IN_DOMAIN), written back in one UPDATE."""
    rows = session.query(_LEFT_TO_PYTHON_SQL)
    if not rows:
        return 0
    values, params = [], {}
    for n, (wallet, market, side, held, bought, cost, proceeds, fees, price) in enumerate(rows):
        basis, realized, unrealized = open_position_figures(
            held, bought, cost, proceeds, fees, price
        )
        figures = (wallet, market, side, basis, realized, unrealized, realized + (unrealized or 0))
        names = [f"p{n}_{i}" for i in range(len(figures))]
        params.update(
            {
                name: v if i < 3 or v is None else str(v)
                for i, (name, v) in enumerate(zip(names, figures, strict=True))
            }
        )
        values.append("(" + ", ".join(f"${name}" for name in names) + ")")
    session.execute(
        f"""
        UPDATE whale_position_pnl p SET
            cost_basis = CAST(v.basis AS {MONEY}), realized_pnl = CAST(v.realized AS {MONEY}),
            unrealized_pnl = CAST(v.unrealized AS {MONEY}), net_pnl = CAST(v.net AS {MONEY})
        FROM (VALUES {", ".join(values)})
             v(wallet, market_id, outcome_side, basis, realized, unrealized, net)
        WHERE p.wallet = v.wallet AND p.market_id = v.market_id
          AND p.outcome_side = v.outcome_side
        """,
        params,
    )
    return len(rows)


def recompute_pnl(warehouse: Warehouse, as_of: datetime) -> PnlRun:
    """Replace whale_position_pnl and whale_pnl with figures as of ``as_of``, in one transaction."""
    with warehouse.session() as session:
        # Held to a budget DuckDB spills past (its default is 80 % of RAM): the aggregate of
        # 10 M trades into 8 M positions otherwise takes 2.3 GB, no faster (BENCHMARKS.md).
        session.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        session.execute("DELETE FROM whale_position_pnl")
        session.execute(_POSITIONS_SQL, {"as_of": as_of})
        in_python = _open_positions_in_python(session)
        open_count, unmarked = session.query(_OPEN_COUNTS_SQL)[0]
        session.execute("DELETE FROM whale_pnl")
        session.execute(_WHALES_SQL, {"as_of": as_of})
        _set_roi(session)
        return PnlRun(
            whales=session.count(WHALE_PNL),
            positions=session.count(WHALE_POSITION_PNL),
            open_positions=open_count,
            unmarked=unmarked,
            in_python=in_python,
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
