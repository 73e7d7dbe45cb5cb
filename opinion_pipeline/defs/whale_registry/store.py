"""The whales table mirrors the registry file and records polling state."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from opinion_pipeline.defs.whale_registry.registry_file import Whale


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


def listed_whales(conn: duckdb.DuckDBPyConnection) -> list[Whale]:
    """Whales the registry lists now, as last loaded, by address."""
    rows = conn.execute(
        "SELECT address, label, tags FROM whales WHERE in_registry ORDER BY address"
    ).fetchall()
    return [Whale(address=address, label=label, tags=tuple(tags)) for address, label, tags in rows]


def inactive_wallets_not_due(conn: duckdb.DuckDBPyConnection, poll_minutes: int) -> set[str]:
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


def mark_inactive_whales(conn: duckdb.DuckDBPyConnection, after_days: int) -> int:
    """Active whales with no trade in ``after_days`` days become inactive; returns how many.

    A whale that never traded counts from when it was first listed, so a new whale gets
    ``after_days`` days before it is polled less often.
    """
    marked = conn.execute(
        """
        UPDATE whales SET status = 'inactive', inactive_since = now()
        WHERE status = 'active'
          AND coalesce(
                (SELECT max(t.created_at) FROM trades t WHERE t.wallet = whales.address),
                first_listed_at
              ) < now() - to_days(CAST(? AS BIGINT))
        """,
        [after_days],
    ).fetchone()[0]  # type: ignore[index]
    return int(marked)


def reactivate_whales_with_recent_trades(
    conn: duckdb.DuckDBPyConnection, after_days: int, wallets: Iterable[str] | None = None
) -> int:
    """Inactive whales with a trade in the last ``after_days`` days become active again.

    The same rule as :func:`mark_inactive_whales`, so the two never disagree: a trade stored
    late but made recently reactivates, an old trade found by a backfill does not. Meant to run
    in the sync's write transaction right after its inserts; ``wallets`` limits the work to the
    wallets just written. Returns how many whales were reactivated.
    """
    wallet_filter = ""
    params: list[object] = []
    if wallets is not None:
        wallet_list = sorted(set(wallets))
        if not wallet_list:
            return 0
        wallet_filter = "AND address IN (SELECT unnest(CAST(? AS VARCHAR[])))"
        params.append(wallet_list)
    reactivated = conn.execute(
        f"""
        UPDATE whales SET status = 'active', inactive_since = NULL
        WHERE status = 'inactive' {wallet_filter}
          AND EXISTS (
                SELECT 1 FROM trades t
                WHERE t.wallet = whales.address
                  AND t.created_at >= now() - to_days(CAST(? AS BIGINT))
              )
        """,
        [*params, after_days],
    ).fetchone()[0]  # type: ignore[index]
    return int(reactivated)
