"""The archive manifest: every Parquet file retention wrote, so nothing is archived twice."""

from opinion_pipeline.tables import TIMESTAMP, Column, RowLimits, Table

_UTC = "(UTC)"

ARCHIVE_MANIFEST = Table(
    name="archive_manifest",
    row_limits=RowLimits(warn=10_000, error=100_000),
    description="Every Parquet archive file: table, month, row count, time range, cutoff.",
    key=("file_path",),
    columns=(
        Column("file_path", "VARCHAR", "Parquet file, relative to the archive directory.",
               nullable=False),
        Column("table_name", "VARCHAR", "Table archived: trades or whale_activity.",
               nullable=False),
        Column("month", "VARCHAR", "Month (YYYY-MM of created_at) of the rows in the file.",
               nullable=False),
        Column("row_count", "BIGINT", "Rows in the file.", nullable=False),
        Column("min_created_at", TIMESTAMP, f"Oldest created_at in the file {_UTC}."),
        Column("max_created_at", TIMESTAMP, f"Newest created_at in the file {_UTC}."),
        Column("cutoff", TIMESTAMP, f"Retention cutoff of the run that wrote the file {_UTC}.",
               nullable=False),
        Column("archived_at", TIMESTAMP, f"When the file was written {_UTC}.",
               nullable=False),
        Column("run_id", "VARCHAR", "Dagster run that wrote the file."),
    ),
)  # fmt: skip
