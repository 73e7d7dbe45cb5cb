"""market_flows, recomputed in full from trades and whale_skill for each window.

Sums are exact DECIMAL(38,18) in SQL; the one division (the top-skill share) is done in
Python Decimal. USD is ``trades.usd_value`` (amount x the quote token's USD price). Only
tracked whales' trades count (whales.in_registry), as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, localcontext

import pandas as pd

from opinion_pipeline.defs.market_flows.tables import MARKET_FLOWS, WINDOWS
from opinion_pipeline.warehouse.port import Warehouse, WarehouseSession

TOP_SKILL_WHALES = 10  # skill_rank <= this counts as a top-skill whale
QUANTUM = Decimal(1).scaleb(-18)

_FLOWS_SQL = """
INSERT INTO market_flows
WITH windowed AS (
    SELECT t.*, coalesce(s.skill_rank <= $top, false) AS top_skill,
           CASE WHEN t.side IN ('BUY', 'SPLIT') THEN t.usd_value ELSE -t.usd_value END AS signed
    FROM trades t
    JOIN whales w ON w.address = t.wallet AND w.in_registry
    LEFT JOIN whale_skill s ON s.wallet = t.wallet
    WHERE t.created_at > $since AND t.created_at <= $as_of
)
SELECT market_id, $window, min(market_title),
       coalesce(sum(signed) FILTER (WHERE outcome_side = 1), 0),
       coalesce(sum(signed) FILTER (WHERE outcome_side = 2), 0),
       abs(coalesce(sum(signed) FILTER (WHERE outcome_side = 1), 0))
           + abs(coalesce(sum(signed) FILTER (WHERE outcome_side = 2), 0)),
       count(DISTINCT wallet) FILTER (WHERE outcome_side = 1),
       count(DISTINCT wallet) FILTER (WHERE outcome_side = 2),
       coalesce(sum(usd_value), 0),
       coalesce(sum(usd_value) FILTER (WHERE top_skill), 0),
       0, count(*), $as_of
FROM windowed
GROUP BY market_id
"""


@dataclass(frozen=True)
class FlowsRun:
    rows: dict[str, int]  # window -> markets with whale trades in it
    top: list[tuple]  # the 7d window's markets by net flow


def _set_shares(session: WarehouseSession) -> None:
    rows = session.query(
        "SELECT market_id, flow_window, top_skill_volume_usd, volume_usd FROM market_flows "
        "WHERE volume_usd > 0"
    )
    if not rows:
        return
    with localcontext() as context:
        context.prec = 60
        values = [
            (market, window, str((top / volume).quantize(QUANTUM)))
            for market, window, top, volume in rows
        ]
    frame = pd.DataFrame(values, columns=["market_id", "flow_window", "top_skill_share"])
    session.upsert(MARKET_FLOWS, frame)


def recompute_flows(
    warehouse: Warehouse, as_of: datetime, *, top_skill: int = TOP_SKILL_WHALES, top: int = 10
) -> FlowsRun:
    """Replace market_flows with every window ending at ``as_of``, in one transaction.

    Whales ranked ``top_skill`` or better in whale_skill are the top-skill whales."""
    counts: dict[str, int] = {}
    with warehouse.session() as session:
        session.execute("DELETE FROM market_flows")
        for window, hours in WINDOWS.items():
            since = as_of - timedelta(hours=hours)
            params = {"window": window, "since": since, "as_of": as_of, "top": top_skill}
            session.execute(_FLOWS_SQL, params)
        _set_shares(session)
        for window, count in session.query(
            "SELECT flow_window, count(*) FROM market_flows GROUP BY 1"
        ):
            counts[window] = int(count)
        best = session.query(
            """
            SELECT market_id, market_title, yes_net_usd, no_net_usd, yes_whales, no_whales,
                   top_skill_share
            FROM market_flows WHERE flow_window = '7d'
            ORDER BY net_flow_usd DESC, market_id LIMIT $limit
            """,
            {"limit": top},
        )
    return FlowsRun(rows={window: counts.get(window, 0) for window in WINDOWS}, top=best)
