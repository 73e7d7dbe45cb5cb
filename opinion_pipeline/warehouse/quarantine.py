"""Rows that failed validation, kept with the reason and the raw row as received."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import duckdb
import pandas as pd

from opinion_pipeline.tables import TIMESTAMP, Column, Table
from opinion_pipeline.validation import Reject

QUARANTINE = Table(
    name="quarantine",
    description="Rows that failed validation: entity, wallet, reason and the raw row.",
    key=("quarantine_key",),
    columns=(
        Column("quarantine_key", "VARCHAR", "Natural key: hash of entity, wallet and raw row.",
               nullable=False),
        Column("entity", "VARCHAR", "Kind of row rejected: trade or market.", nullable=False),
        Column("wallet", "VARCHAR", "Wallet whose trades were fetched; NULL for markets."),
        Column("reason", "VARCHAR", "Why validation rejected the row.", nullable=False),
        Column("raw_json", "VARCHAR", "The rejected row exactly as the API sent it, as JSON.",
               nullable=False),
        Column("first_seen_at", TIMESTAMP, "When the row was first rejected (UTC).",
               nullable=False),
        Column("run_id", "VARCHAR", "Dagster run that rejected the row."),
    ),
)  # fmt: skip


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
