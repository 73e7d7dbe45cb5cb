"""The whales table mirrors the registry file and records polling state."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from opinion_pipeline.whales import Whale


@dataclass(frozen=True)
class RegistrySync:
    listed: int
    added: int
    removed: int


def sync_registry(conn: duckdb.DuckDBPyConnection, whales: Sequence[Whale]) -> RegistrySync:
    """Upsert the registry's whales; whales no longer listed keep their rows, flagged unlisted."""
    frame = pd.DataFrame(
        {
            "address": [whale.address for whale in whales],
            "label": [whale.label for whale in whales],
            "tags": [list(whale.tags) for whale in whales],
        },
        columns=["address", "label", "tags"],
    )
    conn.register("registry", frame)
    try:
        added = conn.execute(
            "SELECT count(*) FROM registry r ANTI JOIN whales w ON w.address = r.address"
        ).fetchone()[0]  # type: ignore[index]
        conn.execute(
            """
            INSERT INTO whales (address, label, tags, in_registry, first_listed_at, last_listed_at)
            SELECT address, label, CAST(tags AS VARCHAR[]), true, now(), now() FROM registry
            ON CONFLICT (address) DO UPDATE SET
                label = excluded.label, tags = excluded.tags, in_registry = true,
                last_listed_at = excluded.last_listed_at
            """
        )
        removed = conn.execute(
            """
            UPDATE whales SET in_registry = false
            WHERE in_registry AND address NOT IN (SELECT address FROM registry)
            """
        ).fetchone()[0]  # type: ignore[index]
    finally:
        conn.unregister("registry")
    return RegistrySync(listed=len(whales), added=int(added), removed=int(removed))


def inactive_wallets_not_due(
    conn: duckdb.DuckDBPyConnection, poll_minutes: int
) -> set[str]:
    """Inactive whales polled less than ``poll_minutes`` ago: skipped this cycle."""
    rows = conn.execute(
        """
        SELECT address FROM whales
        WHERE status = 'inactive' AND last_polled_at IS NOT NULL
          AND last_polled_at > now() - to_minutes(CAST(? AS BIGINT))
        """,
        [poll_minutes],
    ).fetchall()
    return {address for (address,) in rows}


def mark_polled(conn: duckdb.DuckDBPyConnection, wallets: Iterable[str]) -> None:
    polled = pd.DataFrame({"address": list(wallets)})
    if polled.empty:
        return
    conn.register("polled", polled)
    try:
        conn.execute(
            "UPDATE whales SET last_polled_at = now() WHERE address IN (SELECT address FROM polled)"
        )
    finally:
        conn.unregister("polled")
