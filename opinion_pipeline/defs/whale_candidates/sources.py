"""Fetch the discovery sources: the UNOFFICIAL leaderboard and market holders.

Requests are made one at a time on purpose: discovery shares the key's pacing limiter with the
every-minute whale sync, and one request in flight can never take more than a sliver of the
key's 15/s (BENCHMARKS.md measures the sync beside it). Each source fails on its own: an error
is recorded against the source and the other source's sightings are still used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from opinion_pipeline.defs.markets.tables import MARKETS
from opinion_pipeline.defs.whale_candidates.validate import (
    Sightings,
    holder_sightings,
    leaderboard_sightings,
)
from opinion_pipeline.opinion_api import OpinionAPIError, unofficial
from opinion_pipeline.warehouse.port import WarehouseSession

BOARDS = tuple(
    f"{t}:{p}" for t in unofficial.LEADERBOARD_TYPES for p in unofficial.LEADERBOARD_PERIODS
)
ACTIVATED = 2


@dataclass
class SourceResult:
    sightings: Sightings = field(default_factory=Sightings)
    requests: int = 0
    failed: str | None = None  # why the source failed (it then contributes nothing)
    detail: dict[str, Any] = field(default_factory=dict)


def fetch_leaderboards(client: Any, boards: Sequence[str] = BOARDS) -> SourceResult:
    """Every board (dataType x period), top 100 each; the first error fails the source."""
    result = SourceResult()
    for board in boards:
        data_type, period = board.split(":")
        result.requests += 1
        try:
            rows = unofficial.leaderboard(client, data_type, int(period))
        except OpinionAPIError as error:
            result.failed = f"leaderboard ({board}): {error}"
            result.sightings = Sightings()
            return result
        result.sightings.extend(leaderboard_sightings(board, rows))
        result.detail[board] = len(rows)
    return result


def holder_markets(session: WarehouseSession, request_budget: int) -> list[int]:
    """Active markets that have holders (binary markets and categorical children), by 24 h
    volume (a child takes its parent's, which the listing reports), within the budget: two
    requests (yes, no) per market."""
    markets = request_budget // 2
    if markets <= 0:
        return []
    rows = session.query(
        f"""
        SELECT m.market_id
        FROM {MARKETS.name} m LEFT JOIN {MARKETS.name} p ON p.market_id = m.parent_market_id
        WHERE m.status = $activated
          AND (m.parent_market_id IS NOT NULL OR m.market_type = 0)
        ORDER BY coalesce(m.volume_24h, p.volume_24h, 0) DESC, m.market_id
        LIMIT $markets
        """,
        {"activated": ACTIVATED, "markets": markets},
    )
    return [int(market_id) for (market_id,) in rows]


def fetch_holders(client: Any, market_ids: Sequence[int]) -> SourceResult:
    """The top holders of both sides of each market; the first error fails the source."""
    result = SourceResult()
    result.detail["markets"] = len(market_ids)
    for market_id in market_ids:
        for side in unofficial.HOLDER_SIDES:
            result.requests += 1
            try:
                _total, rows = unofficial.market_holders(client, market_id, side)
            except OpinionAPIError as error:
                result.failed = f"holders (market {market_id}, {side}): {error}"
                result.sightings = Sightings()
                return result
            result.sightings.extend(holder_sightings(market_id, side, rows))
    return result
