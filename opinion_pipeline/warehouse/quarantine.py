"""The quarantine table: rows that failed validation, with the reason and the raw row.

Every ingest dataset writes it through the port (``session.quarantine``).
"""

from __future__ import annotations

from opinion_pipeline.tables import TIMESTAMP, Column, Table

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
