"""The schema version of the warehouse: which migrations a warehouse file has had."""

from opinion_pipeline.tables import TIMESTAMP, Column, Table

SCHEMA_VERSION = 5

SCHEMA_VERSION_TABLE = Table(
    name="schema_version",
    description="One row per warehouse schema version applied to this file.",
    key=("version",),
    columns=(
        Column("version", "INTEGER", "Schema version.", nullable=False),
        Column("applied_at", TIMESTAMP, "When it was applied (UTC).", nullable=False),
    ),
)
