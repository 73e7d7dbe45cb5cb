"""Rows that failed validation, kept with the reason and the raw row as received."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import duckdb
import pandas as pd

from opinion_pipeline.validation import Reject


def quarantine_rows(
    conn: duckdb.DuckDBPyConnection,
    entity: str,
    rejects: Sequence[tuple[str | None, Reject]],
    *,
    run_id: str | None,
) -> int:
    """Store (wallet, reject) pairs; the same raw row seen again is stored once. Returns new."""
    if not rejects:
        return 0
    raws = [reject.raw_json() for _, reject in rejects]
    frame = pd.DataFrame(
        {
            "quarantine_key": [
                hashlib.sha256(f"{entity}|{wallet}|{raw}".encode()).hexdigest()[:32]
                for (wallet, _), raw in zip(rejects, raws, strict=True)
            ],
            "wallet": [wallet for wallet, _ in rejects],
            "reason": [reject.reason for _, reject in rejects],
            "raw_json": raws,
        }
    ).drop_duplicates(subset="quarantine_key")
    conn.register("rejects", frame)
    try:
        inserted = conn.execute(
            """
            INSERT INTO quarantine
            SELECT quarantine_key, ?, wallet, reason, raw_json, now(), ? FROM rejects
            ON CONFLICT (quarantine_key) DO NOTHING
            """,
            [entity, run_id],
        ).fetchone()[0]  # type: ignore[index]
    finally:
        conn.unregister("rejects")
    return int(inserted)
