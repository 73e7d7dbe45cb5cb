"""The quarantine table: rows that failed validation, with the reason and the raw row.

Every ingest dataset writes it through the port (``session.quarantine``). A row rejected once
and read valid later (a transient corruption, a re-read page) is marked resolved, with the key
of the stored row it turned out to be; only unresolved rows are losses (the health check and
the UI report those).
"""

from __future__ import annotations

from opinion_pipeline.tables import TIMESTAMP, Column, RowLimits, Table

QUARANTINE = Table(
    name="quarantine",
    row_limits=RowLimits(warn=100_000, error=1_000_000),
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
        Column("resolved_at", TIMESTAMP,
               "When the row was read valid later and stored (UTC); NULL while unresolved."),
        Column("resolved_to", "VARCHAR",
               "Key of the stored row it turned out to be (trade_key); NULL while unresolved."),
    ),
)  # fmt: skip
