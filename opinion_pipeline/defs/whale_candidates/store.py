"""Reads and writes of the discovery dataset, through the warehouse port."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd

from opinion_pipeline.defs.whale_candidates.gate import Universe, addresses
from opinion_pipeline.defs.whale_candidates.tables import CANDIDATE_SIGHTINGS, WHALE_CANDIDATES
from opinion_pipeline.defs.whale_candidates.validate import Sightings
from opinion_pipeline.defs.whale_registry.tables import REGISTRY_EXCLUSIONS, WHALES
from opinion_pipeline.defs.whale_trades.tables import ARCHIVED_TRADES, TRADES
from opinion_pipeline.warehouse.port import NOW, WarehouseSession


def source_due(
    session: WarehouseSession, source: str, refresh_minutes: int, *, slack_minutes: float = 0
) -> bool:
    """Whether ``source`` was last seen at least its refresh interval ago (or never).

    ``slack_minutes`` (half the schedule's interval) absorbs the seconds by which a tick's run
    starts earlier after the previous run: without it a 60-minute refresh on an hourly tick is
    late by a whole tick every time the previous run took a little longer to start.
    """
    rows = session.query(
        f"SELECT max(last_seen_at) FROM {CANDIDATE_SIGHTINGS.name} WHERE source = $source",
        {"source": source},
    )
    latest = rows[0][0] if rows else None
    if latest is None:
        return True
    due_at = latest + timedelta(minutes=refresh_minutes - slack_minutes)
    return due_at <= datetime.now(timezone.utc)


def write_sightings(
    session: WarehouseSession, entity: str, sightings: Sightings, run_id: str | None
) -> int:
    """Upsert the sightings (first_seen kept, last_seen now) and quarantine the rejects."""
    session.quarantine(entity, sightings.rejects, run_id=run_id)
    if not sightings.rows:
        return 0
    result = session.upsert(
        CANDIDATE_SIGHTINGS,
        sightings.frame(),
        on_insert={"first_seen_at": NOW},
        always={"last_seen_at": NOW, "run_id": run_id},
    )
    return result.inserted


def registry_entries(session: WarehouseSession) -> list[dict[str, str]]:
    """The registry file's pins as last loaded (source registry), as raw lines to validate."""
    rows = session.query(
        f"SELECT address, label FROM {WHALES.name} "
        "WHERE source = 'registry' AND in_registry ORDER BY address"
    )
    return [{"address": address, "label": label} for address, label in rows]


def clear_registry_sightings(session: WarehouseSession, keep: list[str]) -> None:
    """Registry sightings mirror the file: a line removed from it stops being a sighting."""
    session.execute(
        f"DELETE FROM {CANDIDATE_SIGHTINGS.name} "
        "WHERE source = 'registry' AND address NOT IN (SELECT unnest($keep))",
        {"keep": keep},
    )


def universe(session: WarehouseSession) -> Universe:
    pins = session.query(
        f"SELECT address FROM {WHALES.name} WHERE source = 'registry' AND in_registry"
    )
    excluded = session.query(f"SELECT address FROM {REGISTRY_EXCLUSIONS.name}")
    tracked = session.query(
        f"SELECT address FROM {WHALES.name} "
        "WHERE source <> 'registry' AND in_registry AND discovery_dropped_at IS NULL"
    )
    silent = session.query(
        f"""
        SELECT w.address FROM {WHALES.name} w
        WHERE w.source <> 'registry' AND w.in_registry AND w.last_polled_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM {TRADES.name} t WHERE t.wallet = w.address)
          AND NOT EXISTS (SELECT 1 FROM {ARCHIVED_TRADES.name} a WHERE a.wallet = w.address)
        """
    )
    return Universe(
        pins=addresses(a for (a,) in pins),
        excluded=addresses(a for (a,) in excluded),
        tracked=addresses(a for (a,) in tracked),
        polled_without_trades=addresses(a for (a,) in silent),
    )


def all_sightings(session: WarehouseSession) -> pd.DataFrame:
    return session.frame(
        f"SELECT address, source, board, rank, ranking_value_sent, "
        f"CAST(ranking_value AS VARCHAR) AS ranking_value, "
        f"CAST(holding_usd AS VARCHAR) AS holding_usd, user_name, first_seen_at, last_seen_at "
        f"FROM {CANDIDATE_SIGHTINGS.name} ORDER BY address, source, board"
    )


def write_candidates(session: WarehouseSession, decided: pd.DataFrame) -> None:
    """Replace the candidates with the gate's decision (one row per address sighted)."""
    session.execute(
        f"DELETE FROM {WHALE_CANDIDATES.name} WHERE address NOT IN (SELECT unnest($keep))",
        {"keep": list(decided["address"])},
    )
    if len(decided):
        session.upsert(WHALE_CANDIDATES, decided, always={"decided_at": NOW})
