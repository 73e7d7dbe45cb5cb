"""The whales table mirrors the registry file and records polling state (through the port)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pandas as pd

from opinion_pipeline.defs.whale_registry.registry_file import Whale
from opinion_pipeline.defs.whale_registry.tables import REGISTRY_EXCLUSIONS, WHALES
from opinion_pipeline.warehouse.port import NOW, WarehouseSession

EXCLUDE_TAG = "exclude"  # a registry line with this tag keeps its address out of the universe


@dataclass(frozen=True)
class RegistrySync:
    listed: int
    added: int
    removed: int
    excluded: int = 0


def _ago(**delta: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(**delta)


def sync_registry(session: WarehouseSession, entries: Sequence[Whale]) -> RegistrySync:
    """Upsert the registry's whales (pins); whales no longer listed keep their rows, flagged
    unlisted. Lines tagged ``exclude`` go to registry_exclusions and are never tracked.
    Discovered whales (source other than registry) are left to ``universe.merge_discovered``."""
    excluded = [whale for whale in entries if EXCLUDE_TAG in whale.tags]
    whales = [whale for whale in entries if EXCLUDE_TAG not in whale.tags]
    frame = pd.DataFrame(
        {
            "address": [whale.address for whale in whales],
            "label": [whale.label for whale in whales],
            "tags": [list(whale.tags) for whale in whales],
        },
        columns=["address", "label", "tags"],
    )
    upsert = session.upsert(
        WHALES,
        frame,
        on_insert={"first_listed_at": NOW, "admitted_at": NOW},
        always={
            "in_registry": True,
            "last_listed_at": NOW,
            "source": "registry",
            "discovery_dropped_at": None,
        },
    )
    removed = session.execute(
        """
        UPDATE whales SET in_registry = false
        WHERE in_registry AND source = 'registry' AND address NOT IN (SELECT unnest($listed))
        """,
        {"listed": list(frame["address"])},
    )
    removed += _exclude(session, excluded)
    return RegistrySync(
        listed=len(whales), added=upsert.inserted, removed=removed, excluded=len(excluded)
    )


def _exclude(session: WarehouseSession, excluded: Sequence[Whale]) -> int:
    """Replace registry_exclusions with the file's exclude lines; untrack those addresses."""
    addresses = [whale.address for whale in excluded]
    session.execute(
        "DELETE FROM registry_exclusions WHERE address NOT IN (SELECT unnest($addresses))",
        {"addresses": addresses},
    )
    if not addresses:
        return 0
    frame = pd.DataFrame(
        {"address": addresses, "label": [whale.label for whale in excluded]},
        columns=["address", "label"],
    )
    session.upsert(REGISTRY_EXCLUSIONS, frame, always={"listed_at": NOW})
    return session.execute(
        "UPDATE whales SET in_registry = false "
        "WHERE in_registry AND address IN (SELECT unnest($addresses))",
        {"addresses": addresses},
    )


def listed_whales(session: WarehouseSession) -> list[Whale]:
    """Whales the registry lists now, as last loaded, by address."""
    rows = session.query(
        "SELECT address, label, tags FROM whales WHERE in_registry ORDER BY address"
    )
    return [Whale(address=address, label=label, tags=tuple(tags)) for address, label, tags in rows]


def inactive_wallets_not_due(session: WarehouseSession, poll_minutes: int) -> set[str]:
    """Inactive (or discovery-dropped) whales polled less than ``poll_minutes`` ago: skipped."""
    rows = session.query(
        """
        SELECT address FROM whales
        WHERE (status = 'inactive' OR discovery_dropped_at IS NOT NULL)
          AND last_polled_at IS NOT NULL AND last_polled_at > $since
        """,
        {"since": _ago(minutes=poll_minutes)},
    )
    return {address for (address,) in rows}


def mark_polled(
    session: WarehouseSession, wallets: Iterable[str], *, at: float | None = None
) -> None:
    """Record a poll of ``wallets`` now, or at ``at`` (Unix seconds: a benchmark's clock)."""
    polled = sorted(set(wallets))
    if polled:
        session.execute(
            "UPDATE whales SET last_polled_at = coalesce(to_timestamp($at), now()) "
            "WHERE address IN (SELECT unnest($polled))",
            {"polled": polled, "at": at},
        )


def mark_inactive_whales(session: WarehouseSession, after_days: int) -> int:
    """Active whales with no trade in ``after_days`` days become inactive; returns how many.

    A whale that never traded counts from when it was first listed, so a new whale gets
    ``after_days`` days before it is polled less often.
    """
    return session.execute(
        """
        UPDATE whales SET status = 'inactive', inactive_since = now()
        WHERE status = 'active'
          AND coalesce(
                (SELECT max(t.created_at) FROM trades t WHERE t.wallet = whales.address),
                first_listed_at
              ) < $since
        """,
        {"since": _ago(days=after_days)},
    )


def reactivate_whales_with_recent_trades(
    session: WarehouseSession, after_days: int, wallets: Iterable[str] | None = None
) -> int:
    """Inactive whales with a trade in the last ``after_days`` days become active again.

    The same rule as :func:`mark_inactive_whales`, so the two never disagree: a trade stored
    late but made recently reactivates, an old trade found by a backfill does not. Meant to run
    in the sync's write transaction right after its inserts; ``wallets`` limits the work to the
    wallets just written. Returns how many whales were reactivated.
    """
    params: dict[str, object] = {"since": _ago(days=after_days)}
    wallet_filter = ""
    if wallets is not None:
        params["wallets"] = sorted(set(wallets))
        if not params["wallets"]:
            return 0
        wallet_filter = "AND address IN (SELECT unnest($wallets))"
    return session.execute(
        f"""
        UPDATE whales SET status = 'active', inactive_since = NULL
        WHERE status = 'inactive' {wallet_filter}
          AND EXISTS (
                SELECT 1 FROM trades t WHERE t.wallet = whales.address AND t.created_at >= $since
              )
        """,
        params,
    )
