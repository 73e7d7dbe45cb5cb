"""The health report: one row per check of pipeline_health (its check results, not a table)."""

from opinion_pipeline.tables import Column, Table

HEALTH_REPORT = Table(
    name="health_report",
    description="One row per check of pipeline_health.",
    stored=False,
    columns=(
        Column("check_name", "VARCHAR",
               "warehouse_reachable, api_reachable, quarantine_growth, or table_size_<table>."),
        Column("passed", "BOOLEAN", "Whether the check passed."),
        Column("severity", "VARCHAR", "ERROR (broken now) or WARN (look soon)."),
        Column("rows", "BIGINT", "Row count, for the table_size checks."),
        Column("warn_above", "BIGINT", "Warning size of the table (OPINION_HEALTH_THRESHOLDS)."),
        Column("error_above", "BIGINT", "Error size of the table (OPINION_HEALTH_THRESHOLDS)."),
        Column("description", "VARCHAR", "What the check found, in one sentence."),
    ),
)  # fmt: skip
